"""Hostile inputs found by an adversarial pass over the API: each gives a clear error (or
warning) naming the culprit, raised by bayescale itself, and writes nothing."""

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest

import bayescale as bs

FAST = {"draws": 20, "tune": 20, "chains": 1, "progressbar": False, "warn": False}


@pytest.fixture(scope="module")
def pinned():
    return bs.testing.pinned_fit(random_seed=0)


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(n=30, random_seed=1)


def _raised_by_bayescale(excinfo) -> bool:
    frames = traceback.extract_tb(excinfo.tb)
    return "bayescale" in frames[-1].filename.replace(os.sep, "/")


CASES = {
    # name: (callable(pinned, runs), exception, words the message must contain)
    "fit drift not a bool": (
        lambda f, r: bs.fit("chinchilla", r, drift="false", **FAST),
        TypeError,
        "drift",
    ),
    "fit drift None": (
        lambda f, r: bs.fit("chinchilla", r, drift=None, **FAST),
        TypeError,
        "drift",
    ),
    "fit groups a number": (
        lambda f, r: bs.fit("chinchilla", r, groups=123, **FAST),
        TypeError,
        "groups",
    ),
    "fit groups True": (
        lambda f, r: bs.fit("chinchilla", r, groups=True, **FAST),
        TypeError,
        "groups",
    ),
    "fit law None": (lambda f, r: bs.fit(None, r, **FAST), TypeError, "law"),
    "fit empty data": (lambda f, r: bs.fit("chinchilla", r.iloc[:0], **FAST), ValueError, "0 rows"),
    "vector prior on a scalar": (
        lambda f, r: bs.fit(
            "chinchilla", r, priors={"alpha": bs.Prior("Normal", mu=[0.3, 0.4], sigma=0.1)}, **FAST
        ),
        ValueError,
        "'alpha'",
    ),
    "summary ci_prob 1.5": (lambda f, r: f.summary(ci_prob=1.5), ValueError, "ci_prob"),
    "summary ci_prob 0": (lambda f, r: f.summary(ci_prob=0), ValueError, "ci_prob"),
    "summary ci_prob nan": (lambda f, r: f.summary(ci_prob=float("nan")), ValueError, "ci_prob"),
    "flops per token negative": (
        lambda f, r: bs.compute_optimal(f, 1e22, flops_per_param_token=-6),
        ValueError,
        "flops_per_param_token",
    ),
    "flops per token text": (
        lambda f, r: bs.compute_optimal(f, 1e22, flops_per_param_token="6"),
        ValueError,
        "flops_per_param_token",
    ),
    "compute as text": (
        lambda f, r: bs.compute_optimal(f, ["1e22", "abc"]),
        TypeError,
        "compute",
    ),
    "predict None": (lambda f, r: bs.predict_loss(None, N=1e9, D=1e10), TypeError, "Fit"),
    "predict bool N": (lambda f, r: bs.predict_loss(f, N=True, D=1e12), TypeError, "N"),
    "predict dict N": (lambda f, r: bs.predict_loss(f, N={"a": 1}, D=1e12), TypeError, "N"),
    "predict text seed": (
        lambda f, r: bs.predict_loss(f, N=1e9, D=1e10, kind="predictive", random_seed="a"),
        TypeError,
        "random_seed",
    ),
    "predict unknown group": (
        lambda f, r: bs.predict_loss(f, N=1e9, D=1e10, kind="predictive", groups={"zzz": 1}),
        ValueError,
        "zzz",
    ),
    "predict groups not a mapping": (
        lambda f, r: bs.predict_loss(f, N=1e9, D=1e10, kind="predictive", groups="experiment"),
        TypeError,
        "groups",
    ),
    "save to None": (lambda f, r: f.save(None), TypeError, "path"),
    "load None": (lambda f, r: bs.Fit.load(None), TypeError, "path"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_named(name, pinned, runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call, exc, words = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=None) as excinfo:
            call(pinned, runs)
    assert words in str(excinfo.value), str(excinfo.value)
    assert _raised_by_bayescale(excinfo), traceback.format_tb(excinfo.tb)[-1]
    assert os.listdir(tmp_path) == []  # nothing written


def test_group_values_are_checked_for_a_grouped_fit(runs):
    grouped = runs.assign(corpus=np.resize(["web", "code"], len(runs)))
    f = bs.fit("chinchilla", grouped, groups="corpus", drift=False, random_seed=0, **FAST)
    kw = {"N": [1e9, 2e9], "D": [1e10, 2e10], "kind": "predictive", "random_seed": 0}
    with pytest.raises(ValueError, match=r"groups\['corpus'\] has 3 values for 2 point"):
        bs.predict_loss(f, groups={"corpus": ["web", "code", "web"]}, **kw)
    with pytest.raises(ValueError, match="missing"):
        bs.predict_loss(f, groups={"corpus": [np.nan, "web"]}, **kw)
    with pytest.raises(ValueError, match="kind='predictive'"):
        bs.predict_loss(f, N=1e9, D=1e10, groups={"corpus": "web"})
    # one value for every point is fine, and a label of the fit uses its fitted offset
    draws = bs.predict_loss(f, groups={"corpus": "web"}, **kw)
    assert draws.sizes["point"] == 2


def test_loss_in_percent_warns(runs):
    with pytest.warns(bs.DataWarning, match="nats"):
        bs.fit("chinchilla", runs.assign(loss=runs["loss"] * 100), **FAST)


def test_unwritable_folder_names_the_target(pinned, tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "summary.csv"
    with pytest.raises(PermissionError, match=r"summary\.csv"):
        bs.export_summary(pinned, target)
    assert not target.exists()


def test_frame_with_data_warning_runs_with_pandas_frames():
    # a guard that the checks above do not refuse ordinary inputs
    f = bs.testing.pinned_fit(random_seed=0)
    out = bs.predict_loss(f, N=np.array([1e9, 2e9]), D=pd.Series([1e10, 2e10]))
    assert out.sizes["point"] == 2


def test_report_refuses_an_unknown_dataset_before_writing(pinned, tmp_path):
    with pytest.raises(ValueError, match="'nosuch' is not registered"):
        bs.report(pinned, tmp_path / "rep", compute=[1e22], dataset="nosuch")
    assert not (tmp_path / "rep").exists()


def test_compute_optimal_old_budget_name_maps_to_compute(pinned):
    with pytest.warns(FutureWarning, match="compute="):
        old = bs.compute_optimal(pinned, C=1e22)
    np.testing.assert_array_equal(old["N_opt"], bs.compute_optimal(pinned, 1e22)["N_opt"])


def test_cli_folder_as_data_is_named(tmp_path, capsys):
    from bayescale.cli import main

    (tmp_path / "adir").mkdir()
    code = main(["fit", "chinchilla", str(tmp_path / "adir"), "--out", str(tmp_path / "f.nc")])
    assert code == 2 and "is a folder" in capsys.readouterr().err


def test_fit_save_refuses_a_table_extension(pinned, tmp_path):
    with pytest.raises(ValueError, match=r"name the file fit\.nc"):
        pinned.save(tmp_path / "fit.csv")
    assert os.listdir(tmp_path) == []


def test_compare_to_card_takes_ci_prob(pinned):
    res = bs.compare_to_card(pinned, "besiroglu2024", ci_prob=0.8)
    assert "ci80_lo" in res.allocation.columns
    with pytest.raises(ValueError, match="ci_prob"):
        bs.compare_to_card(pinned, "besiroglu2024", ci_prob=1.0)


def test_card_as_priors_old_scale_name_warns_and_means_inflate():
    card = bs.load_card("besiroglu2024")
    with pytest.warns(FutureWarning, match="inflate"):
        old = card.as_priors(scale=3.0)
    assert old == card.as_priors(inflate=3.0)
    assert old["alpha"].params["sigma"] == pytest.approx(
        3 * card.as_priors()["alpha"].params["sigma"]
    )
