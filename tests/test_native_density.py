"""The native log-density callback (``sampling/native.py``) gives the Python callback's draws to
the bit; ``fit_many`` uses it for big batches and refuses a bad shared option once, up front."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs
from bayescale import batch_options
from bayescale.sampling import native

KW = dict(draws=60, tune=60, chains=2, warn=False, progressbar=False, processes=1)


def _same(a: bs.Fit, b: bs.Fit) -> None:
    assert a.idata.attrs["bayescale_tune_steps"] == b.idata.attrs["bayescale_tune_steps"]
    for group in ("posterior", "sample_stats"):
        ds_a, ds_b = a.idata[group], b.idata[group]
        assert sorted(ds_a.data_vars) == sorted(ds_b.data_vars), group
        for name in ds_a.data_vars:
            assert np.array_equal(ds_a[name], ds_b[name], equal_nan=True), (group, name)


@pytest.fixture(scope="module")
def runs():
    return bs.testing.simulate_chinchilla(n=40, random_seed=4)


def test_native_callback_gives_the_same_draws_and_statistics(runs):
    python = bs.fit("chinchilla", runs, random_seed=11, **KW)
    fast = bs.fit("chinchilla", runs, random_seed=11, native=True, **KW)
    _same(python, fast)
    # not a constant: another seed moves the draws
    other = bs.fit("chinchilla", runs, random_seed=12, native=True, **KW)
    assert not np.array_equal(other.posterior["alpha"], fast.posterior["alpha"])


def test_draws_not_in_the_ring_are_evaluated_again(runs, monkeypatch):
    """With a ring of one position nearly every stored draw is recomputed: still the same."""
    monkeypatch.setattr(native, "RING", 1)
    monkeypatch.setattr(native, "_NATIVE", {})
    python = bs.fit("chinchilla", runs, random_seed=3, **KW)
    fast = bs.fit("chinchilla", runs, random_seed=3, native=True, **KW)
    _same(python, fast)


def test_fit_many_on_the_native_callback_matches_fit(runs):
    jobs = [bs.FitJob("chinchilla", runs, {"random_seed": s}) for s in (5, 6)]
    kw = {k: v for k, v in KW.items() if k != "processes"}
    batch = bs.fit_many(jobs, processes=2, native=True, **kw)
    assert batch.ok and all(r.cpu_seconds > 0 for r in batch)
    _same(batch.fits[1], bs.fit("chinchilla", runs, random_seed=6, **KW))


def test_native_is_chosen_for_big_batches_only(runs):
    job = bs.FitJob("chinchilla", runs, {"random_seed": 1})
    big = dict(draws=1000, chains=4)  # 4 × (1000 + 1000 assumed warm-up) iterations a fit
    need = -(-batch_options.NATIVE_MIN_ITERATIONS // 8000)  # fits per worker that repay it
    assert batch_options.native_jobs([job] * need, big, 1) == set(range(need))
    assert batch_options.native_jobs([job] * need, big, 2) == set()
    assert batch_options.native_jobs([job] * 2 * need, big, 2) == set(range(2 * need))
    assert batch_options.native_jobs([job] * need, {**big, "sampler": "pymc"}, 1) == set()
    assert batch_options.native_jobs([job], {"native": True}, 4) == {0}
    assert batch_options.native_jobs([job] * 99, {**big, "native": False}, 1) == set()


def test_a_bad_shared_option_is_one_error_up_front(runs):
    jobs = [bs.FitJob("chinchilla", runs, {"random_seed": s}) for s in range(3)]
    with pytest.raises(TypeError, match=r"fit_many\(drawz=\.\.\.\).*did you mean 'draws'"):
        bs.fit_many(jobs, processes=2, progressbar=False, drawz=100)
    with pytest.raises(TypeError, match=r"max_treedepth.*did you mean 'maxdepth'"):
        bs.fit_many(jobs, processes=1, progressbar=False, max_treedepth=5)
    with pytest.raises(ValueError, match=r"target_accept='high'"):
        bs.fit_many(jobs, progressbar=False, target_accept="high")
    with pytest.raises(ValueError, match=r"every job.*draws must be a whole number"):
        bs.fit_many(jobs, progressbar=False, draws=0)
    with pytest.raises(ValueError, match=r"every job.*unknown likelihood 'studnet'"):
        bs.fit_many(jobs, progressbar=False, likelihood="studnet")
    with pytest.raises(ValueError, match=r"sampler=.*'nutpy'"):
        bs.fit_many(jobs, progressbar=False, sampler="nutpy")
    # good options pass: nutpie settings, sampler options, fit's own
    batch_options.check_shared_options(
        {"maxdepth": 8, "target_accept": 0.95, "native": False, "draws": 10, "groups": "N"}
    )


def test_batch_fits_reuse_the_compiled_model_without_building_theirs():
    """Native (batch) fits of one structure find its compiled model by definition, without
    building their PyMC model; new data, a new prior or a new likelihood are still theirs."""
    runs = bs.testing.simulate_chinchilla(n=44, random_seed=6)  # a shape no other test fits
    other = bs.testing.simulate_chinchilla(n=44, random_seed=5)  # same shape, other values
    first = bs.fit("chinchilla", runs, random_seed=1, native=True, **KW)
    second = bs.fit("chinchilla", other, random_seed=1, native=True, **KW)
    assert first._model is not None and second._model is None
    _same(second, bs.fit("chinchilla", other, random_seed=1, **KW))
    prior = {"alpha": bs.Prior("Normal", mu=0.3, sigma=0.05)}
    for extra in ({"priors": prior}, {"likelihood": "normal"}):
        native_fit = bs.fit("chinchilla", other, random_seed=1, native=True, **extra, **KW)
        _same(native_fit, bs.fit("chinchilla", other, random_seed=1, **extra, **KW))
    assert second.model is not None  # rebuilt on demand
