"""Hostile input, by class (the stop-21 corpus): the classes earlier passes did not reach —
dimension keywords and improper priors, prior mass where the law overflows, read-only targets
of every write, held-out runs and ``ci_prob`` of every kind, CSV files that are not UTF-8 text
through every command that reads one, MultiIndex and nullable columns, saved pooled fits
truncated or edited, misspelt keywords. Each case is generated from a table and checks that

* the right exception (or warning) comes out, raised by bayescale's own code (the traceback's
  last frame is in the package, not in numpy, pandas, PyMC, ...);
* the message names the culprit (parameter, column, option, path) and says what to do;
* no existing file changed and no temporary was left behind.

Nothing here samples: fits are pinned (``bayescale.testing``), and a fit that must be refused
before sampling runs with the sampler replaced by a stub that fails the test if reached.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib
import json
import os
import shutil
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescale as bs
from bayescale.cli import main
from bayescale.data import prepare_data
from bayescale.priors import ImproperPriorWarning, Prior, merge_priors

PACKAGE = Path(bs.__file__).resolve().parent
FAST = dict(draws=20, tune=20, chains=1, progressbar=False, random_seed=0)
LAW = bs.get_law("chinchilla")


def _own(excinfo: pytest.ExceptionInfo) -> None:
    """Raised by bayescale, not inside a dependency."""
    path = Path(str(excinfo.traceback[-1].path)).resolve()
    assert path.is_relative_to(PACKAGE), f"raised in {path}, not in bayescale"


def _digest(root: Path) -> dict[str, tuple[str, int]]:
    """Content and permission bits of every file under ``root`` (temporaries included)."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class SamplerReached(AssertionError):
    """The fit got past every check to the sampler."""


@pytest.fixture
def no_sampler(monkeypatch):
    """``bs.fit`` with a sampler that fails: what must be refused is refused before it."""

    def reached(*args, **kwargs):
        raise SamplerReached("the fit reached the sampler")

    monkeypatch.setattr(importlib.import_module("bayescale.fit"), "_build_and_sample", reached)


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(30, random_seed=1)


@pytest.fixture(scope="module")
def pinned(runs):
    return bs.testing.pinned_fit(random_seed=0, draws=50, chains=2)


@pytest.fixture(scope="module")
def pooled():
    return bs.testing.pinned_pooled_fit(draws=30)


@pytest.fixture(scope="module")
def fit_file(pinned, tmp_path_factory):
    """The pinned fit saved once, outside the folders the tests watch."""
    path = tmp_path_factory.mktemp("saved") / "fit.nc"
    pinned.save(path)
    return path


def _cli(argv, capsys, root: Path) -> str:
    before = _digest(root)
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err and err[-1].startswith("bayescale: error: "), err
    assert not any("Traceback" in line for line in err), err
    assert _digest(root) == before, "a file changed or appeared"
    return err[-1]


# ------------------------------------------------------------ dimension keywords in a prior
DIMENSIONED = [
    ("Normal", dict(mu=0.3, sigma=0.1)),
    ("LogNormal", dict(mu=-1.2, sigma=0.7)),
    ("HalfNormal", dict(sigma=0.1)),
    ("TruncatedNormal", dict(mu=0.3, sigma=0.1, lower=0.0, upper=1.0)),
    ("Gamma", dict(alpha=2.0, beta=0.1)),
]


@pytest.mark.parametrize("keyword", ["shape", "size", "dims"])
@pytest.mark.parametrize(("dist", "params"), DIMENSIONED, ids=[d for d, _ in DIMENSIONED])
def test_a_prior_with_a_dimension_keyword_is_refused_when_made(dist, params, keyword):
    with pytest.raises(ValueError) as excinfo:
        Prior(dist, **params, **{keyword: 3})
    message = str(excinfo.value)
    assert f"{keyword}=3" in message and f"drop {keyword!r}" in message, message
    assert f"Prior({dist!r}" in message  # the prior to give instead
    _own(excinfo)


@pytest.mark.parametrize("keyword", ["shape", "size", "dims"])
@pytest.mark.parametrize("how", ["from_dict", "parse"])
def test_prior_readers_refuse_dimension_keywords_too(how, keyword):
    with pytest.raises(ValueError, match=rf"{keyword}=\(?2") as excinfo:
        if how == "from_dict":
            Prior.from_dict({"dist": "Normal", "mu": 0.0, "sigma": 1.0, keyword: 2})
        else:
            Prior.parse(f"Normal(mu=0.0, sigma=1.0, {keyword}=2)")
    _own(excinfo)


def test_a_file_saved_with_a_shaped_prior_still_loads(pinned, tmp_path):
    """A file written when a prior could carry a shape (its checksum covering it) loads: the
    shape is dropped, the law gives it."""
    from bayescale.io import _definition_checksum

    path = tmp_path / "fit.nc"
    pinned.save(path)
    with h5py.File(path, "r+") as handle:
        priors = json.loads(handle.attrs["bayescale_priors"])
        priors["alpha"]["shape"] = []
        handle.attrs["bayescale_priors"] = json.dumps(priors)
    with xr.open_datatree(path, engine="h5netcdf") as tree:  # the attributes as load reads them
        sums = json.loads(tree.attrs["bayescale_checksums"])
        sums["definition"] = _definition_checksum(tree.attrs)
    with h5py.File(path, "r+") as handle:
        handle.attrs["bayescale_checksums"] = json.dumps(sums, sort_keys=True)
    assert bs.Fit.load(path).priors["alpha"] == pinned.priors["alpha"]


# ------------------------------------------------------------ improper priors
@pytest.mark.parametrize("dist", ["Flat", "HalfFlat"])
@pytest.mark.parametrize("name", ["alpha", "beta", "log_E"])
def test_an_improper_prior_warns_naming_the_parameter(dist, name):
    with pytest.warns(ImproperPriorWarning) as record:
        merged = merge_priors(LAW.default_priors, {name: Prior(dist)})
    message = str(record[0].message)
    assert f"prior for {name!r}" in message and "improper" in message
    assert "give a proper prior" in message
    assert merged[name] == Prior(dist)  # a warning: the choice stays the user's


@pytest.mark.parametrize("dist", ["Flat", "HalfFlat"])
def test_fit_warns_of_an_improper_prior_before_sampling(runs, no_sampler, dist):
    with pytest.warns(ImproperPriorWarning, match="prior for 'alpha'"):
        with pytest.raises(SamplerReached):
            bs.fit("chinchilla", runs, priors={"alpha": Prior(dist)}, **FAST)


# ------------------------------------------------------------ prior mass where the law overflows
FAR_PRIORS = [
    ("alpha", Prior("TruncatedNormal", mu=0.0, sigma=0.01, lower=50.0, upper=60.0), "'A'"),
    ("alpha", Prior("Normal", mu=80.0, sigma=0.01), "'A'"),
    ("alpha", Prior("Gamma", alpha=1000.0, beta=10.0), "'A'"),
    ("alpha", Prior("Uniform", lower=40.0, upper=90.0), "'A'"),
    ("beta", Prior("LogNormal", mu=4.0, sigma=0.1), "'B'"),
    ("log_E", Prior("Normal", mu=800.0, sigma=1.0), "'E'"),
    ("log_A_ref", Prior("StudentT", nu=5.0, mu=1000.0, sigma=1.0), "'A'"),
    ("log_B_ref", Prior("Normal", mu=900.0, sigma=5.0), "'B'"),
]


@pytest.mark.parametrize(
    ("name", "prior", "natural"), FAR_PRIORS, ids=[f"{n}-{p.dist}" for n, p, _ in FAR_PRIORS]
)
def test_a_prior_where_the_law_overflows_is_one_clear_error(runs, no_sampler, name, prior, natural):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow warnings on the way
        with pytest.raises(ValueError) as excinfo:
            bs.fit("chinchilla", runs, priors={name: prior}, **FAST)
    message = str(excinfo.value)
    assert f"prior for {name!r}: {prior!r}" in message, message
    assert natural in message and "default prior" in message and "central 98%" in message
    _own(excinfo)


@pytest.mark.parametrize(
    ("name", "prior"),
    [
        ("alpha", Prior("Normal", mu=0.3, sigma=0.1)),
        ("log_E", Prior("Normal", mu=0.5, sigma=3.0)),
        ("beta", Prior("TruncatedNormal", mu=0.3, sigma=0.2, lower=0.0, upper=2.0)),
    ],
)
def test_a_prior_near_the_defaults_passes_the_mass_check(runs, no_sampler, name, prior):
    with pytest.raises(SamplerReached):  # got to the sampler: not refused
        bs.fit("chinchilla", runs, priors={name: prior}, **FAST)


def test_a_card_s_priors_pass_the_mass_check(runs, no_sampler):
    with pytest.raises(SamplerReached):
        bs.fit("chinchilla", runs, priors=bs.load_card("besiroglu2024").as_priors(), **FAST)


def test_a_pooled_fit_checks_the_prior_mass_too(runs, no_sampler):
    frame = runs.assign(exp=["a", "b", "c"] * 10)
    with pytest.raises(ValueError, match="prior for 'alpha'") as excinfo:
        bs.fit(
            "chinchilla",
            frame,
            group="exp",
            priors={"alpha": Prior("Normal", mu=80.0, sigma=1.0)},
            **FAST,
        )
    _own(excinfo)


# ------------------------------------------------------------ read-only targets of every write
def _stack(pinned):
    other = bs.testing.pinned_fit(random_seed=1, data=pinned.data, draws=50, chains=2)
    return bs.stack({"a": pinned, "b": other}, weights={"a": 0.5, "b": 0.5})


API_WRITES = {
    "save": (lambda f, p: f.save(p), "fit.nc"),
    "export-csv": (lambda f, p: bs.export_summary(f, p), "summary.csv"),
    "export-json": (lambda f, p: bs.export_summary(f, p), "summary.json"),
    "export-md": (lambda f, p: bs.export_summary(f, p), "summary.md"),
    "export-tex": (lambda f, p: bs.export_summary(f, p), "summary.tex"),
    "export-optimal": (
        lambda f, p: bs.export_summary(bs.compute_optimal(f, compute=[1e22]), p),
        "optimal.csv",
    ),
    "report": (lambda f, p: bs.report(f, p, compute=[1e22]), "report"),
    "stack": (lambda f, p: _stack(f).save(p), "stack"),
}


@pytest.fixture
def read_only(tmp_path):
    """A folder holding an old file of each name, made read-only (restored afterwards)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    for p in [folder, *folder.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize("where", ["read-only file", "read-only folder"])
@pytest.mark.parametrize("write", sorted(API_WRITES))
def test_a_read_only_target_is_refused_naming_it(pinned, read_only, where, write):
    call, name = API_WRITES[write]
    target = read_only / name
    if where == "read-only file":
        if name in ("report", "stack"):  # a folder's old file: report.md / stack.json
            target.mkdir()
            old = target / ("report.md" if name == "report" else "stack.json")
        else:
            old = target
        old.write_text("old\n")
        os.chmod(old, 0o444)
        named = old
    else:
        (read_only / "old.txt").write_text("old\n")
        os.chmod(read_only, 0o555)
        named = read_only
    before = _digest(read_only)
    with pytest.raises(PermissionError) as excinfo:
        call(pinned, target)
    message = str(excinfo.value)
    assert str(named) in message and "read-only" in message and "chmod u+w" in message, message
    _own(excinfo)
    assert _digest(read_only) == before  # the old file whole, no temporary left


CLI_WRITES = [
    ("summary", ["summary", "{fit}", "--out", "{target}"], "s.csv"),
    ("optimal", ["optimal", "{fit}", "--compute", "1e22", "--out", "{target}"], "o.csv"),
    ("predict", ["predict", "{fit}", "--at", "N=1e9,D=2e10", "--out", "{target}"], "p.csv"),
    ("plot", ["plot", "{fit}", "fit", "--out", "{target}"], "p.png"),
    ("plan", ["plan", "{fit}", "--compute", "1e22", "--out", "{target}"], "plan.md"),
    ("report", ["report", "{fit}", "--out", "{target}", "--compute", "1e22"], "rep"),
    ("stack", ["stack", "{fit}", "{fit}", "--names", "a", "b", "--out", "{target}"], "st"),
    ("fit", ["fit", "chinchilla", "{runs}", "--out", "{target}", "--draws", "20"], "f.nc"),
]


@pytest.mark.parametrize("where", ["file", "folder"])
@pytest.mark.parametrize(
    ("argv", "name"), [c[1:] for c in CLI_WRITES], ids=[c[0] for c in CLI_WRITES]
)
def test_cli_refuses_a_read_only_output(fit_file, runs, read_only, tmp_path, capsys, no_sampler,
                                        argv, name, where):  # fmt: skip
    runs.to_csv(tmp_path / "runs.csv", index=False)
    target = read_only / name
    if where == "file":
        if "." in name:
            target.write_text("old\n")
            os.chmod(target, 0o444)
            named = target
        else:  # a folder output: the folder itself read-only
            target.mkdir()
            os.chmod(target, 0o555)
            named = target
        argv = [*argv, "--force"]
    else:
        os.chmod(read_only, 0o555)
        named = read_only
    files = {"fit": fit_file, "runs": tmp_path / "runs.csv", "target": target}
    line = _cli([a.format(**files) for a in argv], capsys, tmp_path)
    assert str(named) in line and "read-only" in line, line


# ------------------------------------------------------------ group labels
@pytest.mark.parametrize(
    ("labels", "words"),
    [
        ([np.inf, 0.2, 0.3] * 10, "infinite values in rows [0, 3, 6"),
        ([-np.inf, "a", "b"] * 10, "infinite values in rows [0, 3, 6"),
        ([np.nan, "a", "b"] * 10, "missing values in rows [0, 3, 6"),
        ([None, 1, 2] * 10, "missing values in rows [0, 3, 6"),
        ([bs.NEW_GROUP, "a", "b"] * 10, "bs.NEW_GROUP"),
    ],
    ids=["inf", "minus-inf-text", "nan", "none", "new-group-label"],
)
def test_pooled_group_labels_that_are_not_labels_are_refused(runs, no_sampler, labels, words):
    with pytest.raises(ValueError) as excinfo:
        bs.fit("chinchilla", runs.assign(exp=labels), group="exp", **FAST)
    assert "'exp'" in str(excinfo.value) and words in str(excinfo.value), str(excinfo.value)
    _own(excinfo)


# ------------------------------------------------------------ held-out runs and ci_prob
BAD_CELLS = {
    "nan": (np.nan, "missing"),
    "inf": (np.inf, "infinite"),
    "negative": (-1.0, "must be > 0"),
    "boolean": (True, "boolean"),
    "text": ("x", "non-numeric"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CELLS))
@pytest.mark.parametrize("column", ["N", "D", "loss"])
def test_score_holdout_checks_the_held_out_runs_as_fit_does(pinned, runs, column, kind):
    value, words = BAD_CELLS[kind]
    held = runs.iloc[-4:].copy()
    if kind == "boolean":
        held[column] = [True, False, True, True]
    else:
        held[column] = held[column].astype(object)
        held.loc[held.index[1], column] = value
    with pytest.raises((TypeError, ValueError)) as excinfo:
        bs.score_holdout(pinned, held, random_seed=0)
    message = str(excinfo.value)
    assert f"column {column!r}" in message or f"{column} must" in message, message
    assert words in message or "positive" in message, message
    _own(excinfo)


def test_score_holdout_of_a_pooled_fit_checks_its_runs(pooled):
    held = pooled.data.iloc[:4].assign(loss=[2.0, np.nan, 2.1, 2.2])
    with pytest.raises(ValueError, match=r"column 'loss' has missing") as excinfo:
        bs.score_holdout(pooled, held, random_seed=0)
    _own(excinfo)


HOSTILE_CI = {
    "zero": (0, ValueError),
    "one": (1, ValueError),
    "nan": (float("nan"), ValueError),
    "above-one": (1.5, ValueError),
    "negative": (-0.1, ValueError),
    "text": ("0.9", TypeError),
    "list": ([0.9], TypeError),
    "none": (None, TypeError),
    "boolean": (True, TypeError),
}
CI_CALLS = {
    "score_holdout": lambda f, p, c: bs.score_holdout(f, f.data.iloc[:3], ci_prob=c),
    "posterior_predictive_check": lambda f, p, c: bs.posterior_predictive_check(f, ci_prob=c),
    "ppc-pooled": lambda f, p, c: bs.posterior_predictive_check(p, ci_prob=c, random_seed=0),
    "summary": lambda f, p, c: f.summary(ci_prob=c),
    "export_summary": lambda f, p, c: bs.export_summary(f, "never-written.csv", ci_prob=c),
    "report": lambda f, p, c: bs.report(f, "never-written", compute=[1e22], ci_prob=c),
    "plan": lambda f, p, c: bs.plan(f, compute=1e22, ci_prob=c),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_CI))
@pytest.mark.parametrize("call", sorted(CI_CALLS))
def test_every_ci_prob_refuses_every_kind_of_bad_value(pinned, pooled, tmp_path, monkeypatch,
                                                       call, kind):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    value, error = HOSTILE_CI[kind]
    with pytest.raises(error, match="ci_prob") as excinfo:
        CI_CALLS[call](pinned, pooled, value)
    _own(excinfo)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("call", sorted(set(CI_CALLS) - {"report"}))  # a whole report: 5 s
def test_a_numpy_float_ci_prob_is_a_number(pinned, pooled, tmp_path, monkeypatch, call):
    monkeypatch.chdir(tmp_path)
    CI_CALLS[call](pinned, pooled, np.float32(0.9))  # not refused


# ------------------------------------------------------------ CSV files that are not UTF-8 text
def _csv_bytes(runs: pd.DataFrame, kind: str) -> tuple[bytes, list[str]]:
    text = runs[["N", "D", "loss"]].to_csv(index=False)
    if kind == "latin-1":
        return text.encode() + "1e9,2e10,2.5 # vérifié\n".encode("latin-1"), ["0xe9", "line 32"]
    if kind == "cp1252":
        return text.replace("loss", "loss\u2019").encode("cp1252"), ["0x92", "line 1"]
    if kind == "nul":
        return text.encode().replace(b"\n", b"\x00\n", 3), ["NUL byte", "line 1"]
    if kind == "utf-16-no-bom":
        return text.encode("utf-16-le"), ["NUL byte", "UTF-16"]
    if kind == "random-bytes":
        return bytes(np.random.default_rng(0).integers(128, 256, 512, dtype=np.uint8)), ["UTF-8"]
    raise AssertionError(kind)


CSV_COMMANDS = {
    "fit": ["fit", "chinchilla", "{csv}", "--out", "{dir}/f.nc"],
    "backtest": ["backtest", "chinchilla", "{csv}", "--cutoff", "1e20"],
    "predict": ["predict", "{fit}", "--runs", "{csv}"],
}


@pytest.mark.parametrize("command", sorted(CSV_COMMANDS))
@pytest.mark.parametrize("kind", ["latin-1", "cp1252", "nul", "utf-16-no-bom", "random-bytes"])
def test_every_command_names_the_byte_that_is_not_utf8_text(fit_file, runs, tmp_path, capsys,
                                                            no_sampler, command, kind):  # fmt: skip
    content, words = _csv_bytes(runs, kind)
    (tmp_path / "runs.csv").write_bytes(content)
    files = {"csv": tmp_path / "runs.csv", "dir": tmp_path, "fit": fit_file}
    line = _cli([a.format(**files) for a in CSV_COMMANDS[command]], capsys, tmp_path)
    assert "runs.csv" in line and all(w in line for w in words), line


@pytest.mark.parametrize("command", sorted(CSV_COMMANDS))
@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"\n\n  \n", "empty"), (b"N,D,loss\n", "0 rows")],
    ids=["empty", "blank-lines", "header-only"],
)
def test_every_command_refuses_a_csv_without_runs(fit_file, tmp_path, capsys, no_sampler, command,
                                                  content, words):  # fmt: skip
    (tmp_path / "runs.csv").write_bytes(content)
    files = {"csv": tmp_path / "runs.csv", "dir": tmp_path, "fit": fit_file}
    line = _cli([a.format(**files) for a in CSV_COMMANDS[command]], capsys, tmp_path)
    assert "runs" in line and (words in line or "no runs" in line), line


# ------------------------------------------------------------ frames and column types
FRAMES = {
    "multiindex-columns": (
        lambda r: r.set_axis(pd.MultiIndex.from_tuples([(c, "x") for c in r.columns]), axis=1),
        ["MultiIndex of 2 levels", "flatten"],
    ),
    "int64-with-na": (
        lambda r: r.assign(N=pd.array([None, *r["N"].iloc[1:].astype("int64")], dtype="Int64")),
        ["column 'N'", "missing"],
    ),
    "float64-with-na": (
        lambda r: r.assign(loss=pd.array([None, *r["loss"].iloc[1:]], dtype="Float64")),
        ["column 'loss'", "missing"],
    ),
    "pyarrow-with-null": (
        lambda r: r.assign(D=pd.Series([None, *r["D"].iloc[1:]], dtype="float64[pyarrow]")),
        ["column 'D'", "missing"],
    ),
    "timezone-aware": (
        lambda r: r.assign(N=pd.date_range("2020", periods=len(r), tz="UTC")),
        ["column 'N'", "dates"],
    ),
    "periods": (
        lambda r: r.assign(D=pd.period_range("2020", periods=len(r), freq="D")),
        ["column 'D'", "dates"],
    ),
}


@pytest.mark.parametrize("kind", sorted(FRAMES))
def test_frames_and_column_types_are_named(runs, no_sampler, kind):
    make, words = FRAMES[kind]
    for call in (lambda f: prepare_data(LAW, f), lambda f: bs.fit("chinchilla", f, **FAST)):
        with pytest.raises(ValueError) as excinfo:
            call(make(runs))
        assert all(w in str(excinfo.value) for w in words), str(excinfo.value)
        _own(excinfo)


# ------------------------------------------------------------ saved pooled fits, damaged
@pytest.fixture(scope="module")
def pooled_file(pooled, tmp_path_factory):
    path = tmp_path_factory.mktemp("pooled") / "pooled.nc"
    pooled.save(path)
    return path


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_a_truncated_pooled_fit_is_refused_naming_the_path(pooled_file, tmp_path, fraction):
    data = pooled_file.read_bytes()
    path = tmp_path / "cut.nc"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match=r"cut\.nc") as excinfo:
        bs.Fit.load(path)
    _own(excinfo)


EDITS = {
    "column": lambda p: {**p, "grouping": {**p["grouping"], "column": "N"}},
    "mode": lambda p: {**p, "modes": {k: "independent" for k in p["modes"]}},
    "centred": lambda p: {**p, "centred": {k: list(p["grouping"]["labels"]) for k in p["modes"]}},
    "labels": lambda p: {**p, "grouping": {**p["grouping"], "labels": ["x", "y", "z"]}},
    "not-json": lambda p: "{not json",
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_pooling_is_refused_naming_the_path(pooled_file, tmp_path, edit):
    path = tmp_path / "edited.nc"
    shutil.copy(pooled_file, path)
    with h5py.File(path, "r+") as handle:
        pooling = json.loads(handle.attrs["bayescale_pooling"])
        new = EDITS[edit](pooling)
        handle.attrs["bayescale_pooling"] = new if isinstance(new, str) else json.dumps(new)
    with pytest.raises(ValueError, match=r"edited\.nc") as excinfo:
        bs.Fit.load(path)
    _own(excinfo)


# ------------------------------------------------------------ misspelt keywords
MISSPELT = [
    (lambda f: f.summary(ci_prb=0.9), "ci_prob"),
    (lambda f: bs.posterior_predictive_check(f, random_sed=0), "random_seed"),
    (lambda f: bs.plan(f, compute=1e22, ci_prb=0.9), "ci_prob"),
    (lambda f: bs.score_holdout(f, f.data.iloc[:3], ci_porb=0.9), "ci_prob"),
    (lambda f: bs.report(f, "r", compue=[1e22]), "compute"),
    (lambda f: bs.fit_many([bs.FitJob("chinchilla", f.data)], draw=20), "draws"),
]


@pytest.mark.parametrize(("call", "closest"), MISSPELT, ids=[c for _, c in MISSPELT])
def test_a_misspelt_keyword_names_the_closest_one(pinned, tmp_path, monkeypatch, call, closest):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError) as excinfo:
        call(pinned)
    assert repr(closest) in str(excinfo.value), str(excinfo.value)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------ dates, durations, huge whole numbers
NOT_NUMBERS = {
    "datetime64": (np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"), "dates"),
    "timezone-aware": (pd.date_range("2020", periods=2, tz="UTC"), "dates"),
    "timedeltas": (pd.to_timedelta([1, 2], unit="D"), "durations"),
    "python-dates": ([datetime.date(2020, 1, 1)], "dates"),
    "beyond-a-float": ([1e22, 10**400], "beyond a float"),
}
VALUE_CALLS = {
    "compute_optimal": lambda f, p, v: bs.compute_optimal(f, compute=v),
    "predict_loss-N": lambda f, p, v: bs.predict_loss(f, N=v, D=2e10),
    "rule_of_thumb_check": lambda f, p, v: bs.rule_of_thumb_check(f, compute=v),
    "pooled-group": lambda f, p, v: bs.compute_optimal(p, compute=v, group="a"),
    "report": lambda f, p, v: bs.report(f, "never-written", compute=v),
}


@pytest.mark.parametrize("kind", sorted(NOT_NUMBERS))
@pytest.mark.parametrize("call", sorted(VALUE_CALLS))
def test_dates_durations_and_huge_numbers_are_not_budgets(pinned, pooled, tmp_path, monkeypatch,
                                                           call, kind):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    value, words = NOT_NUMBERS[kind]
    name = "N" if call == "predict_loss-N" else "compute"
    with pytest.raises((TypeError, ValueError)) as excinfo:
        VALUE_CALLS[call](pinned, pooled, value)
    message = str(excinfo.value)
    assert message.startswith(f"{name} must be"), message
    assert words in message or "budgets in FLOPs (numbers > 0)" in message, message
    assert len(message) < 400  # a 400-digit number is shortened
    _own(excinfo)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda f: bs.plan(f, compute=10**400),
        lambda f: bs.misallocation_cost(f, N=1e9, D=2e10, price_per_flop=10**400),
        lambda f: bs.plan(f, compute=np.datetime64("2020-01-01")),
    ],
    ids=["plan", "price_per_flop", "plan-date"],
)
def test_one_number_options_refuse_dates_and_huge_numbers(pinned, call):
    with pytest.raises((TypeError, ValueError)) as excinfo:
        call(pinned)
    assert "must be" in str(excinfo.value) and len(str(excinfo.value)) < 400
    _own(excinfo)


def test_pass_at_k_counts_given_as_text_are_compared_as_numbers():
    runs = bs.load_dataset("monkeys_pythia_math_brown2024")
    runs = runs[runs["problem"].isin(runs["problem"].unique()[:3])]
    text = runs.assign(n_correct=(runs["n_samples"] + 1).astype(int).astype(str))
    with pytest.raises(ValueError, match="column 'n_correct' exceeds 'n_samples'") as excinfo:
        bs.fit_pass_at_k(text, draws=20, tune=20, chains=1, random_seed=0)
    _own(excinfo)


# ------------------------------------------------------------ tables read back, damaged
DAMAGE = {
    "cut-in-a-line": (lambda b: b[: len(b) // 2], "cells in row"),
    "cut-mid-cell": (lambda b: b[: b.index(b"\n", len(b) // 3) + 5], "cells in row"),
    "nul-byte": (lambda b: b.replace(b"\n", b"\x00\n", 1), "NUL byte"),
    "binary": (lambda b: bytes(range(256)), "NUL byte"),
    "empty": (lambda b: b"", "not a table written by export_summary"),
    "latin-1": (lambda b: b + "é".encode("latin-1"), "not a table written by export_summary"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("ext", ["csv", "json"])
def test_a_damaged_table_is_refused_naming_the_path(pinned, tmp_path, ext, damage):
    path = Path(bs.export_summary(pinned, tmp_path / f"summary.{ext}"))
    change, words = DAMAGE[damage]
    path.write_bytes(change(path.read_bytes()))
    with pytest.raises(ValueError, match="summary") as excinfo:
        bs.read_summary(path)
    message = str(excinfo.value)
    assert str(path) in message, message
    if ext == "csv":
        assert words in message, message
    _own(excinfo)


def test_a_prior_given_as_text_points_to_prior_parse(runs):
    with pytest.raises(TypeError, match=r"Prior\.parse\('Normal\(0\.3, 0\.1\)'\)") as excinfo:
        bs.fit("chinchilla", runs, priors={"alpha": "Normal(0.3, 0.1)"}, **FAST)
    _own(excinfo)


@pytest.mark.parametrize("dist", ["Flat", "HalfFlat"])
@pytest.mark.parametrize("name", ["alpha", "log_E", "sigma"])
def test_prior_draws_refuse_an_improper_prior_naming_it(runs, name, dist):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImproperPriorWarning)
        with pytest.raises(ValueError, match=rf"improper priors \({name}=Prior\('{dist}'\)") as e:
            bs.prior_predictive("chinchilla", runs, priors={name: Prior(dist)}, random_seed=0)
    assert "give each a proper one" in str(e.value)
    _own(e)


@pytest.mark.parametrize("label", ["", " ", "A", "a "], ids=["empty", "space", "case", "trailing"])
@pytest.mark.parametrize("command", [["summary"], ["optimal", "--compute", "1e22"]])
def test_cli_names_a_group_label_the_fit_does_not_have(pooled_file, tmp_path, capsys, command,
                                                       label):  # fmt: skip
    line = _cli([command[0], pooled_file, *command[1:], "--group", label], capsys, tmp_path)
    shown = label if label and label.strip() == label else repr(label)
    assert f"group {shown}: not a group of this fit (a, b, c)" in line, line
