"""Acceptance on the real data: the 240-run refit against Besiroglu et al. (2024)."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs

pytestmark = pytest.mark.slow

FIVE = ["A", "B", "E", "alpha", "beta"]


def test_medians_inside_bootstrap_intervals(protocol_fit):
    card = bs.load_card("besiroglu2024")
    s = protocol_fit.summary()
    for name in FIVE:
        lo, hi = card.ci95[name]
        assert lo <= s.loc[name, "median"] <= hi, (name, s.loc[name, "median"], (lo, hi))


def test_convergence(protocol_fit):
    s = protocol_fit.summary()
    assert protocol_fit.divergences == 0
    assert (s.loc[FIVE, "r_hat"] <= 1.01).all(), s.loc[FIVE, "r_hat"]
    assert (s.loc[FIVE, "ess_bulk"] >= 1000).all(), s.loc[FIVE, "ess_bulk"]
    assert (s.loc[FIVE, "ess_tail"] >= 1000).all(), s.loc[FIVE, "ess_tail"]


def test_hoffmann_values_outside_99_percent(protocol_fit):
    post = protocol_fit.posterior
    for name, value in (("beta", 0.28), ("E", 1.69)):
        lo, hi = np.quantile(post[name].to_numpy(), [0.005, 0.995])
        assert not lo <= value <= hi, (name, lo, hi)


def test_tokens_per_param_at_chinchilla_budget(protocol_fit):
    opt = bs.compute_optimal(protocol_fit, compute=5.88e23)
    ratio = float(opt["tokens_per_param"].median())
    assert 15 <= ratio <= 25, ratio


def test_example_script_writes_table_and_figure(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "besiroglu_refit.py"
    spec = importlib.util.spec_from_file_location("besiroglu_refit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (
        module.main(["--out", str(tmp_path), "--draws", "300", "--tune", "300", "--no-progress"])
        == 0
    )
    out = capsys.readouterr().out
    assert "Besiroglu estimate" in out and "D*/N*" in out
    for name in ("summary.csv", "summary.md", "tokens_per_param.png"):
        assert (tmp_path / name).stat().st_size > 0
    import pandas as pd

    table = pd.read_csv(tmp_path / "summary.csv", index_col=0)
    assert list(table.columns)[:8] == [
        "mean",
        "sd",
        "median",
        "ci95_lo",
        "ci95_hi",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    ]
