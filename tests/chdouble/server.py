"""A ClickHouse test double: ClickHouse's HTTP interface, as ``clickhouse-connect`` uses it, in
front of ClickHouse's own engine (chdb) holding ClickPy's ``pypi`` database.

Run it with the chdb venv's python (``scripts/setup_chdb.sh``; chdb is not in the main venv)::

    .venv-chdb/bin/python tests/chdouble/server.py --port 8123 --data /tmp/ch --load DEMO_DIR

``--load`` (re)creates ``pypi`` from a demo dataset first (``loader.py``); without it the
double serves whatever ``--data`` holds. It listens only once the data is loaded.

Implemented (what clickhouse-connect 1.12 sends, read from its source and checked on the wire
by ``tests/test_chdouble.py``):

* ``POST /`` and ``GET /``: the query in the body, in the ``query`` argument, or both (joined
  by a newline, as ClickHouse does), or in ``multipart/form-data`` fields (the client's choice
  when bound parameters pass 4 KiB). ``GET /ping`` and a bare ``GET /`` answer ``Ok.``.
* ``param_<name>`` arguments go to chdb as server-side parameters for ``{name:Type}``; chdb
  parses them as ClickHouse does (escaped text). No value is ever formatted into SQL.
* ``database``, and settings arguments that ``system.settings`` names (values limited to
  ``[A-Za-z0-9_.,:+-]``): applied to that one query through chdb's connection string. The
  HTTP-only arguments (query_id, session_id, wait_end_of_query, client_protocol_version, …)
  and unknown names are ignored.
* The output format: the query's own ``FORMAT`` clause (the client appends ``Native``,
  ``Arrow``, ``ArrowStream``, ``JSON``), else ``default_format``, else ``TabSeparated``.
* Headers X-ClickHouse-Summary, -Server-Display-Name, -Query-Id, -Format, -Timezone; errors
  as ClickHouse sends them: X-ClickHouse-Exception-Code, a body ``Code: 62. DB::Exception: …
  (SYNTAX_ERROR) (version …)`` and ClickHouse's HTTP status for that error (400, 403, 404, 500…).
* Basic auth (or X-ClickHouse-User/-Key, or user/password arguments): only user ``play`` with
  an empty password, as on ClickPy's public endpoint; others get 516 AUTHENTICATION_FAILED.

Not implemented: sessions (SET and temporary tables do not outlive a request), compressed
answers (Accept-Encoding is ignored; the client reads plain answers), compressed, chunked or
external-data requests, streaming (each answer is built whole: no progress headers, no
mid-stream exception), the Native block info that ``client_protocol_version`` asks for (the
client falls back to protocol 0, as behind a proxy that drops the argument), ``result_rows``
in the summary, read-only mode, quotas, TLS. Unlike ClickHouse's HTTP interface, chdb runs
several ``;``-separated statements sent in one request.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

USER, PASSWORD = "play", ""

#: Arguments of ClickHouse's HTTP interface that are not engine settings.
TRANSPORT = frozenset(
    {
        "query", "database", "default_format", "user", "password", "quota_key", "query_id",
        "session_id", "session_timeout", "session_check", "client_protocol_version", "compress",
        "decompress", "buffer_size", "wait_end_of_query", "role", "stacktrace",
    }
)  # fmt: skip
SAFE_VALUE = re.compile(r"[A-Za-z0-9_.,:+-]*")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9]*)\s*;?\s*$", re.IGNORECASE)
#: Statements that have a result (ClickHouse sends X-ClickHouse-Format for these only).
RESULT_STATEMENT = re.compile(r"^\s*(SELECT|WITH|SHOW|DESC|EXISTS|EXPLAIN|\()", re.IGNORECASE)
#: chdb's own Python-side pseudo-formats, which do not answer bytes.
PSEUDO_FORMATS = frozenset({"arrowtable", "dataframe", "datastore", "debug"})

#: ClickHouse's HTTP status for an exception, by its name (exceptionCodeToHTTPStatus.cpp in
#: ClickHouse/ClickHouse); anything else is 500.
_STATUS = {
    400: "BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_TEXT CANNOT_PARSE_ESCAPE_SEQUENCE "
    "CANNOT_PARSE_QUOTED_STRING CANNOT_PARSE_DATE CANNOT_PARSE_DATETIME CANNOT_PARSE_NUMBER "
    "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING CANNOT_PARSE_IPV4 CANNOT_PARSE_IPV6 CANNOT_PARSE_UUID "
    "CANNOT_PARSE_INPUT_ASSERTION_FAILED DUPLICATE_COLUMN ILLEGAL_COLUMN THERE_IS_NO_COLUMN "
    "UNKNOWN_ELEMENT_IN_AST UNKNOWN_TYPE_OF_AST_NODE TOO_DEEP_AST TOO_BIG_AST SYNTAX_ERROR "
    "UNEXPECTED_AST_STRUCTURE INCORRECT_DATA TYPE_MISMATCH VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    401: "REQUIRED_PASSWORD",
    403: "UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED",
    404: "UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE "
    "UNKNOWN_DATABASE UNKNOWN_SETTING UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION "
    "UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE",
    408: "TIMEOUT_EXCEEDED",
    411: "HTTP_LENGTH_REQUIRED",
    413: "QUERY_IS_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    501: "NOT_IMPLEMENTED",
    503: "SOCKET_TIMEOUT CANNOT_OPEN_FILE CANNOT_SCHEDULE_TASK",
}
STATUS = {name: status for status, names in _STATUS.items() for name in names.split()}

CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
    "JSON": "application/json; charset=UTF-8",
}


class ClickHouseError(Exception):
    """An error to answer as ClickHouse would: code, name, message, HTTP status."""

    def __init__(self, code: int, name: str, text: str) -> None:
        super().__init__(text)
        self.code, self.name, self.text = code, name, text
        self.status = STATUS.get(name, 500)

    @classmethod
    def make(cls, code: int, name: str, message: str) -> ClickHouseError:
        return cls(code, name, f"Code: {code}. DB::Exception: {message}. ({name})")

    @classmethod
    def from_engine(cls, error: Exception) -> ClickHouseError:
        """chdb's message is ClickHouse's (``Code: N. DB::Exception: … (NAME)``), sometimes
        behind a prefix of its own ("Failed to create connection: ")."""
        text = str(error)
        text = text[text.find("Code: ") :] if "Code: " in text else text
        code = re.match(r"Code: (\d+)\.", text)
        name = re.findall(r"\(([A-Z][A-Z0-9_]+)\)", text)
        return cls(int(code.group(1)) if code else 1000, name[-1] if name else "", text)


class Double:
    """The engine: one chdb connection kept open (so the engine stays up), plus one short
    connection per request carrying that request's database and settings."""

    def __init__(self, data: Path, display_name: str) -> None:
        import chdb  # only in the chdb venv

        self._connect = chdb.connect
        self.path = str(data)
        self.display_name = display_name
        self.keeper = chdb.connect(self.path)
        version, self.timezone = self._text("SELECT version(), timezone()").split("\t")
        self.version = version
        self.settings = frozenset(self._text("SELECT name FROM system.settings").split())

    def _text(self, sql: str) -> str:
        return str(self.keeper.query(sql, "TabSeparated").bytes().decode().strip())

    def connection_string(self, arguments: dict[str, str]) -> str:
        """The data path plus this request's database and settings, validated: the string is
        parsed by chdb (``&`` and ``=`` separate), so only plain values may pass."""
        extra = []
        database = arguments.get("database", "")
        if database:
            if not IDENTIFIER.fullmatch(database):
                raise ClickHouseError.make(
                    81, "UNKNOWN_DATABASE", f"Database {database} does not exist"
                )
            extra.append(f"database={database}")
        for key, value in arguments.items():
            if key in TRANSPORT or key.startswith("param_") or key not in self.settings:
                continue  # ClickHouse would refuse an unknown setting (115); the double ignores it
            if not SAFE_VALUE.fullmatch(value):
                raise ClickHouseError.make(
                    36, "BAD_ARGUMENTS", f"The test double only passes plain setting values: {key}"
                )
            extra.append(f"{key}={value}")
        return self.path + ("?" + "&".join(extra) if extra else "")

    def run(self, sql: str, fmt: str, bind: dict[str, str], arguments: dict[str, str]) -> Any:
        try:
            conn = self._connect(self.connection_string(arguments))
        except ClickHouseError:
            raise
        except Exception as error:
            raise ClickHouseError.from_engine(error) from None
        try:
            return conn.query(sql, fmt, params=bind)
        except Exception as error:
            raise ClickHouseError.from_engine(error) from None
        finally:
            conn.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    double: Double


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            self.close_connection = True
            error = ClickHouseError.make(
                381, "HTTP_LENGTH_REQUIRED", "The test double needs a Content-Length"
            )
            self._fail(error, str(uuid.uuid4()))
            return
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        url = urlsplit(self.path)
        arguments = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = arguments.get("query_id") or str(uuid.uuid4())
        bare = self.command == "GET" and url.path == "/" and "query" not in arguments
        if url.path == "/ping" or bare:
            self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            return
        if url.path != "/":  # ClickHouse's answer starts so, then gives hints
            self._send(404, f"There is no handle {url.path}\n".encode(), {})
            return
        began = time.perf_counter()
        sql = ""
        try:
            self._authenticate(arguments)
            sql = self._query(body, arguments)
            bind = {
                k.removeprefix("param_"): v for k, v in arguments.items() if k.startswith("param_")
            }
            clause = FORMAT_CLAUSE.search(sql)
            default = arguments.get("default_format", "TabSeparated")
            if not IDENTIFIER.fullmatch(default) or default.lower() in PSEUDO_FORMATS:
                raise ClickHouseError.make(73, "UNKNOWN_FORMAT", f"Unknown format {default}")
            fmt = clause.group(1) if clause else default
            result = self.server.double.run(sql, default, bind, arguments)
        except ClickHouseError as error:
            self._log(error.status, began, sql)
            self._fail(error, query_id)
            return
        data = result.bytes()
        summary = {
            "read_rows": result.rows_read(),
            "read_bytes": result.bytes_read(),
            "written_rows": result.rows_written(),
            "written_bytes": result.bytes_written(),
            "total_rows_to_read": result.rows_read(),
            "result_bytes": len(data),
            "elapsed_ns": int(result.elapsed() * 1e9),
        }
        headers = self._common(query_id)
        headers["X-ClickHouse-Summary"] = json.dumps({k: str(v) for k, v in summary.items()})
        if clause or RESULT_STATEMENT.match(sql):
            headers["X-ClickHouse-Format"] = fmt
        base = fmt.removesuffix("WithNames").removesuffix("WithNamesAndTypes")
        headers["Content-Type"] = CONTENT_TYPES.get(
            "JSON" if base.startswith("JSON") else base, "application/octet-stream"
        )
        self._log(200, began, sql)
        self._send(200, data, headers)

    def _authenticate(self, arguments: dict[str, str]) -> None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        elif "X-ClickHouse-User" in self.headers:
            user, password = (
                self.headers["X-ClickHouse-User"],
                self.headers.get("X-ClickHouse-Key", ""),
            )
        else:
            user, password = arguments.get("user", "default"), arguments.get("password", "")
        if (user, password) != (USER, PASSWORD):
            raise ClickHouseError.make(
                516,
                "AUTHENTICATION_FAILED",
                f"{user}: Authentication failed: password is incorrect, "
                "or there is no user with such name",
            )

    def _query(self, body: bytes, arguments: dict[str, str]) -> str:
        """The SQL text; multipart form fields (query, param_*) join ``arguments``."""
        if self.headers.get("Content-Encoding", "identity") != "identity":
            raise ClickHouseError.make(48, "NOT_IMPLEMENTED", "Compressed requests")
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            for part in BytesParser(policy=HTTP).parsebytes(head + body).iter_parts():
                if part.get_filename():
                    raise ClickHouseError.make(48, "NOT_IMPLEMENTED", "External data")
                name = str(part.get_param("name", header="content-disposition"))
                arguments[name] = bytes(part.get_payload(decode=True)).decode()
            return arguments.get("query", "")
        try:
            text = body.decode()
        except UnicodeDecodeError:
            raise ClickHouseError.make(36, "BAD_ARGUMENTS", "The query is not UTF-8") from None
        query = arguments.get("query", "")
        return f"{query}\n{text}" if query and text else query or text

    def _common(self, query_id: str) -> dict[str, str]:
        double = self.server.double
        return {
            "X-ClickHouse-Server-Display-Name": double.display_name,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": double.timezone,
            "Keep-Alive": "timeout=10",
        }

    def _fail(self, error: ClickHouseError, query_id: str) -> None:
        headers = self._common(query_id)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        headers["X-ClickHouse-Exception-Code"] = str(error.code)
        body = f"{error.text} (version {self.server.double.version} (official build))\n"
        self._send(error.status, body.encode(), headers)

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, status: int, began: float, sql: str) -> None:
        first = " ".join(sql.split())[:100]
        ms = (time.perf_counter() - began) * 1000
        print(f"{status} {ms:7.1f} ms  {first}", file=sys.stderr, flush=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per query from _log instead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, required=True, help="chdb's data directory")
    parser.add_argument("--load", type=Path, help="(re)create pypi from this demo dataset")
    parser.add_argument("--display-name", default="chdouble")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"  # the server's timezone, as on ClickPy (chdb follows TZ)
    began = time.perf_counter()
    double = Double(args.data, args.display_name)
    if args.load:
        from loader import load_demo  # the sibling module (this directory is on sys.path)

        print(json.dumps({"loaded": load_demo(double.keeper, args.load)}), flush=True)
    server = Server((args.host, args.port), Handler)
    server.double = double
    ready = {
        "listening": f"http://{args.host}:{args.port}",
        "version": double.version,
        "start_seconds": round(time.perf_counter() - began, 3),
    }
    print(json.dumps(ready), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
