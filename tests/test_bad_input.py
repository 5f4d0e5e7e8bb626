"""Hostile input never corrupts a result or a file.

Every case feeds one bad input to the API or the command line and checks that

* the right exception (or warning) comes out, or, on the command line, exit code 2 with one line
  ``bayescale: error: ...`` on stderr;
* the message names the culprit: the parameter, column, rows, option or path;
* for exceptions, the traceback's last frame is bayescale's own code, not a dependency
  (pymc, pytensor, numpy, pandas, h5py, xarray): the input was checked, not tripped over;
* no existing file changed and none appeared (no temporary left behind): every file of the
  workspace is hashed before and after.

No MCMC: the fits are pinned (``bayescale.testing``) and saved once per session.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import h5py
import numpy as np
import pandas as pd
import pytest

import bayescale as bs
from bayescale.cli import main
from bayescale.data import prepare_data
from bayescale.export import export_summary
from bayescale.io import load_fit, save_fit
from bayescale.priors import Prior, merge_priors

PACKAGE = Path(bs.__file__).resolve().parent
DEPENDENCIES = ("pymc", "pytensor", "numpy", "pandas", "h5py", "h5netcdf", "xarray", "scipy")


# ---------------------------------------------------------------------------------- fixtures
def _user_law(expression: Callable) -> bs.ScalingLaw:
    return bs.ScalingLaw(
        name="bad_input_user_law",
        version="1",
        inputs=("N",),
        parameters=(
            bs.Parameter("log_E", Prior("Normal", mu=0.5, sigma=1.0)),
            bs.Parameter("log_A", Prior("Normal", mu=2.0, sigma=3.0)),
            bs.Parameter("alpha", Prior("LogNormal", mu=-1.2, sigma=0.7)),
        ),
        expression=expression,
    )


def _original_expression(xp, x, q):
    return xp.logaddexp(q["log_E"], q["log_A"] - q["alpha"] * xp.log(x["N"]))


def _edited_expression(xp, x, q):  # the "same" law after someone changed its formula
    return xp.logaddexp(q["log_E"], q["log_A"] - 2 * q["alpha"] * xp.log(x["N"]))


@pytest.fixture(scope="session")
def assets(tmp_path_factory):
    """Files made once: fits, runs, an exported table, a report bundle, damaged copies."""
    from test_report import _pinned_data_constrained_fit

    root = tmp_path_factory.mktemp("bad_input_assets")
    fit = bs.testing.pinned_fit(random_seed=0)
    fit.save(root / "fit.nc")
    _pinned_data_constrained_fit().save(root / "dc.nc")
    bs.testing.simulate_chinchilla(60, random_seed=0).to_csv(root / "runs.csv", index=False)
    export_summary(fit, root / "summary.csv")
    export_summary(fit, root / "opt.json")
    bs.report(fit, root / "report", compute=[1e22])
    (root / "a-file").write_text("not a folder\n")
    (root / "latin1.csv").write_bytes("N,D,loss,note\n1e9,2e10,2.5,caf\xe9\n".encode("latin-1"))
    (root / "bad-table.csv").write_bytes(bytes(range(128, 256)))
    (root / "text.nc").write_text("hello, not NetCDF\n")
    (root / "empty.nc").write_bytes(b"")
    data = (root / "fit.nc").read_bytes()
    (root / "truncated.nc").write_bytes(data[: len(data) // 2])
    shutil.copy(root / "fit.nc", root / "edited.nc")
    with h5py.File(root / "edited.nc", "a") as handle:
        values = handle["posterior/alpha"][...]
        values[0, 0] = 0.9
        handle["posterior/alpha"][...] = values

    # a user-defined law whose expression is edited after a fit of it was saved
    law = bs.register_law(_user_law(_original_expression), overwrite=True)
    runs = bs.testing.chinchilla_design(20, random_seed=1)[["N"]].assign(loss=3.0)
    centre = {"log_E": 0.6, "log_A": 3.0, "alpha": 0.25, "sigma": 0.01, "nu": 5.0}
    draws = {k: np.full((1, 5), v) for k, v in centre.items()}
    bs.testing.fit_from_draws(law, runs, draws).save(root / "user.nc")
    return SimpleNamespace(root=root, fit=fit)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ws(assets, tmp_path):
    """A copy of the assets; ``ws.unchanged()`` asserts every file is as it was, none added."""
    root = tmp_path / "ws"
    shutil.copytree(assets.root, root)
    before = _digest(root)

    def unchanged() -> None:
        after = _digest(root)
        assert sorted(after) == sorted(before), "files appeared or vanished"
        changed = [k for k in before if before[k] != after[k]]
        assert not changed, f"files changed: {changed}"

    return SimpleNamespace(root=root, fit=assets.fit, unchanged=unchanged, p=lambda n: root / n)


def _own_frame(excinfo: pytest.ExceptionInfo) -> None:
    """The exception was raised by bayescale, not inside a dependency."""
    path = Path(str(excinfo.traceback[-1].path)).resolve()
    parts = set(path.parts)
    assert "site-packages" not in parts or not parts & set(DEPENDENCIES), path
    assert path.is_relative_to(PACKAGE), f"raised in {path}, not in bayescale"


def _chinchilla():
    return bs.get_law("chinchilla")


def _all_defaults(law="chinchilla", likelihood="studentt"):
    law = bs.get_law(law)
    return {**law.default_priors, **bs.get_likelihood(likelihood).noise_priors}


def _runs(n=12, seed=0):
    return bs.testing.simulate_chinchilla(n, random_seed=seed)


# ---------------------------------------------------------------------------------- API errors
# (id, call(ws), exception type, substrings the message must contain)
API_CASES: list[tuple[str, Callable, type, list[str]]] = [
    # priors: keywords PyMC does not take
    (
        "normal-sd",
        lambda w: Prior("Normal", mu=0.3, sd=0.1),
        ValueError,
        ["'sd'", "'sigma'", "mu, sigma, tau"],
    ),
    (
        "lognormal-sd",
        lambda w: Prior("LogNormal", mu=-1, sd=0.5),
        ValueError,
        ["'sd'", "LogNormal", "mu, sigma, tau"],
    ),
    ("halfnormal-sd", lambda w: Prior("HalfNormal", sd=0.5), ValueError, ["'sd'", "sigma, tau"]),
    ("normal-mean", lambda w: Prior("Normal", mean=0.3, sigma=0.1), ValueError, ["'mean'", "'mu'"]),
    ("normal-std", lambda w: Prior("Normal", mu=0.3, std=0.1), ValueError, ["'std'", "'sigma'"]),
    (
        "studentt-sd",
        lambda w: Prior("StudentT", nu=3, mu=0, sd=1),
        ValueError,
        ["'sd'", "nu, mu, sigma, lam"],
    ),
    (
        "gamma-rate",
        lambda w: Prior("Gamma", alpha=2, rate=1),
        ValueError,
        ["'rate'", "alpha, beta, mu, sigma"],
    ),
    (
        "exponential-beta",
        lambda w: Prior("Exponential", beta=1.0),
        ValueError,
        ["'beta'", "lam, scale"],
    ),
    # priors: values
    (
        "sigma-negative",
        lambda w: Prior("Normal", mu=0, sigma=-0.1),
        ValueError,
        ["sigma=-0.1", "> 0"],
    ),
    ("sigma-zero", lambda w: Prior("Normal", mu=0, sigma=0), ValueError, ["sigma=0", "> 0"]),
    (
        "sigma-nan",
        lambda w: Prior("HalfNormal", sigma=float("nan")),
        ValueError,
        ["sigma=nan", "finite"],
    ),
    (
        "sigma-inf",
        lambda w: Prior("LogNormal", mu=0, sigma=float("inf")),
        ValueError,
        ["sigma=inf", "finite"],
    ),
    (
        "sigma-string",
        lambda w: Prior("Normal", mu=0.3, sigma="0.1"),
        ValueError,
        ["sigma='0.1'", "string"],
    ),
    (
        "mu-string",
        lambda w: Prior("Normal", mu="zero", sigma=1),
        ValueError,
        ["mu='zero'", "string"],
    ),
    (
        "sigma-bool",
        lambda w: Prior("Normal", mu=0, sigma=True),
        ValueError,
        ["sigma=True", "boolean"],
    ),
    ("mu-mixed-list", lambda w: Prior("Normal", mu=[0, "a"], sigma=1), ValueError, ["mu=[0, 'a']"]),
    ("tau-negative", lambda w: Prior("Normal", mu=0, tau=-1.0), ValueError, ["tau=-1.0", "> 0"]),
    (
        "gamma-alpha-negative",
        lambda w: Prior("Gamma", alpha=-2, beta=0.1),
        ValueError,
        ["alpha=-2", "Gamma"],
    ),
    ("gamma-beta-zero", lambda w: Prior("Gamma", alpha=2, beta=0), ValueError, ["beta=0", "Gamma"]),
    ("exponential-lam", lambda w: Prior("Exponential", lam=-1), ValueError, ["lam=-1", "> 0"]),
    (
        "exponential-scale",
        lambda w: Prior("Exponential", scale=0.0),
        ValueError,
        ["scale=0.0", "> 0"],
    ),
    ("studentt-nu", lambda w: Prior("StudentT", nu=0, mu=0, sigma=1), ValueError, ["nu=0", "> 0"]),
    (
        "halfcauchy-beta",
        lambda w: Prior("HalfCauchy", beta=-1),
        ValueError,
        ["beta=-1", "HalfCauchy"],
    ),
    ("beta-alpha", lambda w: Prior("Beta", alpha=0, beta=1), ValueError, ["alpha=0", "Beta"]),
    (
        "shape-negative",
        lambda w: Prior("Normal", mu=0, sigma=1, shape=-2),
        ValueError,
        ["shape=-2"],
    ),
    (
        "gamma-half-parameterised",
        lambda w: Prior("Gamma", alpha=2.0),
        ValueError,
        ["Gamma(alpha=2.0)", "alpha and beta"],
    ),
    (
        "studentt-no-nu",
        lambda w: Prior("StudentT", mu=0, sigma=1),
        ValueError,
        ["'nu'", "StudentT"],
    ),
    # priors: names of distributions
    ("dist-typo", lambda w: Prior("Nromal", mu=0, sigma=1), ValueError, ["'Nromal'", "'Normal'"]),
    ("dist-case", lambda w: Prior("normal", mu=0, sigma=1), ValueError, ["'normal'", "'Normal'"]),
    (
        "dist-short",
        lambda w: Prior("HalfNorml", sigma=1),
        ValueError,
        ["'HalfNorml'", "'HalfNormal'"],
    ),
    ("dist-empty", lambda w: Prior("", mu=0), ValueError, ["distribution name"]),
    (
        "dist-not-a-distribution",
        lambda w: Prior("Model"),
        ValueError,
        ["'Model'", "not a PyMC distribution"],
    ),
    # priors: parsing and round trips
    ("parse-sd", lambda w: Prior.parse("Normal(mu=0.3, sd=0.1)"), ValueError, ["'sd'", "'sigma'"]),
    ("parse-name", lambda w: Prior.parse("Normal(mu=0.3, sigma=x)"), ValueError, ["sigma=x"]),
    ("parse-negative", lambda w: Prior.parse("HalfNormal(sigma=-1)"), ValueError, ["sigma=-1"]),
    ("fixed-string", lambda w: Prior.fixed("abc"), ValueError, ["value='abc'"]),
    ("fixed-nan", lambda w: Prior.fixed(float("nan")), ValueError, ["value=nan", "finite"]),
    ("from-dict-no-dist", lambda w: Prior.from_dict({"mu": 0}), ValueError, ["'dist'"]),
    ("from-dict-sd", lambda w: Prior.from_dict({"dist": "Normal", "sd": 1}), ValueError, ["'sd'"]),
    # priors merged with a law's parameters: fixed values outside the support
    (
        "fixed-alpha-negative",
        lambda w: merge_priors(_chinchilla().default_priors, {"alpha": Prior.fixed(-0.3)}),
        ValueError,
        ["'alpha'", "-0.3", "(0, inf)"],
    ),
    (
        "fixed-beta-zero",
        lambda w: merge_priors(_chinchilla().default_priors, {"beta": Prior.fixed(0.0)}),
        ValueError,
        ["'beta'", "(0, inf)"],
    ),
    (
        "bare-number-alpha",
        lambda w: merge_priors(_chinchilla().default_priors, {"alpha": -0.1}),
        ValueError,
        ["'alpha'", "-0.1"],
    ),
    (
        "fixed-sigma-negative",
        lambda w: merge_priors(_all_defaults(), {"sigma": Prior.fixed(-0.01)}),
        ValueError,
        ["'sigma'", "(0, inf)"],
    ),
    (
        "fixed-nu-zero",
        lambda w: merge_priors(_all_defaults(), {"nu": 0}),
        ValueError,
        ["'nu'", "(0, inf)"],
    ),
    (
        "fixed-floor-above-one",
        lambda w: merge_priors(bs.get_law("emergence").default_priors, {"floor": 1.5}),
        ValueError,
        ["'floor'", "(0, 1)"],
    ),
    (
        "dict-override-sd",
        lambda w: merge_priors(
            _chinchilla().default_priors, {"alpha": {"dist": "Normal", "sd": 0.1}}
        ),
        ValueError,
        ["'alpha'", "'sd'"],
    ),
    (
        "unknown-prior-name",
        lambda w: merge_priors(_chinchilla().default_priors, {"alpah": Prior.fixed(0.3)}),
        ValueError,
        ["'alpah'", "'alpha'"],
    ),
    (
        "override-wrong-type",
        lambda w: merge_priors(_chinchilla().default_priors, {"alpha": "Normal(0, 1)"}),
        TypeError,
        ["'alpha'", "str"],
    ),
    (
        "fit-fixed-alpha",
        lambda w: bs.fit("chinchilla", _runs(), priors={"alpha": Prior.fixed(-0.3)}),
        ValueError,
        ["'alpha'", "(0, inf)"],
    ),
    (
        "fit-prior-dict-sd",
        lambda w: bs.fit(
            "chinchilla", _runs(), priors={"beta": {"dist": "LogNormal", "mu": 0, "sd": 1}}
        ),
        ValueError,
        ["'beta'", "'sd'"],
    ),
    # data refused before any model is built
    (
        "data-nan",
        lambda w: bs.fit(
            "chinchilla", _runs().assign(N=np.r_[np.nan, _runs()["N"].to_numpy()[1:]])
        ),
        ValueError,
        ["column 'N'", "NaN", "row(s): 0"],
    ),
    (
        "data-negative",
        lambda w: bs.fit("chinchilla", _runs().assign(D=np.r_[-1.0, _runs()["D"].to_numpy()[1:]])),
        ValueError,
        ["column 'D'", "> 0", "(-1.0)"],
    ),
    (
        "data-string",
        lambda w: bs.fit(
            "chinchilla", _runs().astype({"loss": object}).assign(loss=["x"] + [2.5] * 11)
        ),
        ValueError,
        ["column 'loss'", "non-numeric", "('x')"],
    ),
    (
        "data-missing-column",
        lambda w: bs.fit("chinchilla", _runs().drop(columns="D")),
        ValueError,
        ["missing column 'D'"],
    ),
    (
        "data-not-a-table",
        lambda w: prepare_data(_chinchilla(), [1, 2, 3]),
        TypeError,
        ["DataFrame", "list"],
    ),
    # saving a fit
    (
        "save-onto-folder",
        lambda w: w.fit.save(w.p("report")),
        IsADirectoryError,
        ["report", "directory"],
    ),
    (
        "save-under-a-file",
        lambda w: w.fit.save(w.p("a-file") / "fit.nc"),
        NotADirectoryError,
        ["a-file", "not a directory"],
    ),
    ("save-not-a-fit", lambda w: save_fit("fit", w.p("fit.nc")), TypeError, ["Fit", "str"]),
    # exporting tables
    (
        "export-extension",
        lambda w: export_summary(w.fit, w.p("summary.xlsx")),
        ValueError,
        ["summary.xlsx", "extension"],
    ),
    (
        "export-digits-negative",
        lambda w: export_summary(w.fit, w.p("summary.csv"), digits=-3),
        ValueError,
        ["digits", "-3"],
    ),
    (
        "export-digits-zero",
        lambda w: export_summary(w.fit, w.p("summary.csv"), digits=0),
        ValueError,
        ["digits", "0"],
    ),
    (
        "export-prob",
        lambda w: export_summary(w.fit, w.p("summary.csv"), ci_prob=1.5),
        ValueError,
        ["prob", "1.5"],
    ),
    (
        "export-not-a-table",
        lambda w: export_summary([1, 2], w.p("summary.csv")),
        TypeError,
        ["Fit, a result object, a DataFrame", "list"],
    ),
    (
        "export-onto-folder",
        lambda w: export_summary(w.fit, w.p("report")),
        ValueError,
        ["report", "extension"],
    ),
    (
        "export-onto-folder-csv",
        lambda w: (
            (w.p("report") / "x.csv").mkdir() or export_summary(w.fit, w.p("report") / "x.csv")
        ),
        IsADirectoryError,
        ["x.csv", "directory"],
    ),
    # loading damaged files
    (
        "load-truncated",
        lambda w: load_fit(w.p("truncated.nc")),
        ValueError,
        ["truncated.nc", "truncated"],
    ),
    (
        "load-empty",
        lambda w: load_fit(w.p("empty.nc")),
        ValueError,
        ["empty.nc", "not a readable NetCDF"],
    ),
    (
        "load-text",
        lambda w: load_fit(w.p("text.nc")),
        ValueError,
        ["text.nc", "not a readable NetCDF"],
    ),
    (
        "load-csv",
        lambda w: bs.Fit.load(w.p("runs.csv")),
        ValueError,
        ["runs.csv", "not a readable NetCDF"],
    ),
    (
        "load-edited-posterior",
        lambda w: bs.Fit.load(w.p("edited.nc")),
        ValueError,
        ["edited.nc", "posterior", "checksum"],
    ),
    ("load-folder", lambda w: load_fit(w.p("report")), IsADirectoryError, ["report", "directory"]),
    ("load-missing", lambda w: load_fit(w.p("nope.nc")), FileNotFoundError, ["nope.nc"]),
    (
        "load-law-changed",
        lambda w: (
            bs.register_law(_user_law(_edited_expression), overwrite=True)
            and load_fit(w.p("user.nc"))
        ),
        ValueError,
        ["user.nc", "bad_input_user_law@1", "expression"],
    ),
    # report arguments, checked before anything is written
    (
        "report-negative-budget",
        lambda w: bs.report(w.fit, w.p("new-report"), compute=[-1e22]),
        ValueError,
        ["compute", "-1e+22"],
    ),
    (
        "report-no-budget",
        lambda w: bs.report(w.fit, w.p("new-report"), compute=[]),
        ValueError,
        ["compute", "one or more"],
    ),
    (
        "report-text-budget",
        lambda w: bs.report(w.fit, w.p("new-report"), compute=["lots"]),
        ValueError,
        ["compute", "'lots'"],
    ),
    (
        "report-nan-budget",
        lambda w: bs.report(w.fit, w.p("report"), compute=[1e22, float("nan")]),
        ValueError,
        ["compute", "nan"],
    ),
    (
        "report-prob-high",
        lambda w: bs.report(w.fit, w.p("report"), ci_prob=1.5),
        ValueError,
        ["prob", "1.5"],
    ),
    (
        "report-prob-zero",
        lambda w: bs.report(w.fit, w.p("report"), ci_prob=0),
        ValueError,
        ["prob", "0"],
    ),
    (
        "report-fixed-unknown",
        lambda w: bs.report(w.fit, w.p("report"), fixed={"Q": 1.0}),
        ValueError,
        ["'Q'", "fixed="],
    ),
    (
        "report-fixed-negative",
        lambda w: bs.report(bs.Fit.load(w.p("dc.nc")), w.p("report"), fixed={"U": -5.0}),
        ValueError,
        ["fixed['U']", "-5.0"],
    ),
    (
        "report-fixed-text",
        lambda w: bs.report(bs.Fit.load(w.p("dc.nc")), w.p("report"), fixed={"U": "many"}),
        ValueError,
        ["fixed['U']", "'many'"],
    ),
    (
        "report-into-a-file",
        lambda w: bs.report(w.fit, w.p("a-file")),
        NotADirectoryError,
        ["a-file", "not a folder"],
    ),
    (
        "report-under-a-file",
        lambda w: bs.report(w.fit, w.p("a-file") / "rep"),
        NotADirectoryError,
        ["a-file", "not a folder"],
    ),
    (
        "report-unknown-card",
        lambda w: bs.report(w.fit, w.p("report"), cards=["hofmann2022"]),
        ValueError,
        ["hofmann2022", "hoffmann2022"],
    ),
    ("report-title", lambda w: bs.report(w.fit, w.p("report"), title=5), TypeError, ["title", "5"]),
    ("report-not-a-fit", lambda w: bs.report("fit.nc", w.p("report")), TypeError, ["Fit", "str"]),
    # classes found by the hostile pass of issue 14 (round 2): one representative each
    (
        "seed-beyond-64-bit",
        lambda w: _predictive(w, random_seed=2**70),
        ValueError,
        ["random_seed", "2**64"],
    ),
    (
        "prior-predictive-seed-float",
        lambda w: bs.prior_predictive("chinchilla", _runs(), draws=20, random_seed=1.5),
        TypeError,
        ["random_seed", "1.5"],
    ),
    (
        "prior-predictive-seed-negative",
        lambda w: bs.prior_predictive("chinchilla", _runs(), draws=20, random_seed=-2),
        ValueError,
        ["random_seed", "-2"],
    ),
    (
        "next-runs-seed-negative",
        lambda w: bs.next_runs(w.fit, [(1e8, 2e9)], compute=1e22, random_seed=-1),
        ValueError,
        ["random_seed"],
    ),
    (
        "next-runs-refit-text",
        lambda w: bs.next_runs(w.fit, [(1e8, 2e9)], compute=1e22, refit="no"),
        TypeError,
        ["refit", "True or False"],
    ),
    (
        "next-runs-candidates-text",
        lambda w: bs.next_runs(w.fit, "grid", compute=1e22),
        TypeError,
        ["candidates", "'grid'"],
    ),
    (
        "plan-rules-negative",
        lambda w: bs.plan(w.fit, compute=1e22, rules=[-20.0]),
        ValueError,
        ["rules", "-20.0"],
    ),
    (
        "compute-for-loss-bounds-swapped",
        lambda w: bs.compute_for_loss(w.fit, 2.2, min_compute=1e30, max_compute=1e20),
        ValueError,
        ["min_compute=1e+30", "max_compute=1e+20"],
    ),
    (
        "summary-ci-prob-by-position",
        lambda w: w.fit.summary(0.9),
        TypeError,
        ["var_names", "keyword-only"],
    ),
    ("summary-var-names-text", lambda w: w.fit.summary("alpha"), TypeError, ["var_names"]),
    (
        "fit-progressbar-text",
        lambda w: bs.fit("chinchilla", _runs(), progressbar="no"),
        TypeError,
        ["progressbar", "'no'"],
    ),
    (
        "fit-prior-key-none",
        lambda w: bs.fit("chinchilla", _runs(), priors={None: 1.0}),
        TypeError,
        ["priors", "None"],
    ),
    (
        "fit-data-scalars",
        lambda w: bs.fit("chinchilla", {"N": 1e9, "D": 2e10, "loss": 3.0}),
        ValueError,
        ["1-D", "'N'", "one-row DataFrame"],
    ),
    (
        "fit-group-is-the-output",
        lambda w: bs.fit("chinchilla", _runs().assign(run=range(12)), group="loss"),
        ValueError,
        ["group='loss'", "output"],
    ),
    (
        "read-summary-missing",
        lambda w: bs.read_summary(w.p("none.csv")),
        FileNotFoundError,
        ["none.csv", "does not exist"],
    ),
    (
        "read-summary-not-a-table",
        lambda w: bs.read_summary(w.p("bad-table.csv")),
        ValueError,
        ["bad-table.csv", "export_summary"],
    ),
    ("load-stack-none", lambda w: bs.load_stack(None), TypeError, ["path", "None"]),
    (
        "fit-isoflops-list",
        lambda w: bs.fit_isoflops([1e20, 2e20]),
        TypeError,
        ["runs", "DataFrame", "list"],
    ),
    (
        "fit-isoflops-draws-zero",
        lambda w: bs.fit_isoflops(_iso_runs(), draws=0),
        ValueError,
        ["draws", "0"],
    ),
    (
        "compare-approaches-approach2",
        lambda w: bs.compare_approaches(None, compute=1e21, approach2=w.fit, approach3=w.fit),
        TypeError,
        ["approach2"],
    ),
    (
        "compare-approaches-seed",
        lambda w: bs.compare_approaches(
            None, compute=1e21, random_seed="1", approach2=None, approach3=w.fit
        ),
        TypeError,
        ["random_seed"],
    ),
    ("pass-at-k-not-a-table", lambda w: bs.fit_pass_at_k([1, 2]), TypeError, ["data", "DataFrame"]),
    (
        "pass-at-k-size-nan",
        lambda w: bs.fit_pass_at_k(_counts(N=[np.nan, 1e8, 1e9, 1e9])),
        ValueError,
        ["'N'", "rows [0]"],
    ),
    (
        "pass-at-k-fractional-count",
        lambda w: bs.fit_pass_at_k(_counts(n_correct=[1.5, 2, 5, 6])),
        ValueError,
        ["'n_correct'", "whole", "rows [0]"],
    ),
    (
        "pass-at-k-two-sizes-one-model",
        lambda w: bs.fit_pass_at_k(_counts(N=[1e8, 2e8, 1e9, 1e9])),
        ValueError,
        ["'N'", "one size per model", "'a'"],
    ),
    (
        "samples-for-coverage-of-a-fit",
        lambda w: bs.samples_for_coverage(w.fit),
        TypeError,
        ["result", "PassAtKResult"],
    ),
    (
        "capabilities-benchmarks-text",
        lambda w: bs.fit_capabilities(_scores(), "b0b1"),
        TypeError,
        ["benchmarks", "'b0b1'"],
    ),
    (
        "capabilities-benchmark-without-scores",
        lambda w: bs.fit_capabilities(_scores().assign(b1=np.nan), ["b0", "b1"]),
        ValueError,
        ["'b1'", "no score"],
    ),
    (
        "predict-accuracy-of-a-loss-fit",
        lambda w: bs.predict_accuracy(w.fit, N=1e9, D=2e10),
        ValueError,
        ["predict_accuracy", "'loss'", "predict_loss"],
    ),
    (
        "register-law-text",
        lambda w: bs.register_law("chinchilla"),
        TypeError,
        ["ScalingLaw", "str"],
    ),
    (
        "multistart-points-text",
        lambda w: bs.MultiStart(points="alpha"),
        TypeError,
        ["points", "'alpha'"],
    ),
    (
        "fit-many-reduce-not-callable",
        lambda w: bs.fit_many([("chinchilla", _runs())], reduce=3),
        TypeError,
        ["reduce", "3"],
    ),
    (
        "backtest-ci-probs-text",
        lambda w: bs.backtest("chinchilla", _runs(), {"C": 1e19}, ci_probs=["0.9"]),
        TypeError,
        ["ci_probs", "'0.9'"],
    ),
    (
        "backtest-ci-probs-number",
        lambda w: bs.backtest("chinchilla", _runs(), {"C": 1e19}, ci_probs=0.9),
        TypeError,
        ["ci_probs", "list"],
    ),
    (
        "plot-ax-not-axes",
        lambda w: bs.plots.plot_fit(w.fit, ax="left"),
        TypeError,
        ["ax", "Axes", "'left'"],
    ),
    (
        "plot-frontier-ci-prob-list",
        lambda w: bs.plots.plot_frontier(w.fit, ci_prob=[0.5, 0.9]),
        TypeError,
        ["ci_prob", "[0.5, 0.9]"],
    ),
]


def _predictive(w, **kwargs):
    return bs.predict_loss(w.fit, N=1e9, D=2e10, kind="predictive", **kwargs)


def _iso_runs():
    return bs.isoflops.pinned_isoflops(random_seed=0, draws=20, chains=1).runs


def _counts(**columns):
    rows = {"model": ["a", "a", "b", "b"], "N": [1e8, 1e8, 1e9, 1e9]}
    rows |= {"n_samples": [10, 10, 10, 10], "n_correct": [1, 2, 5, 6]}
    return pd.DataFrame(rows).assign(**columns)


def _scores():
    return pd.DataFrame(
        {
            "C": [1e21, 1e22, 1e23, 1e24],
            "family": ["f", "f", "g", "g"],
            "b0": [0.1, 0.3, 0.2, 0.6],
            "b1": [0.2, 0.4, 0.3, 0.7],
        }
    )


# ------------------------------------------------------ classes: every scalar option, every kind
# (function of the workspace and one hostile value, the option's name). Each option must refuse
# every kind of value below with a TypeError or ValueError naming it, raised by bayescale.
SCALAR_OPTIONS = [
    (lambda w, v: bs.misallocation_cost(w.fit, N=1e9, D=2e10, price_per_flop=v), "price_per_flop"),
    (
        lambda w, v: bs.rule_of_thumb_check(w.fit, compute=1e22, tokens_per_param=v),
        "tokens_per_param",
    ),
    (lambda w, v: bs.rule_of_thumb_check(w.fit, compute=1e22, within=v), "within"),
    (lambda w, v: bs.compute_for_loss(w.fit, 2.2, min_compute=v), "min_compute"),
    (lambda w, v: bs.data_wall(w.fit, 1e12, max_compute=v), "max_compute"),
    (lambda w, v: bs.compare_to_card(w.fit, "besiroglu2024", compute=v), "compute"),
    (lambda w, v: bs.plan(w.fit, compute=v), "compute"),
    (lambda w, v: bs.plan(w.fit, compute=1e22, inference_tokens=v), "inference_tokens"),
    (lambda w, v: bs.plan(w.fit, compute=1e22, ci_prob=v), "ci_prob"),
    (lambda w, v: bs.next_runs(w.fit, [(1e8, 2e9)], compute=1e22, k_threshold=v), "k_threshold"),
    (lambda w, v: bs.tradeoff(_train_test_fit(), level=v), "level"),
    (lambda w, v: bs.emergence_threshold(_emergence_fit(), level=v), "level"),
    (lambda w, v: bs.plots.plot_fit(w.fit, ci_prob=v), "ci_prob"),
]
HOSTILE_SCALARS = {
    "text": "1e22",
    "bytes": b"1e22",
    "dict": {"a": 1e22},
    "set": {1e22},
    "2-d-array": np.full((2, 2), 1e22),
    "series": pd.Series([1e22, 2e22], index=["x", "y"]),
    "nan": float("nan"),
    "inf": float("inf"),
    "negative": -1e22,
    "boolean": True,
    "complex": 1e22 + 1j,
}
SEQUENCE_OPTIONS = [
    (lambda w, v: bs.compute_optimal(w.fit, v), "compute"),
    (lambda w, v: bs.predict_loss(w.fit, N=v, D=2e10), "N"),
    (lambda w, v: bs.rule_of_thumb_check(w.fit, compute=v), "compute"),
    (lambda w, v: bs.tradeoff(_train_test_fit(), train_multiples=v), "train_multiples"),
    (lambda w, v: bs.tradeoff(_train_test_fit(), compute=v), "compute"),
    (lambda w, v: bs.plan(w.fit, compute=1e22, rules=v), "rules"),
]
HOSTILE_SEQUENCES = {
    k: HOSTILE_SCALARS[k] for k in ("text", "bytes", "dict", "set", "2-d-array", "nan", "boolean")
} | {"generator": None, "complex": [1e22 + 1j], "empty": []}


@functools.cache
def _train_test_fit():
    return bs.testing.pinned_law_fit("train_test", draws=20)


@functools.cache
def _emergence_fit():
    return bs.testing.pinned_law_fit("emergence", draws=20)


@pytest.fixture
def quiet(assets, tmp_path, monkeypatch):
    """The session's pinned fit, run in an empty folder: ``unchanged()`` asserts nothing was
    written there or beside the assets (cheaper than copying the workspace for every case)."""
    monkeypatch.chdir(tmp_path)
    before = _digest(assets.root)

    def unchanged() -> None:
        assert os.listdir(tmp_path) == [], "files appeared"
        assert _digest(assets.root) == before, "files changed"

    return SimpleNamespace(fit=assets.fit, unchanged=unchanged)


def _hostile(call, value, name, ws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((TypeError, ValueError)) as excinfo:
            call(ws, value)
    assert name in str(excinfo.value), (name, str(excinfo.value))
    _own_frame(excinfo)
    ws.unchanged()


@pytest.mark.parametrize("kind", sorted(HOSTILE_SCALARS))
@pytest.mark.parametrize(
    ("call", "name"), SCALAR_OPTIONS, ids=[f"{i}-{c[1]}" for i, c in enumerate(SCALAR_OPTIONS)]
)
def test_every_scalar_option_refuses_every_kind_of_bad_value(quiet, call, name, kind):
    value = HOSTILE_SCALARS[kind]
    if kind == "negative" and name in ("price_per_flop", "inference_tokens"):
        value = -1.0  # >= 0 allowed: still a negative number
    if kind == "negative" and name == "k_threshold":
        value = -np.inf  # any finite threshold is allowed (k_threshold=-1 refits every outcome)
    _hostile(call, value, name, quiet)


@pytest.mark.parametrize("kind", sorted(HOSTILE_SEQUENCES))
@pytest.mark.parametrize(
    ("call", "name"), SEQUENCE_OPTIONS, ids=[f"{i}-{c[1]}" for i, c in enumerate(SEQUENCE_OPTIONS)]
)
def test_every_sequence_option_refuses_every_kind_of_bad_value(quiet, call, name, kind):
    value = HOSTILE_SEQUENCES[kind]
    if kind == "generator":
        value = (c for c in [1e22, 2e22])
    _hostile(call, value, name, quiet)


@pytest.mark.parametrize(
    ("call", "exc", "needles"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_api_refuses_bad_input(ws, call, exc, needles):
    try:
        with pytest.raises(exc) as excinfo:
            call(ws)
    finally:
        bs.register_law(_user_law(_original_expression), overwrite=True)
    message = str(excinfo.value)
    for needle in needles:
        assert needle in message, (needle, message)
    _own_frame(excinfo)
    ws.unchanged()


# ---------------------------------------------------------------------------------- warnings
def _with(frame: pd.DataFrame, **columns) -> pd.DataFrame:
    return frame.assign(**columns)


def _labelled(n=12):
    runs = _runs(n)
    runs.index = [f"run{i}" for i in range(n)]
    return runs


# (id, law, data, column mapping, substrings of one DataWarning)
WARNING_CASES = [
    (
        "d-some-rows-in-billions",
        "chinchilla",
        lambda: _with(_labelled(), D=np.r_[20.0, _runs()["D"].to_numpy()[1:]]),
        None,
        ["column 'D'", "below 100000 in 1 row(s)", "'run0'", "raw counts"],
    ),
    (
        "n-in-billions",
        "chinchilla",
        lambda: _with(_runs(), N=_runs()["N"] / 1e9),
        None,
        ["column 'N'", "millions or billions", "raw counts"],
    ),
    (
        "d-in-billions",
        "chinchilla",
        lambda: _with(_runs(), D=_runs()["D"] / 1e9),
        None,
        ["column 'D'", "millions or billions"],
    ),
    (
        "mapped-in-billions",
        "chinchilla",
        lambda: _runs().assign(N=_runs()["N"] / 1e9).rename(columns={"N": "params"}),
        {"N": "params"},
        ["column 'params' (as 'N')", "millions or billions"],
    ),
    (
        "u-in-billions",
        "data_constrained",
        lambda: _with(_runs(), U=_runs()["D"] / 1e9),
        None,
        ["column 'U'", "millions or billions"],
    ),
    (
        "duplicate-rows",
        "chinchilla",
        lambda: pd.concat([_labelled(), _labelled().iloc[[3]].rename(index={"run3": "copy3"})]),
        None,
        ["exact duplicates", "'run3' = 'copy3'", "drop the copies"],
    ),
    (
        "single-n",
        "chinchilla",
        lambda: _with(_labelled(), N=1e9),
        None,
        ["column 'N'", "single value", "all 12 runs", "Prior.fixed"],
    ),
    (
        "single-d",
        "chinchilla",
        lambda: _with(_labelled(), D=2e10),
        None,
        ["column 'D'", "single value"],
    ),
    (
        "n-implausible",
        "chinchilla",
        lambda: _with(_labelled(), N=np.r_[2e15, _runs()["N"].to_numpy()[1:]]),
        None,
        ["column 'N'", "exceeds 1e+15", "'run0'"],
    ),
    (
        "d-implausible",
        "chinchilla",
        lambda: _with(_labelled(), D=np.r_[_runs()["D"].to_numpy()[:-1], 5e17]),
        None,
        ["column 'D'", "exceeds 1e+17", "'run11'"],
    ),
]


@pytest.mark.parametrize(
    ("law", "make", "columns", "needles"),
    [c[1:] for c in WARNING_CASES],
    ids=[c[0] for c in WARNING_CASES],
)
def test_suspicious_data_warns(ws, law, make, columns, needles):
    with pytest.warns(bs.DataWarning) as record:
        prepare_data(bs.get_law(law), make(), columns, n_parameters=7)
    messages = [str(w.message) for w in record if issubclass(w.category, bs.DataWarning)]
    assert any(all(n in m for n in needles) for m in messages), (needles, messages)
    assert all(w.filename == __file__ for w in record), "warned at bayescale's line, not ours"
    ws.unchanged()


def test_clean_data_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.DataWarning)
        prepare_data(_chinchilla(), _runs(), n_parameters=7)


def test_fit_warns_before_building_the_model(monkeypatch):
    """bs.fit reports suspicious runs (the sampler is never reached here)."""

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(sys.modules["bayescale.fit"], "build_model", stop)
    with pytest.warns(bs.DataWarning, match="column 'N'.*millions or billions"):
        with pytest.raises(Stop):
            bs.fit("chinchilla", _with(_runs(), N=_runs()["N"] / 1e9))


# ---------------------------------------------------------------------------------- failures
def _failing_writer(ws, what):
    """Functions that break half-way through a write."""

    def half_then_fail(self, path=None, *args, **kwargs):
        if isinstance(path, str | os.PathLike):
            Path(path).write_bytes(b"half a file")
        raise OSError(28, "No space left on device", str(path))

    def disk_full(tmp, image):
        Path(tmp).write_bytes(image[: len(image) // 2])
        raise OSError(28, "No space left on device", str(tmp))

    def replace_fails(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    def plot_fails(*args, **kwargs):
        raise RuntimeError("figure failed")

    return {
        "netcdf": ("xarray.DataTree.to_netcdf", half_then_fail),
        "disk": ("bayescale.io._write_bytes", disk_full),
        "replace": ("bayescale.io.os.replace", replace_fails),
        "plot": ("bayescale.plots.plot_frontier", plot_fails),
    }[what]


FAILURE_CASES = [
    ("save-disk-full", "netcdf", lambda w: w.fit.save(w.p("fit.nc")), OSError, "No space left"),
    ("save-new-disk-full", "netcdf", lambda w: w.fit.save(w.p("new.nc")), OSError, "No space left"),
    ("save-disk-full-on-write", "disk", lambda w: w.fit.save(w.p("fit.nc")), OSError, "fit.nc"),
    ("save-new-disk-full-on-write", "disk", lambda w: w.fit.save(w.p("n.nc")), OSError, "n.nc"),
    (
        "save-replace-fails",
        "replace",
        lambda w: w.fit.save(w.p("fit.nc")),
        PermissionError,
        "fit.nc",
    ),
    (
        "export-replace-fails",
        "replace",
        lambda w: export_summary(w.fit, w.p("summary.csv")),
        PermissionError,
        "summary.csv",
    ),
    (
        "export-json-replace-fails",
        "replace",
        lambda w: export_summary(w.fit, w.p("opt.json")),
        PermissionError,
        "opt.json",
    ),
    (
        "report-replace-fails",
        "replace",
        lambda w: bs.report(w.fit, w.p("report"), compute=[1e22]),
        PermissionError,
        "report",
    ),
    (
        "report-plot-fails",
        "plot",
        lambda w: bs.report(w.fit, w.p("report"), compute=[1e22]),
        RuntimeError,
        "figure failed",
    ),
    (
        "report-new-plot-fails",
        "plot",
        lambda w: bs.report(w.fit, w.p("new-report"), compute=[1e22]),
        RuntimeError,
        "figure failed",
    ),
]


@pytest.mark.parametrize(
    ("what", "call", "exc", "needle"),
    [c[1:] for c in FAILURE_CASES],
    ids=[c[0] for c in FAILURE_CASES],
)
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    ws, monkeypatch, what, call, exc, needle
):
    target, replacement = _failing_writer(ws, what)
    monkeypatch.setattr(target, replacement)
    with pytest.raises(exc, match=needle):
        call(ws)
    ws.unchanged()
    assert not list(ws.root.rglob("*.tmp*")), "a temporary file was left behind"


def test_saved_fits_load_back_verified(ws):
    """The checks above do not refuse good files: a saved fit loads, equal to the original."""
    same = bs.Fit.load(ws.p("fit.nc"))
    assert same.summary().equals(ws.fit.summary())
    user = load_fit(ws.p("user.nc"))
    assert user.law.name == "bad_input_user_law"


# ---------------------------------------------------------------------------------- CLI
def _cli(capsys, argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayescale: error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


# (id, argv with {name} for files of the workspace, substrings of the error line)
CLI_CASES = [
    (
        "compute-negative",
        ["optimal", "{fit.nc}", "--compute", "-1e22"],
        ["--compute", "'-1e22'", "> 0"],
    ),
    (
        "compute-second-negative",
        ["optimal", "{fit.nc}", "--compute", "1e22", "-1e22"],
        ["--compute", "'-1e22'"],
    ),
    (
        "compute-negative-fraction",
        ["optimal", "{fit.nc}", "--compute", "-.5"],
        ["--compute", "'-.5'"],
    ),
    ("compute-zero", ["optimal", "{fit.nc}", "--compute", "0"], ["--compute", "'0'"]),
    ("compute-nan", ["optimal", "{fit.nc}", "--compute", "nan"], ["--compute", "'nan'"]),
    ("compute-inf", ["optimal", "{fit.nc}", "--compute", "inf"], ["--compute", "'inf'"]),
    ("compute-minus-inf", ["optimal", "{fit.nc}", "--compute", "-inf"], ["--compute", "'-inf'"]),
    ("compute-text", ["optimal", "{fit.nc}", "--compute", "lots"], ["--compute", "'lots'"]),
    ("digits-negative", ["summary", "{fit.nc}", "--digits", "-3"], ["--digits", "'-3'", "1 to 17"]),
    ("digits-negative-equals", ["summary", "{fit.nc}", "--digits=-3"], ["--digits", "'-3'"]),
    ("digits-zero", ["summary", "{fit.nc}", "--digits", "0"], ["--digits", "'0'"]),
    (
        "digits-fraction",
        ["optimal", "{fit.nc}", "--compute", "1e22", "--digits", "2.5"],
        ["--digits", "'2.5'"],
    ),
    (
        "prob-high",
        ["optimal", "{fit.nc}", "--compute", "1e22", "--prob", "1.5"],
        ["--prob", "'1.5'"],
    ),
    (
        "prob-negative",
        ["optimal", "{fit.nc}", "--compute", "1e22", "--prob", "-2e-1"],
        ["--prob", "'-2e-1'"],
    ),
    (
        "draws-negative",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--draws", "-5"],
        ["--draws", "'-5'"],
    ),
    (
        "chains-zero",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--chains", "0"],
        ["--chains", "'0'"],
    ),
    (
        "tune-negative",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--tune", "-1"],
        ["--tune", "'-1'"],
    ),
    (
        "seed-negative",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--seed", "-1"],
        ["--seed", "'-1'"],
    ),
    (
        "fit-out-exists",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{fit.nc}"],
        ["{fit.nc}", "already exists", "--force"],
    ),
    (
        "fit-out-is-data",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{runs.csv}"],
        ["{runs.csv}", "is the input file"],
    ),
    (
        "fit-out-is-data-forced",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{runs.csv}", "--force"],
        ["{runs.csv}", "is the input file"],
    ),
    (
        "summary-out-is-the-fit-forced",
        ["summary", "{fit.nc}", "--out", "{fit.nc}", "--force"],
        ["{fit.nc}", "is the input file"],
    ),
    (
        "optimal-out-is-the-fit-forced",
        ["optimal", "{fit.nc}", "--compute", "1e22", "--out", "{fit.nc}", "--force"],
        ["{fit.nc}", "is the input file"],
    ),
    (
        "summary-out-exists",
        ["summary", "{fit.nc}", "--format", "csv", "--out", "{summary.csv}"],
        ["{summary.csv}", "--force"],
    ),
    (
        "optimal-out-exists",
        ["optimal", "{fit.nc}", "--compute", "1e22", "--out", "{opt.json}"],
        ["{opt.json}", "--force"],
    ),
    (
        "report-out-exists",
        ["report", "{fit.nc}", "--out", "{report}"],
        ["{report}", "report.md", "--force"],
    ),
    (
        "report-out-is-a-file",
        ["report", "{fit.nc}", "--out", "{a-file}"],
        ["{a-file}", "not a folder"],
    ),
    (
        "summary-out-under-a-file",
        ["summary", "{fit.nc}", "--out", "{a-file}/s.md"],
        ["{a-file}/s.md", "not a directory"],
    ),
    (
        "summary-out-bad-digits",
        ["summary", "{fit.nc}", "--out", "{summary.csv}", "--force", "--digits", "-1"],
        ["--digits", "'-1'"],
    ),
    ("summary-truncated", ["summary", "{truncated.nc}"], ["{truncated.nc}", "truncated"]),
    ("summary-edited", ["summary", "{edited.nc}"], ["{edited.nc}", "posterior", "checksum"]),
    ("summary-empty-file", ["summary", "{empty.nc}"], ["{empty.nc}", "not a readable NetCDF"]),
    ("summary-csv-as-fit", ["summary", "{runs.csv}"], ["{runs.csv}", "not a readable NetCDF"]),
    ("summary-folder-as-fit", ["summary", "{report}"], ["{report}", "folder"]),
    (
        "optimal-edited-with-force",
        ["optimal", "{edited.nc}", "--compute", "1e22", "--out", "{opt.json}", "--force"],
        ["{edited.nc}", "checksum"],
    ),
    (
        "report-truncated-with-force",
        ["report", "{truncated.nc}", "--out", "{report}", "--force"],
        ["{truncated.nc}", "truncated"],
    ),
    (
        "prior-sd",
        [
            "fit",
            "chinchilla",
            "{runs.csv}",
            "--out",
            "{new.nc}",
            "--prior",
            "alpha=Normal(mu=0.3, sd=0.1)",
        ],
        ["'sd'", "'sigma'", "mu, sigma, tau"],
    ),
    (
        "prior-fixed-negative",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--prior", "alpha=fixed(-0.3)"],
        ["'alpha'", "(0, inf)"],
    ),
    (
        "prior-negative-scale",
        [
            "fit",
            "chinchilla",
            "{runs.csv}",
            "--out",
            "{new.nc}",
            "--prior",
            "sigma=HalfNormal(sigma=-1)",
        ],
        ["sigma=-1", "> 0"],
    ),
    (
        "prior-typo",
        [
            "fit",
            "chinchilla",
            "{runs.csv}",
            "--out",
            "{new.nc}",
            "--prior",
            "alpha=Nromal(mu=0.3, sigma=0.1)",
        ],
        ["'Nromal'", "'Normal'"],
    ),
    (
        "prior-text-value",
        [
            "fit",
            "chinchilla",
            "{runs.csv}",
            "--out",
            "{new.nc}",
            "--prior",
            "alpha=Normal(mu=0.3, sigma=abc)",
        ],
        ["sigma=abc"],
    ),
    (
        "prior-gamma-beta",
        [
            "fit",
            "chinchilla",
            "{runs.csv}",
            "--out",
            "{new.nc}",
            "--prior",
            "nu=Gamma(alpha=2, beta=-0.1)",
        ],
        ["beta=-0.1"],
    ),
    (
        "prior-fixed-text",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--prior", "beta=fixed(abc)"],
        ["value='abc'"],
    ),
    (
        "optimal-fixed-negative",
        ["optimal", "{dc.nc}", "--compute", "1e22", "--fixed", "U=-5"],
        ["U", "-5"],
    ),
    (
        "report-fixed-negative",
        ["report", "{dc.nc}", "--out", "{new-report}", "--fixed", "U=-5"],
        ["fixed['U']", "-5.0"],
    ),
    (
        "fit-out-not-netcdf-refused-before-sampling",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.csv}"],
        ["{new.csv}", "name the file new.nc"],
    ),
    (
        "fit-seed-beyond-64-bit",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--random-seed", str(2**70)],
        ["--random-seed", "from 0 to"],
    ),
    (
        "fit-csv-not-utf8",
        ["fit", "chinchilla", "{latin1.csv}", "--out", "{new.nc}"],
        ["{latin1.csv}", "UTF-8"],
    ),
    (
        "fit-columns-twice",
        ["fit", "chinchilla", "{runs.csv}", "--out", "{new.nc}", "--columns", "N=a,N=b"],
        ["--columns", "'N'", "twice"],
    ),
    (
        "summary-format-contradicts-out",
        ["summary", "{fit.nc}", "--format", "csv", "--out", "{new.json}"],
        ["{new.json}", ".json", "--format is csv"],
    ),
    ("predict-at-twice", ["predict", "{fit.nc}", "--at", "N=1e9,N=2e9,D=1e10"], ["'N'", "twice"]),
    (
        "plot-dpi-huge",
        ["plot", "{fit.nc}", "fit", "--out", "{new.png}", "--dpi", "100000"],
        ["--dpi", "from 1 to 1200"],
    ),
    (
        "report-compute-negative",
        ["report", "{fit.nc}", "--out", "{new-report}", "--compute", "-1e22"],
        ["--compute", "'-1e22'"],
    ),
]


@pytest.mark.parametrize(
    ("argv", "needles"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_cli_refuses_bad_input(ws, capsys, argv, needles):
    names = {p.name: str(p) for p in ws.root.iterdir()}
    names |= {n: str(ws.p(n)) for n in ("new.nc", "new-report", "new.csv", "new.json", "new.png")}

    def fill(text: str) -> str:
        for name, path in names.items():
            text = text.replace("{" + name + "}", path)
        return text

    line = _cli(capsys, [fill(a) for a in argv])
    for needle in needles:
        assert fill(needle) in line, (fill(needle), line)
    ws.unchanged()


def test_cli_force_replaces_an_output(ws, capsys):
    """--force is the way to replace: the file is rewritten whole, nothing else is left."""
    argv = ["summary", str(ws.p("fit.nc")), "--format", "csv", "--out", str(ws.p("summary.csv"))]
    assert main([*argv, "--force"]) == 0, capsys.readouterr().err
    assert not list(ws.root.rglob("*.tmp*"))
    pd.testing.assert_frame_equal(bs.read_summary(ws.p("summary.csv")), ws.fit.summary())


def test_case_count():
    n = len(API_CASES) + len(WARNING_CASES) + len(FAILURE_CASES) + len(CLI_CASES)
    assert n >= 80, n


def test_python_dash_m_runs_the_command():
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "bayescale", "summary", "no-such-fit.nc"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("bayescale: error: ") and "no-such-fit.nc" in proc.stderr


def test_one_column_cannot_both_pool_and_share_offsets():
    runs = bs.testing.simulate_chinchilla(12, random_seed=0)
    runs["corpus"] = ["a", "b", "c"] * 4
    with pytest.raises(ValueError, match=r"group='corpus' is also in groups=.*drop it"):
        bs.fit("chinchilla", runs, group="corpus", groups=["corpus"], draws=10, tune=10)
    with pytest.raises(ValueError, match=r"group='corpus' is also in groups="):
        bs.fit("chinchilla", runs, group="corpus", groups="corpus", draws=10, tune=10)
