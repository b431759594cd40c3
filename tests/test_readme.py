"""The README's Python quickstart runs as written, on the demo data, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.sources.frozen import FrozenSource

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart() -> str:
    """The README's first ```python block under "Python API"."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the Python API section has no python block"
    return str(blocks[0])


def test_the_quickstart_uses_only_the_public_api() -> None:
    code = quickstart()
    imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import workbench as wb"]
    assert len(code.splitlines()) <= 20  # short


@pytest.mark.slow
def test_the_quickstart_runs_on_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {"__name__": "readme"}
    exec(compile(quickstart(), str(README), "exec"), scope)
    printed = capsys.readouterr().out
    assert "Suspicion high" in printed and "[high]" in printed
    assert "openjuniper-io" in printed and "nimbus" in printed
    assert FrozenSource(tmp_path / "case-openjuniper-io").package == "openjuniper-io"
