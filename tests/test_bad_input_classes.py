"""Hostile input, by class (the stop-20 corpus): each test covers a class of bad input found by
a generated corpus, through several members of the class, and checks that

* the right exception (or warning) comes out, raised by bayescale's own code (the traceback's
  last frame is in the package, not in numpy, pandas, PyMC, ...);
* the message names the culprit (column, parameter, option, path) and says what to do;
* no existing file changed and none was left behind.

Fits are pinned (``bayescale.testing``); the cases that must reach the sampler are ``slow``.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import warnings
import zipfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescale as bs
from bayescale._api import check_path, check_values
from bayescale.cli import main
from bayescale.data import DataWarning, prepare_data
from bayescale.priors import Prior
from bayescale.structure import Grouping, Structure

PACKAGE = Path(bs.__file__).resolve().parent
FAST = dict(draws=20, tune=20, chains=1, progressbar=False, random_seed=0)


def _own(excinfo: pytest.ExceptionInfo) -> None:
    """Raised by bayescale, not inside a dependency."""
    path = Path(str(excinfo.traceback[-1].path)).resolve()
    assert path.is_relative_to(PACKAGE), f"raised in {path}, not in bayescale"


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(30, random_seed=1)


@pytest.fixture(scope="module")
def pinned():
    return bs.testing.pinned_fit(random_seed=0, draws=50)


def _cli(argv, capsys, root):
    before = _digest(root)
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err and err[-1].startswith("bayescale: error: "), err
    assert _digest(root) == before, "a file changed or appeared"
    return err[-1]


# ------------------------------------------------------------ a CSV with another separator
@pytest.mark.parametrize(("sep", "shown"), [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")])
def test_a_header_glued_by_another_separator_is_named_with_how_to_read_it(runs, sep, shown):
    text = runs[["N", "D", "loss"]].to_csv(index=False, sep=sep)
    frame = pd.DataFrame({text.splitlines()[0]: text.splitlines()[1:]})  # read with commas
    with pytest.raises(ValueError, match=shown) as excinfo:
        prepare_data(bs.get_law("chinchilla"), frame)
    assert f"sep={sep!r}" in str(excinfo.value) and "pd.read_csv" in str(excinfo.value)
    _own(excinfo)


@pytest.mark.parametrize(("sep", "shown"), [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")])
def test_cli_names_the_separator_of_a_csv_file(runs, tmp_path, capsys, sep, shown):
    (tmp_path / "runs.csv").write_text(runs[["N", "D", "loss"]].to_csv(index=False, sep=sep))
    for argv in (
        ["fit", "chinchilla", tmp_path / "runs.csv", "--out", tmp_path / "f.nc"],
        ["backtest", "chinchilla", tmp_path / "runs.csv", "--cutoff", "1e20"],
    ):
        line = _cli(argv, capsys, tmp_path)
        assert shown in line and "runs.csv" in line and f"sep={sep!r}" in line


# ------------------------------------------------------------ a file of another format as .csv
@pytest.mark.parametrize(
    ("kind", "word"),
    [("gzip", "gzip"), ("zip", "ZIP"), ("netcdf", "NetCDF"), ("utf16", "UTF-16")],
)
def test_cli_says_what_a_file_named_csv_really_is(runs, pinned, tmp_path, capsys, kind, word):
    text = runs.to_csv(index=False)
    path = tmp_path / "runs.csv"
    if kind == "gzip":
        path.write_bytes(gzip.compress(text.encode()))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    elif kind == "netcdf":
        pinned.save(path.with_suffix(".nc"))
        path.write_bytes(path.with_suffix(".nc").read_bytes())
    else:
        path.write_bytes(text.encode("utf-16"))
    line = _cli(["fit", "chinchilla", path, "--out", tmp_path / "f.nc"], capsys, tmp_path)
    assert word in line and "runs.csv" in line
    # a compressed file named for what it is is read
    if kind == "gzip":
        gz = tmp_path / "runs.csv.gz"
        gz.write_bytes(gzip.compress(text.encode()))
        assert len(bs.cli_common._read_csv(str(gz))) == len(runs)


# ------------------------------------------------------------ column dtypes and output values
@pytest.mark.parametrize(
    "column",
    [
        pd.array([True, False] * 15, dtype="bool[pyarrow]"),
        pd.array([True, False] * 15, dtype="boolean"),
        np.array([True, False] * 15),
    ],
    ids=["pyarrow", "nullable", "numpy"],
)
def test_boolean_columns_of_every_backend_are_refused(runs, column):
    with pytest.raises(ValueError, match="column 'N' is boolean") as excinfo:
        prepare_data(bs.get_law("chinchilla"), runs.assign(N=column))
    _own(excinfo)


@pytest.mark.parametrize("big", [10**400, -(10**400)])
def test_whole_numbers_beyond_a_float_are_named(runs, big):
    cells = [big, *runs["N"].iloc[1:]]
    with pytest.raises(ValueError, match=r"column 'N' has infinite values in 1 row\(s\): 0") as e:
        prepare_data(bs.get_law("chinchilla"), runs.assign(N=cells))
    assert "characters)" in str(e.value)  # the 401-digit number shortened
    _own(e)


@pytest.mark.parametrize("value", [3.0, 1e-9])
def test_an_output_with_one_value_warns(runs, value):
    with pytest.warns(DataWarning, match=r"column 'loss' has the same value .* nothing"):
        prepare_data(bs.get_law("chinchilla"), runs.assign(loss=value), n_parameters=7)


@pytest.mark.parametrize("losses", [lambda y: y * 1e-4, lambda y: np.r_[5e-324, y[1:]]])
def test_a_loss_too_small_for_nats_per_token_warns(runs, losses):
    frame = runs.assign(loss=losses(runs["loss"].to_numpy()))
    with pytest.warns(DataWarning, match=r"column 'loss' is below 0\.001 nats/token"):
        prepare_data(bs.get_law("chinchilla"), frame, n_parameters=7)


# ------------------------------------------------------------ masked arrays, subnormal numbers
@pytest.mark.parametrize(
    "call",
    [
        lambda f, v: bs.compute_optimal(f, compute=v),
        lambda f, v: bs.predict_loss(f, N=v, D=1.4e12),
        lambda f, v: bs.plots.plot_frontier(f, compute=v),
    ],
    ids=["compute_optimal", "predict_loss", "plot_frontier"],
)
def test_masked_arrays_are_refused_not_unmasked(pinned, call):
    values = np.ma.array([7e21, 1e23], mask=[False, True])
    with pytest.raises(ValueError, match=r"masked entries at positions \[1\]") as excinfo:
        call(pinned, values)
    _own(excinfo)


@pytest.mark.parametrize(
    "call",
    [
        lambda f: bs.compute_optimal(f, compute=5e-324),
        lambda f: bs.plan(f, compute=5e-324),
        lambda f: bs.predict_loss(f, N=5e-324, D=1.4e12),
        lambda f: check_values("compute", [1e22, -5e-324], allow_zero=True),
    ],
    ids=["compute_optimal", "plan", "predict_loss", "allow_zero"],
)
def test_subnormal_numbers_are_refused(pinned, call):
    with pytest.raises(ValueError, match="subnormal") as excinfo:
        call(pinned)
    _own(excinfo)


# ------------------------------------------------------------ paths no file system accepts
@pytest.mark.parametrize("name", ["a\0b.nc", "x" * 300 + ".nc"], ids=["nul", "too-long"])
def test_paths_no_file_system_accepts_are_refused_first(pinned, tmp_path, name):
    before = _digest(tmp_path)
    for call in (
        lambda: pinned.save(str(tmp_path / name)),
        lambda: bs.export_summary(pinned, str(tmp_path / name).replace(".nc", ".csv")),
        lambda: check_path(str(tmp_path / name)),
    ):
        with pytest.raises(ValueError, match=r"NUL|255 bytes") as excinfo:
            call()
        _own(excinfo)
    assert _digest(tmp_path) == before


# ------------------------------------------------------------ priors
DISCRETE = ["Bernoulli", "Binomial", "Categorical", "DiracDelta", "DiscreteUniform", "Poisson"]
DISCRETE_ARGS = {
    "Bernoulli": dict(p=0.5),
    "Binomial": dict(n=3, p=0.5),
    "Categorical": dict(p=[0.5, 0.5]),
    "DiracDelta": dict(c=0.3),
    "DiscreteUniform": dict(lower=0, upper=3),
    "Poisson": dict(mu=3.0),
}


@pytest.mark.parametrize("dist", DISCRETE)
def test_discrete_priors_are_refused_nuts_needs_continuous(dist):
    with pytest.raises(ValueError, match=rf"prior {dist}: a discrete distribution.*NUTS") as e:
        Prior(dist, **DISCRETE_ARGS[dist])
    _own(e)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (dict(mu=0.3, sigma=1e300), ["sigma=1e+300", "too large"]),
        (dict(mu=1e308, sigma=0.1), ["mu=1e+308", "too large"]),
        (dict(mu=0.3, sigma=1e-320), ["sigma=1e-320", "subnormal"]),
    ],
)
def test_prior_numbers_beyond_what_pymc_holds_are_refused(params, words):
    with pytest.raises(ValueError) as excinfo:
        Prior("Normal", **params)
    assert all(w in str(excinfo.value) for w in words), str(excinfo.value)
    _own(excinfo)


def test_array_like_prior_numbers_are_plain_and_masked_ones_refused():
    for sigma in (xr.DataArray(0.1), np.array(0.1), np.float32(0.1)):
        prior = Prior("Normal", mu=0.3, sigma=sigma)
        assert Prior.from_dict(json.loads(prior.to_json())) == prior
    assert Prior("Normal", mu=0.3, sigma=pd.Series([0.1])).params["sigma"] == [0.1]
    with pytest.raises(ValueError, match=r"sigma=\[0\.1, 0\.2\] is a masked array") as excinfo:
        Prior("Normal", mu=0.3, sigma=np.ma.array([0.1, 0.2], mask=[False, True]))
    _own(excinfo)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: Prior.from_dict(None), ["Prior.from_dict takes a mapping", "NoneType"]),
        (lambda: Prior.from_dict(3.0), ["Prior.from_dict takes a mapping", "float"]),
        (lambda: Prior.parse(None), ["Prior.parse takes text", "NoneType"]),
        (lambda: Prior.parse(0.3), ["Prior.parse takes text", "float"]),
    ],
)
def test_prior_readers_name_what_they_take(call, words):
    with pytest.raises(TypeError) as excinfo:
        call()
    assert all(w in str(excinfo.value) for w in words)
    _own(excinfo)


@pytest.mark.parametrize(
    ("name", "prior", "words"),
    [
        ("sigma", Prior("HalfNormal", sigma=[0.1, 0.2]), ["'sigma'", "vector arguments"]),
        ("nu", Prior("Gamma", alpha=[2.0, 3.0], beta=0.1), ["'nu'", "vector arguments"]),
    ],
)
def test_a_scalar_parameter_refuses_a_vector_prior(runs, name, prior, words):
    with pytest.raises(ValueError, match="is a scalar parameter") as excinfo:
        bs.fit("chinchilla", runs, priors={name: prior}, **FAST)
    assert all(w in str(excinfo.value) for w in words)
    _own(excinfo)


# ------------------------------------------------------------ grouping columns
@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        ([1, "1"] * 15, ValueError, ["'exp'", "read the same", "1, '1'"]),
        ([1.5, "1.5"] * 15, ValueError, ["'exp'", "read the same"]),
        ([["a"], ["b"]] * 15, TypeError, ["'exp'", "list"]),
        ([{"a": 1}] * 30, TypeError, ["'exp'", "dict"]),
    ],
    ids=["int-str", "float-str", "lists", "dicts"],
)
def test_group_labels_that_would_merge_or_are_not_labels_are_refused(runs, labels, error, words):
    frame = runs.assign(exp=labels)
    for how in ({"group": "exp"}, {"groups": "exp"}):
        with pytest.raises(error) as excinfo:
            bs.fit("chinchilla", frame, **how, **FAST)
        assert all(w in str(excinfo.value) for w in words), str(excinfo.value)
        _own(excinfo)


def test_boolean_group_labels_are_two_groups():
    grouping, codes = Grouping.from_frame(pd.DataFrame({"g": [True, False, True]}), "g")
    assert grouping.labels == ("False", "True") and codes.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("how", "labels", "words"),
    [
        ("groups", ["a"] * 30, ["groups='exp'", "single group"]),
        ("groups", [f"g{i}" for i in range(30)], ["groups='exp'", "single run"]),
        ("group", [f"g{i}" for i in range(30)], ["group='exp'", "single run"]),
    ],
    ids=["groups-one-group", "groups-one-run-each", "group-one-run-each"],
)
def test_groups_that_cannot_be_told_apart_warn(runs, how, labels, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # stops the fit before it samples
        with pytest.raises(DataWarning) as excinfo:
            bs.fit("chinchilla", runs.assign(exp=labels), **{how: "exp"}, **FAST)
    assert all(w in str(excinfo.value) for w in words), str(excinfo.value)


# ------------------------------------------------------------ numbers beyond a float
def test_extrapolation_distance_is_finite_where_6nd_overflows():
    s = Structure(axes=("C",), ranges={"C": (18.0, 21.0)}, drift=True)
    n = np.array([1e200, 1e10])
    d = s.distance({"N": n, "D": n})
    expected = np.log10(6) + 2 * np.log10(n) - 21.0
    np.testing.assert_allclose(d, np.maximum(expected, 0.0))
    assert np.isfinite(d).all()


# ------------------------------------------------------------ first arguments, candidates, splits
@pytest.mark.parametrize("fits", [None, "fit.nc", 3.0, [None], {"a": "fit.nc"}])
def test_compare_names_what_it_takes(fits):
    with pytest.raises(TypeError, match="compare takes fits") as excinfo:
        bs.compare(fits)
    _own(excinfo)


@pytest.mark.parametrize("column", ["N", "D"])
def test_next_runs_candidates_given_as_text_are_refused(pinned, column):
    candidates = pd.DataFrame({"N": [1e9, 2e9], "D": [2e10, 4e10]}).astype({column: str})
    with pytest.raises(TypeError, match=rf"candidates\['{column}'\] must be numbers") as e:
        bs.next_runs(pinned, candidates, compute=1e22, n_outcomes=4, refit=False)
    _own(e)


@pytest.mark.parametrize("column", ["N", "D"])
def test_backtest_checks_the_runs_before_computing_its_split(runs, column):
    frame = runs.astype({column: object})
    frame.loc[frame.index[3], column] = "1,000,000"
    with pytest.raises(ValueError, match=rf"column '{column}' has non-numeric values") as e:
        bs.backtest("chinchilla", frame, {"C": 1e20}, **FAST)
    _own(e)


# ------------------------------------------------------------ interrupted multi-file writes
def test_an_interrupted_stack_save_leaves_the_old_stack(tmp_path, monkeypatch):
    runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    pinned, other = (bs.testing.pinned_fit(random_seed=s, data=runs, draws=50) for s in (0, 1))
    bs.stack({"a": pinned, "b": other}, weights={"a": 0.5, "b": 0.5}).save(tmp_path / "s")
    before = _digest(tmp_path)
    real, calls = bs.Fit.save, []

    def interrupted(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(bs.Fit, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bs.stack({"a": other, "b": pinned}, weights={"a": 0.3, "b": 0.7}).save(tmp_path / "s")
    monkeypatch.undo()
    assert _digest(tmp_path) == before  # the old files whole, nothing left behind
    assert bs.load_stack(tmp_path / "s").weights.to_dict() == {"a": 0.5, "b": 0.5}
    # a weight edited in stack.json is refused naming the file
    meta = json.loads((tmp_path / "s" / "stack.json").read_text())
    meta["members"][0]["weight"] = float("nan")
    (tmp_path / "s" / "stack.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"stack\.json: not a valid stack description"):
        bs.load_stack(tmp_path / "s")


def test_a_report_that_fails_while_writing_leaves_the_old_bundle(pinned, tmp_path, monkeypatch):
    from bayescale.report import BUNDLE_FILES

    (tmp_path / "r").mkdir()
    for name in BUNDLE_FILES:  # an earlier bundle (its content does not matter here)
        (tmp_path / "r" / name).write_text(f"old {name}\n")
    before = _digest(tmp_path)
    from matplotlib.figure import Figure

    real = Figure.savefig

    def full_disk(self, fname, *args, **kwargs):
        if str(fname).endswith(".svg"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", full_disk)
    with pytest.raises(OSError, match="no space left"):
        bs.report(pinned, tmp_path / "r", compute=[1e22])
    assert _digest(tmp_path) == before  # not a bundle of two fits; no temporary left


# ------------------------------------------------------------ failures that reach the sampler
@pytest.mark.slow
def test_a_fixed_value_no_run_allows_is_named_when_every_start_fails(runs):
    with pytest.raises(ValueError, match="starting point") as excinfo:
        bs.fit("chinchilla", runs, priors={"alpha": Prior.fixed(1e308)}, **FAST)
    assert "alpha=Prior('Fixed', value=1e+308)" in str(excinfo.value)
    _own(excinfo)


@pytest.mark.slow
def test_a_fit_with_a_sampled_only_parameter_fixed_summarises(runs):
    fit = bs.fit("chinchilla", runs, priors={"log_E": Prior.fixed(0.6)}, **FAST)
    table = fit.summary(kind="all")
    assert "log_E" not in table.index and "E" in table.index
    np.testing.assert_allclose(fit.posterior["E"].to_numpy(), np.exp(0.6))
