"""The CLI on stacks: ``bayescale stack`` and every fit-reading command on a stack folder."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.cli import main
from bayescale.export import read_summary, summary_table
from bayescale.testing import BESIROGLU_TRUTH, chinchilla_sampled, fit_from_draws


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two fits of the same runs saved as .nc files (Student-t and Normal likelihood)."""
    folder = tmp_path_factory.mktemp("stack_cli")
    runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    t = bs.testing.pinned_fit(random_seed=0, data=runs, chains=2, draws=100)

    def normal(ref):
        rng = np.random.default_rng(5)
        c = {**chinchilla_sampled({**BESIROGLU_TRUTH, "E": 1.85}, ref), "sigma": 0.012}
        return {k: v + 0.01 * abs(v) * rng.standard_normal((2, 100)) for k, v in c.items()}

    n = fit_from_draws("chinchilla", runs, normal, likelihood="normal", random_seed=1)
    return folder, t.save(str(folder / "t.nc")), n.save(str(folder / "n.nc"))


@pytest.fixture(scope="module")
def stack_dir(saved):
    folder, t, n = saved
    out = folder / "given"
    assert main(["stack", t, n, "--names", "t", "n", "--weights", "1", "3", "--out", str(out)]) == 0
    return out


def _error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bayescale: error: ") and "\n" not in err
    return err


def test_stack_command_given_and_loo_weights(saved, stack_dir, capsys):
    folder, t, n = saved
    capsys.readouterr()
    st = bs.load_stack(stack_dir)
    assert st.weights.to_dict() == {"t": 0.25, "n": 0.75}
    assert st.method == "given"
    # LOO stacking weights: the same as bs.stack on the loaded fits
    out = folder / "loo"
    assert main(["stack", t, n, "--out", str(out), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    api = bs.stack([bs.Fit.load(t), bs.Fit.load(n)], warn=False)
    loaded = bs.load_stack(out)
    np.testing.assert_allclose(loaded.weights.to_numpy(), api.weights.to_numpy(), rtol=1e-12)
    assert list(table.index) == ["chinchilla@1:studentt", "chinchilla@1:normal"]
    np.testing.assert_allclose(table["weight"], api.weights.to_numpy(), rtol=1e-9)
    # bad input: one line, exit code 2, nothing replaced
    assert "already holds a stack" in _error(capsys, ["stack", t, n, "--out", str(out)])
    assert "--weights gives 1 numbers for 2 fits" in _error(
        capsys, ["stack", t, n, "--out", str(folder / "x"), "--weights", "1"]
    )
    assert "saved stack" in _error(capsys, ["stack", t, str(out), "--out", str(folder / "y")])
    assert not (folder / "x").exists() and not (folder / "y" / "stack.json").exists()


def test_fit_commands_read_a_stack_folder(stack_dir, tmp_path, capsys):
    st = bs.load_stack(stack_dir)
    capsys.readouterr()
    # optimal: the mixture's table
    out = tmp_path / "opt.json"
    assert main(["optimal", str(stack_dir), "--compute", "1e22", "--format", "json",
                 "--out", str(out)]) == 0  # fmt: skip
    want = summary_table(bs.compute_optimal(st, [1e22]))
    pd.testing.assert_frame_equal(read_summary(out), want, check_exact=True)
    # predict: the mixture's median of the law's value
    assert main(["predict", str(stack_dir), "--at", "N=1e9,D=2e10", "--kind", "mean",
                 "--format", "csv"]) == 0  # fmt: skip
    row = pd.read_csv(io.StringIO(capsys.readouterr().out)).iloc[0]
    mixed = bs.predict_loss(st, N=1e9, D=2e10)
    assert row["loss_median"] == pytest.approx(float(np.median(mixed)), rel=1e-12)
    # summary: the members' table
    assert main(["summary", str(stack_dir), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    assert table["weight"].tolist() == [0.25, 0.75]
    # plan and plot run on the stack (report: test_stacking.py and the report test)
    assert main(["plan", str(stack_dir), "--budget", "1e22", "--outcomes", "4"]) == 0
    assert "Stack of `t` (0.25), `n` (0.75) fitted to 60 runs" in capsys.readouterr().out
    fig = tmp_path / "res.png"
    assert main(["plot", str(stack_dir), "residuals", "--out", str(fig)]) == 0
    assert fig.stat().st_size > 1000
    # a folder that is not a stack
    assert "not a fit file or a saved stack" in _error(capsys, ["summary", str(tmp_path)])
