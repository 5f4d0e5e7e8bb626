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
    # classes found by the hostile pass of issue 14 (one case per class)
    "fit mapping of unequal lengths": (
        lambda f, r: bs.fit("chinchilla", {"N": [1e8, 1e9], "D": [1e9] * 3, "loss": [3, 2]}),
        ValueError,
        "different lengths",
    ),
    "fit draws True": (lambda f, r: bs.fit("chinchilla", r, draws=True), ValueError, "draws"),
    "fit priors a string": (lambda f, r: bs.fit("chinchilla", r, priors="x"), TypeError, "priors"),
    "fit columns a string": (
        lambda f, r: bs.fit("chinchilla", r, columns="N=params"),
        TypeError,
        "columns",
    ),
    "fit two names one column": (
        lambda f, r: bs.fit("chinchilla", r.assign(x=r["N"]), columns={"N": "x", "D": "x"}),
        ValueError,
        "same column 'x'",
    ),
    "fit complex loss": (
        lambda f, r: bs.fit("chinchilla", r.assign(loss=r["loss"] + 1j)),
        ValueError,
        "complex",
    ),
    "fit dates as N": (
        lambda f, r: bs.fit("chinchilla", r.assign(N=pd.Timestamp("2020-01-01"))),
        ValueError,
        "dates",
    ),
    "Prior Uniform lower above upper": (
        lambda f, r: bs.Prior("Uniform", lower=1, upper=0),
        ValueError,
        "lower=1 must be below upper=0",
    ),
    "predict numeric text": (lambda f, r: bs.predict_loss(f, N="1e9", D=1e10), TypeError, "N"),
    "optimal numeric text": (lambda f, r: bs.compute_optimal(f, "1e22"), TypeError, "compute"),
    "predict negative numpy seed": (
        lambda f, r: bs.predict_loss(f, N=1e9, D=1e10, kind="predictive", random_seed=np.int64(-3)),
        ValueError,
        "random_seed",
    ),
    "simulate negative seed": (
        lambda f, r: bs.testing.simulate_chinchilla(n=10, random_seed=-1),
        ValueError,
        "random_seed",
    ),
    "decision function given None": (
        lambda f, r: bs.compute_for_loss(None, 2.0),
        TypeError,
        "compute_for_loss takes a fit",
    ),
    "decision_summary of text": (lambda f, r: bs.decision_summary("x"), TypeError, "Dataset"),
    "decision_summary ci_prob text": (
        lambda f, r: bs.decision_summary(bs.compute_for_loss(f, 2.0), ci_prob="0.9"),
        TypeError,
        "ci_prob",
    ),
    "report compute as text": (
        lambda f, r: bs.report(f, "rep", compute="1e22"),
        ValueError,
        "compute",
    ),
    "export path None": (lambda f, r: bs.export_summary(f, None), TypeError, "path"),
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


def test_cli_refuses_a_header_naming_a_column_twice(tmp_path, capsys):
    from bayescale.cli import main

    path = tmp_path / "runs.csv"
    path.write_text("N,D,loss,N\n1e8,2e9,3.1,1e8\n1e9,2e10,2.6,1e9\n")
    code = main(["fit", "chinchilla", str(path), "--out", str(tmp_path / "f.nc")])
    err = capsys.readouterr().err
    assert code == 2 and "'N' more than once" in err and err.count("\n") == 1
    assert not (tmp_path / "f.nc").exists()


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


# --------------------------------------------------------------- classes of problem (issue 14)
_FSIZE_SCRIPT = r"""
import os, resource, signal, sys
import bayescale as bs
fit = bs.testing.pinned_fit(random_seed=0, draws=50)
path = sys.argv[1]
fit.save(path)
before = open(path, "rb").read()
# the process would be killed by SIGXFSZ under its default action: bayescale must ignore it
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
try:
    bs.testing.pinned_fit(random_seed=1, draws=50).save(path)
except OSError as err:
    print("OSError", err)
else:
    print("saved")
assert open(path, "rb").read() == before, "the old file changed"
print("listing", sorted(os.listdir(os.path.dirname(path))))
"""


@pytest.mark.skipif(not hasattr(__import__("resource"), "RLIMIT_FSIZE"), reason="POSIX only")
def test_save_past_the_file_size_limit_fails_cleanly_and_keeps_the_old_file(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "fit.nc"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, "-c", _FSIZE_SCRIPT, str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]  # no segfault, no SIGXFSZ kill
    assert "OSError" in proc.stdout and "fit.nc" in proc.stdout and "size limit" in proc.stdout
    assert "listing ['fit.nc']" in proc.stdout  # no temporary left behind
    bs.Fit.load(target)  # the old file is whole and verifies


def _defaulted_scales(dist: str) -> list[str]:
    import inspect

    import pymc as pm

    params = inspect.signature(getattr(pm, dist).dist).parameters
    scale_names = ("sigma", "tau", "lam", "sd", "scale", "beta", "b", "s", "kappa", "phi")
    return [
        n for n in scale_names if n in params and params[n].default is not inspect.Parameter.empty
    ]


def test_every_pymc_distribution_with_a_defaulted_scale_is_classified():
    # a new PyMC distribution whose scale has a default must be sorted into "required" or
    # "allowed"; otherwise a forgotten sigma could fit with PyMC's sigma = 1 again
    from bayescale import priors

    unsorted = [
        d
        for d in priors._pymc_distributions()
        if _defaulted_scales(d)
        and d not in priors._SCALE_REQUIRED
        and d not in priors._DEFAULT_SCALE_ALLOWED
    ]
    assert not unsorted, unsorted


@pytest.mark.parametrize("dist", sorted(__import__("bayescale").priors._SCALE_REQUIRED))
def test_a_prior_without_its_scale_is_an_error_naming_it(dist):
    from bayescale import priors

    scales = priors._SCALE_REQUIRED[dist]
    others = {k: 1.0 for k in priors._signature(dist)[1]}  # e.g. StudentT's nu, AR's rho
    with pytest.raises(ValueError, match="missing scale parameter") as excinfo:
        bs.Prior(dist, **others)
    assert all(repr(s) in str(excinfo.value) for s in scales)
    assert _raised_by_bayescale(excinfo)


def test_a_prior_with_its_scale_is_accepted():
    assert bs.Prior("Normal", mu=0.3, sigma=0.1).params == {"mu": 0.3, "sigma": 0.1}
    assert bs.Prior("Normal", mu=0.3, tau=100.0).params["tau"] == 100.0
    assert bs.Prior("StudentT", nu=4, mu=0, lam=2.0).params["lam"] == 2.0
    with pytest.raises(ValueError, match="'sigma' or 'tau'"):
        bs.Prior.parse("Normal(mu=0.3)")


def test_cli_new_option_names_and_deprecated_aliases(tmp_path, pinned, capsys):
    from bayescale.cli import main

    path = tmp_path / "fit.nc"
    pinned.save(path)
    assert main(["optimal", str(path), "--compute", "1e22", "--ci-prob", "0.9"]) == 0
    new = capsys.readouterr()
    assert "deprecated" not in new.err
    assert main(["optimal", str(path), "--compute", "1e22", "--prob", "0.9"]) == 0
    old = capsys.readouterr()
    assert "--prob is deprecated" in old.err and "--ci-prob" in old.err
    assert old.out == new.out  # the alias means the same thing
    args = ["predict", str(path), "--at", "N=1e9,D=2e10", "--format", "csv"]
    assert main([*args, "--random-seed", "4"]) == 0
    new = capsys.readouterr()
    assert main([*args, "--seed", "4"]) == 0
    old = capsys.readouterr()
    assert "--seed is deprecated" in old.err and old.out == new.out
    for bad in (["--random-seed", "-1"], ["--random-seed", "1.5"], ["--ci-prob", "1"]):
        assert main([*args, *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and bad[0] in err, err


def test_writers_refuse_a_missing_folder(pinned, tmp_path, capsys):
    from bayescale.cli import main

    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match="no_such_folder does not exist"):
        pinned.save(missing / "fit.nc")
    with pytest.raises(FileNotFoundError, match="no_such_folder does not exist"):
        bs.export_summary(pinned, missing / "summary.csv")
    path = tmp_path / "fit.nc"
    pinned.save(path)
    assert main(["summary", str(path), "--out", str(missing / "s.md")]) == 2
    assert "no_such_folder does not exist" in capsys.readouterr().err
    assert not missing.exists()
    # (a report bundle is a folder of its own: bs.report creates it, see tests/test_report.py)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda f: bs.predict_loss(f, N=[], D=[]), "N"),
        (lambda f: bs.compute_optimal(f, compute=[]), "compute"),
        (lambda f: bs.compute_for_loss(f, target_loss=[]), "target_loss"),
        (lambda f: bs.inference_optimal(f, target_loss=[], inference_tokens=1e12), "target_loss"),
        (lambda f: bs.data_wall(f, available_tokens=[]), "available_tokens"),
        (lambda f: bs.overtraining_penalty(f, N=[], compute=1e22), "N"),
        (lambda f: bs.predict_loss(f, N=np.zeros((0, 2)), D=1e10), "N"),
        (lambda f: bs.compute_optimal(f, compute=None), "compute"),
    ],
)
def test_empty_or_missing_inputs_to_analysis_functions_are_named(pinned, call, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} ") as excinfo:
        call(pinned)
    assert _raised_by_bayescale(excinfo)


def test_a_failure_inside_the_sampler_is_restated_with_the_likely_cause(runs):
    # any error raised inside PyMC/PyTensor/nutpie reaches the user as one bayescale error
    # naming the law and, when the runs look wrong, the column (here a loss in percent); a value
    # nutpie itself refuses (a misspelt keyword is refused before, tests/test_fixes_stop21.py)
    with pytest.raises(ValueError, match="inside nutpie") as excinfo:
        with pytest.warns(bs.DataWarning, match="nats"):
            bs.fit("chinchilla", runs.assign(loss=runs["loss"] * 100), adaptation="bogus", **FAST)
    message = str(excinfo.value)
    assert "'bogus'" in message and "column 'loss'" in message and "percentage" in message
    assert _raised_by_bayescale(excinfo)


def test_a_parameter_check_failing_inside_the_sampler_is_a_rejected_step_not_a_panic(runs):
    # one run leaves the posterior wide: with this seed a trajectory reaches a point where the
    # Student-t's nu underflows to 0 and PyMC's parameter check raises inside nutpie's callback,
    # which used to panic the Rust sampler (pyo3 PanicException, a BaseException) mid-fit
    with pytest.warns(bs.SmallDataWarning, match="1 runs"):
        f = bs.fit("chinchilla", runs.iloc[:1], random_seed=0, **{**FAST, "draws": 50, "tune": 50})
    assert f.posterior.sizes["draw"] == 50
    assert np.isfinite(f.posterior["alpha"].to_numpy()).all()


def test_a_write_through_a_symlink_keeps_the_link(tmp_path):
    from bayescale.io import atomic_write_text

    real = tmp_path / "store" / "summary.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "summary.txt"
    link.symlink_to(real)
    assert atomic_write_text(link, "new") == str(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new" and sorted(os.listdir(real.parent)) == ["summary.txt"]
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "missing" / "x.txt")
    with pytest.raises(FileNotFoundError, match="missing"):
        atomic_write_text(dangling, "new")
    assert dangling.is_symlink()
