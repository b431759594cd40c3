"""Every app notebook executes headless against the demo data, and stays thin; the
analyst's exploration notebook (``explore.ipynb``) runs on the public API alone."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import SMALL

HERE = Path(__file__).resolve().parents[1] / "notebooks"
#: The apps (``NN_name.ipynb``); ``explore.ipynb`` is an analyst's notebook, not an app.
NOTEBOOKS = sorted(HERE.glob("[0-9]*.ipynb"))
EXPLORE = HERE / "explore.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_demo_data(path: Path, small_env: dict[str, str]) -> None:
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "one parameters cell"
    params[0].source += f'\nsource = "demo:{SMALL.seed}"\n'
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_hold_no_logic(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert len(code) <= 2
    assert all(len(src.splitlines()) <= 6 for src in code)
    assert "def " not in "".join(code) and "class " not in "".join(code)


def test_the_apps_are_found() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_investigate.ipynb",
        "02_research.ipynb",
        "03_report.ipynb",
    ]


def test_explore_notebook_runs_on_the_public_api(small_env: dict[str, str]) -> None:
    nb = nbformat.read(EXPLORE, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    imports = [line for line in code.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import workbench as wb"], imports  # the public face only
    assert "wb._" not in code and "workbench." not in code
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    outputs = {c.id: c.get("outputs", []) for c in nb.cells if c.cell_type == "code"}
    errors = [o for found in outputs.values() for o in found if o.output_type == "error"]
    assert not errors, errors
    printed = "".join(o.get("text", "") for o in outputs["investigate"])
    assert "downloads in" in printed and "[high]" in printed  # the screen's top is suspicious
    for chart in ("geography", "volume"):  # drawn as offline chart widgets
        data = outputs[chart][0]["data"]
        assert "application/vnd.jupyter.widget-view+json" in data, data.keys()
    frame = outputs["frames"][0]["data"]["text/plain"]
    assert "installer" in frame and "downloads" in frame
