"""fit_many's batch path: a job's draws are bs.fit's, a bad shared option is one error up front,
and a structure compiled before in the process is found by its definition without building the
job's PyMC model (the same draws as a fit that builds it)."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs
from bayescale import batch_options
from bayescale.sampling import backends

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


def test_fit_many_matches_fit_and_records_cpu_time(runs):
    jobs = [bs.FitJob("chinchilla", runs, {"random_seed": s}) for s in (5, 6)]
    kw = {k: v for k, v in KW.items() if k != "processes"}
    batch = bs.fit_many(jobs, processes=2, **kw)
    assert batch.ok and all(r.cpu_seconds > 0 for r in batch)
    _same(batch.fits[1], bs.fit("chinchilla", runs, random_seed=6, **KW))
    assert not np.array_equal(batch.fits[0].posterior["alpha"], batch.fits[1].posterior["alpha"])


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
        {"maxdepth": 8, "target_accept": 0.95, "draws": 10, "groups": "N"}
    )


def test_a_compiled_structure_is_reused_without_building_the_model(monkeypatch):
    """Fits of one structure find its compiled model by definition, without building their
    PyMC model, and draw what a fit that builds it draws; new data, a new prior or a new
    likelihood are still their own."""
    runs = bs.testing.simulate_chinchilla(n=44, random_seed=6)  # a shape no other test fits
    other = bs.testing.simulate_chinchilla(n=44, random_seed=5)  # same shape, other values
    monkeypatch.setattr(backends, "_BY_DEFINITION", {})
    first = bs.fit("chinchilla", runs, random_seed=1, **KW)
    second = bs.fit("chinchilla", other, random_seed=1, **KW)
    assert first._model is not None and second._model is None
    prior = {"alpha": bs.Prior("Normal", mu=0.3, sigma=0.05)}
    shortcut = {
        "plain": second,
        "prior": bs.fit("chinchilla", other, random_seed=1, priors=prior, **KW),
        "normal": bs.fit("chinchilla", other, random_seed=1, likelihood="normal", **KW),
    }
    monkeypatch.setattr(backends, "_BY_DEFINITION", {})  # the reference fits build their model
    built = {
        "plain": bs.fit("chinchilla", other, random_seed=1, **KW),
        "prior": bs.fit("chinchilla", other, random_seed=1, priors=prior, **KW),
        "normal": bs.fit("chinchilla", other, random_seed=1, likelihood="normal", **KW),
    }
    assert built["plain"]._model is not None
    for name in shortcut:
        _same(shortcut[name], built[name])
