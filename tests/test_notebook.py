"""examples/quickstart.ipynb runs end to end (load → fit → summary → optimal → plots → report)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_executes(tmp_path, chinchilla_runs):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel must run this interpreter (jupyter_client maps the spec's "python" to it)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    env = {**os.environ, "MPLBACKEND": "Agg"}
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)

    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs).strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # no warning in any output (with the default sampler settings the fit converges cleanly)
    warned = [
        o.get("text", "")
        for o in outputs
        if o.output_type == "stream" and "Warning" in o.get("text", "")
    ]
    assert not warned, warned
    out = tmp_path / "results" / "quickstart"
    for name in (
        "report.md",
        "report.html",
        "summary.csv",
        "summary.json",
        "optimal.csv",
        "optimal.tex",
        "fit.png",
        "frontier.png",
        "params.png",
        "residuals.png",
        "tokens_per_param.png",
    ):
        assert (out / name).is_file(), name
    fit_cell = next(c for c in nb.cells if c.source.startswith("fit = bs.fit("))
    shown = [o for o in fit_cell.outputs if o.output_type == "execute_result"]
    assert shown and "text/html" in shown[0]["data"]  # the fit's HTML card
