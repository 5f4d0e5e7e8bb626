"""Stop 21's hostile testers' findings (issues 13 and 14), each fixed and held here.

Every case asserts the exception type, that the message names the culprit (and, for a
misspelling, the closest known name) and that it is raised by bayescale's own code, before any
sampling where that is the point. Cheap: no full NUTS run (two fits of 20 draws)."""

from __future__ import annotations

import importlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

import bayescale as bs
from bayescale.batch_options import check_shared_options
from bayescale.data import prepare_data
from bayescale.model import build_model, data_values
from bayescale.next_runs import _refit_kwargs
from bayescale.pooling import resolve_pooling
from bayescale.priors import Prior
from bayescale.sampling import compile_model, find_mode, nuts
from bayescale.sampling.nuts import check_target_accept

PACKAGE = Path(bs.__file__).resolve().parent
FAST = dict(draws=20, tune=20, chains=1, progressbar=False, random_seed=0)
LAW = bs.get_law("chinchilla")
FIT = importlib.import_module("bayescale.fit")


def _own(excinfo: pytest.ExceptionInfo) -> None:
    """Raised by bayescale, not inside a dependency."""
    path = Path(str(excinfo.traceback[-1].path)).resolve()
    assert path.is_relative_to(PACKAGE), f"raised in {path}, not in bayescale"


class SamplerReached(AssertionError):
    """The fit got past every check to the sampler."""


@pytest.fixture
def no_sampler(monkeypatch):
    def reached(*args, **kwargs):
        raise SamplerReached("the fit reached the sampler")

    monkeypatch.setattr(FIT, "_build_and_sample", reached)


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(30, random_seed=1)


# ------------------------------------------------------------- 1. the prior-mass check, once


@pytest.mark.parametrize("group", [None, "exp"])
def test_the_prior_mass_is_checked_once_per_fit_pooled_or_not(runs, no_sampler, monkeypatch, group):
    calls = []
    real = FIT.check_prior_mass

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(FIT, "check_prior_mass", counted)
    frame = runs.assign(exp=["a", "b", "c"] * 10)
    with pytest.raises(SamplerReached):
        bs.fit("chinchilla", frame, group=group, **FAST)
    assert len(calls) == 1
    calls.clear()
    far = {**LAW.default_priors, "alpha": Prior("Normal", mu=80.0, sigma=1.0)}
    with pytest.raises(ValueError, match="prior for 'alpha'") as excinfo:
        bs.fit("chinchilla", frame, group=group, priors={"alpha": far["alpha"]}, **FAST)
    _own(excinfo)
    assert len(calls) == 1
    # resolve_pooling no longer checks it (fit does, before it)
    pooling, _ = resolve_pooling(LAW, "exp", "shared", frame, far)
    assert pooling is not None


# ------------------------------------------------------- 2. misspelt keywords of bs.fit, up front


@pytest.mark.parametrize(
    "given, closest",
    [({"draw": 100}, "draws"), ({"random_sed": 1}, "random_seed"), ({"grup": "x"}, "group")],
)
def test_a_misspelt_fit_keyword_is_refused_before_sampling(runs, no_sampler, given, closest):
    kwargs = {k: v for k, v in FAST.items() if k not in given}
    with pytest.raises(TypeError) as excinfo:
        bs.fit("chinchilla", runs, **kwargs, **given)
    message = str(excinfo.value)
    assert f"fit({next(iter(given))}=...)" in message and f"did you mean {closest!r}" in message
    _own(excinfo)


def test_check_shared_options_names_its_caller():
    with pytest.raises(TypeError, match=r"^fit\(drawz=\.\.\.\).*did you mean 'draws'"):
        check_shared_options({"drawz": 1}, caller="fit", scope="")
    with pytest.raises(TypeError, match=r"fit_many\(drawz=\.\.\.\).*given to every job"):
        check_shared_options({"drawz": 1})


# ---------------------------------------------------------- 3. fixing a vector parameter


def test_fixing_a_vector_parameter_suggests_no_shape(no_sampler):
    law = bs.get_law("bnsl")
    with pytest.raises(ValueError, match="vector parameter 'c'") as excinfo:
        bs.fit(law, law.example_runs(), priors={"c": Prior.fixed(0.5)}, **FAST)
    assert "shape=" not in str(excinfo.value)
    _own(excinfo)
    # the advice given is accepted: a narrow prior of numbers
    with pytest.raises(SamplerReached):
        bs.fit(law, law.example_runs(), priors={"c": Prior("Normal", mu=0.5, sigma=1e-3)}, **FAST)


# ----------------------------------------------------- 4. scatter on an accuracy-type output


def test_scatter_is_refused_for_an_accuracy_output(no_sampler):
    law = bs.get_law("emergence")
    with pytest.raises(ValueError, match="scatter=True") as excinfo:
        bs.fit(law, law.example_runs(), scatter=True, **FAST)
    assert "beta" in str(excinfo.value)  # the likelihood that observes proportions
    _own(excinfo)


# --------------------------------------------------------------------------- 5. fit_many


@pytest.mark.parametrize("client", ["tcp://127.0.0.1:8786", object()])
def test_fit_many_refuses_a_client_that_is_not_one(runs, client):
    with pytest.raises(TypeError) as excinfo:
        bs.fit_many([bs.FitJob("chinchilla", runs)], client=client, progressbar=False)
    message = str(excinfo.value)
    assert "client" in message and "distributed.Client" in message and "Client('tcp://" in message
    _own(excinfo)


def test_fit_many_refuses_a_jobs_misspelt_option_before_dispatch(runs, monkeypatch):
    batch = importlib.import_module("bayescale.batch")

    def reached(*args, **kwargs):
        raise SamplerReached("a job was run")

    monkeypatch.setattr(batch, "fit_law", reached)
    jobs = [bs.FitJob("chinchilla", runs, {"random_seed": 1})]
    jobs.append(bs.FitJob("chinchilla", runs, {"drawz": 10}))
    with pytest.raises(TypeError) as excinfo:
        bs.fit_many(jobs, processes=1, progressbar=False)
    message = str(excinfo.value)
    assert "jobs[1]" in message and "drawz" in message and "did you mean 'draws'" in message
    _own(excinfo)
    with pytest.raises(ValueError, match=r"jobs\[0\].*target_accept"):
        job = bs.FitJob("chinchilla", runs, {"target_accept": 1.5})
        bs.fit_many([job], processes=1, progressbar=False)


# ---------------------------------------------------------------- 6. group= names itself


def test_a_missing_group_column_is_named_as_group(runs, no_sampler):
    with pytest.raises(ValueError) as excinfo:
        bs.fit("chinchilla", runs, group="experiment", **FAST)
    message = str(excinfo.value)
    assert message.startswith("group='experiment'") and "groups" not in message.split(":")[0]
    _own(excinfo)
    with pytest.raises(ValueError, match=r"^groups='experiment': column 'experiment'"):
        bs.fit("chinchilla", runs, groups="experiment", **FAST)


# --------------------------------------------------------------------------- 7. likelihoods


def test_an_unknown_likelihood_names_the_closest(runs):
    with pytest.raises(ValueError, match="did you mean 'studentt'") as excinfo:
        bs.get_likelihood("studnet")
    _own(excinfo)
    with pytest.raises(ValueError, match="unknown likelihood 'studnet'; did you mean 'studentt'"):
        bs.fit("chinchilla", runs, likelihood="studnet", **FAST)


# ----------------------------------------------------- 8. a misspelt keyword taken as an input


def test_a_misspelt_keyword_taken_for_a_held_input_is_named():
    pinned = bs.testing.pinned_fit(random_seed=0, draws=20, chains=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as excinfo:
            bs.compute_optimal(pinned, compute=1e22, ci_prb=0.9)
    message = str(excinfo.value)
    assert "['ci_prb']" in message and "ci_prb= looks like ci_prob=" in message
    _own(excinfo)
    future = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)]
    assert any("ci_prob=" in m and "ci_prb" in m for m in future)
    # a keyword the function takes, misspelt: "did you mean"
    with pytest.warns(FutureWarning, match="methd"):
        with pytest.raises(ValueError, match=r"did you mean method= \(for methd=\)"):
            bs.compute_optimal(pinned, compute=1e22, methd="numeric")


# ------------------------------------------------------------------------ 9. target_accept


@pytest.mark.parametrize("bad", [1.5, 1.0, 0.0, -0.2, float("nan"), float("inf"), True, "0.9"])
def test_target_accept_must_lie_strictly_inside_0_1(bad):
    with pytest.raises(ValueError, match="target_accept") as excinfo:
        check_target_accept(bad)
    _own(excinfo)
    with pytest.raises(ValueError, match="target_accept"):
        check_shared_options({"target_accept": bad})
    assert check_target_accept(0.8) == 0.8


# ---------------------------------------------------------------- 10. find_mode's restart


@pytest.fixture(scope="module")
def llama():
    iso = bs.load_dataset("isoflops_openathena")
    keep = (iso["experiment"] == "llama_3__raw_loss") & (iso["C"] < 3e21)
    frame = iso.loc[keep, ["N", "D", "loss"]].reset_index(drop=True)
    lik = bs.get_likelihood("studentt")
    prepared = prepare_data(LAW, frame, likelihood=lik)
    reference = LAW.compute_reference(prepared.inputs)
    priors = {**LAW.default_priors, **lik.noise_priors}
    values = data_values(LAW, prepared, reference, lik, {})
    model = build_model(LAW, prepared, priors, lik, reference, values)
    return compile_model(model, cache=True), values


def _logp(compiled, values, x):
    return float(compiled.logp_fn(x, *compiled.data_args(values, compiled.data_names))[0])


def test_find_mode_restarts_a_false_convergence(llama, monkeypatch):
    c, values = llama
    args = c.data_args(values, c.data_names)

    def negative(x):
        value, grad = c.logp_fn(x, *args)[:2]
        return -float(value), -np.asarray(grad)

    # reference: a different optimiser (BFGS with a gradient tolerance) from the same start
    ref = optimize.minimize(negative, c.x0, jac=True, method="BFGS", options={"gtol": 1e-6})
    monkeypatch.setattr(nuts, "MODE_RESTARTS", 0)
    false, _ = find_mode(c, values, c.x0)
    assert _logp(c, values, false) < -ref.fun - 100  # the precondition: L-BFGS-B stops early
    monkeypatch.undo()
    x, scale = find_mode(c, values, c.x0)
    assert _logp(c, values, x) == pytest.approx(-ref.fun, abs=1e-3)
    np.testing.assert_allclose(x, ref.x, atol=2e-3)
    assert np.all(np.isfinite(scale)) and np.all(scale > 0)


def test_find_mode_leaves_a_converged_mode_bit_for_bit(llama, monkeypatch):
    c, values = llama
    start = np.zeros_like(c.x0)  # this start converges
    x, scale = find_mode(c, values, start)
    monkeypatch.setattr(nuts, "MODE_RESTARTS", 0)
    x0, scale0 = find_mode(c, values, start)
    assert np.array_equal(x, x0) and np.array_equal(scale, scale0)


# ------------------------------------------------------- 11. refits keep the sampler settings


def test_refits_carry_the_fits_sampler_settings(runs, tmp_path):
    f = bs.fit("chinchilla", runs, target_accept=0.9, warn=False, **{**FAST, "tune": 30})
    kwargs = _refit_kwargs(f, None)
    assert kwargs["tune"] == 30 and kwargs["target_accept"] == 0.9
    assert kwargs["draws"] == 20 and kwargs["chains"] == 1 and kwargs["sampler"] == "nutpie"
    assert "log_likelihood" not in f._idata.children  # reading them computed nothing
    path = f.save(str(tmp_path / "fit.nc"))
    loaded = _refit_kwargs(bs.Fit.load(path), {"tune": 40})
    assert loaded["tune"] == 40 and loaded["target_accept"] == 0.9
    # refitted with another sampler: the recorded options were nutpie's, none carried over
    other = _refit_kwargs(f, {"sampler": "pymc"})
    assert other["sampler"] == "pymc" and "target_accept" not in other and "tune" not in other
    # a fit saved before the settings were recorded: bs.fit's default warm-up, not its draws
    tree = f._idata
    tree.attrs = {k: v for k, v in tree.attrs.items() if k != "bayescale_sampler_options"}
    assert "tune" not in _refit_kwargs(f, None) and "target_accept" not in _refit_kwargs(f, None)
    assert json.loads(json.dumps(_refit_kwargs(f, None)["draws"])) == 20


# -------------------------------------------------------------- 12. fit_result.py's size


def test_fit_result_stays_readable_and_its_helpers_moved_whole(runs):
    lines = (PACKAGE / "fit_result.py").read_text().count("\n")
    assert lines < 600
    from bayescale._fit_common import convergence_rows, fill_log_likelihood

    f = bs.fit("chinchilla", runs, warn=False, **FAST)
    assert f._loglik_pending is not None
    fill_log_likelihood(f)
    assert "log_likelihood" in f.idata.children and f._loglik_pending is None
    rows = convergence_rows(f, ["alpha"], f.posterior["alpha"].to_numpy()[None])
    assert rows.shape == (1, 3) and "<b>bayescale.Fit</b>" in f._repr_html_()
