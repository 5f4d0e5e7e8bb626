"""The sampler backends (``bayescale.sampling.backends``): one interface, three engines; data
swapped into a compiled model gives the draws of a model built on that data."""

from __future__ import annotations

import numpy as np
import pytest

import bayescale as bs
from bayescale import sampling
from bayescale.sampling import backends


def _model(y):
    import pymc as pm

    with pm.Model() as model:
        data = pm.Data("y", np.asarray(y, dtype=float))
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("obs", mu, 1.0, observed=data)
    return model


def test_every_backend_implements_the_interface():
    assert set(sampling.BACKENDS) == {"nutpie", "nutpie-compiled", "pymc"}
    for name in sampling.BACKENDS:
        backend = sampling.get_backend(name)
        assert isinstance(backend, sampling.Backend) and backend.name == name
    with pytest.raises(ValueError, match="sampler must be one of"):
        sampling.get_backend("stan")


@pytest.mark.parametrize("name", ["nutpie", "nutpie-compiled"])
def test_swapped_data_gives_the_draws_of_a_fresh_model(name):
    """compile once → set_data(new) → sample equals compile(model on new data) → sample, and
    the posterior mean is the conjugate one (Normal prior sd 10, unit noise)."""
    y1, y2 = [0.5, -0.2, 0.1], [3.0, 4.0, 5.0, 4.5]
    backend = sampling.get_backend(name)
    compiled = backend.compile(_model(y1))
    kw = dict(draws=300, tune=200, chains=2, random_seed=4, progressbar=False)
    swapped = backend.sample(backend.set_data(compiled, {"y": np.array(y2)}), **kw)
    backends._NUTPIE_MODELS.clear()
    sampling.compile._CACHE.clear()
    fresh_backend = sampling.get_backend(name)
    fresh_model = _model(y2)
    fresh = fresh_backend.sample(
        fresh_backend.set_data(fresh_backend.compile(fresh_model), {"y": np.array(y2)}), **kw
    )
    a, b = swapped["posterior"]["mu"].to_numpy(), fresh["posterior"]["mu"].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 300)
    n = len(y2)
    post_mean, post_sd = sum(y2) / (n + 1 / 100), (n + 1 / 100) ** -0.5
    assert abs(a.mean() - post_mean) < 4 * post_sd / np.sqrt(100)  # ESS ≥ 100 of 600 draws
    assert {"n_steps", "diverging"} <= set(swapped["sample_stats"].data_vars)


def test_nutpie_compiled_draws_do_not_depend_on_cores_and_reuse_the_compiled_model():
    backend = sampling.get_backend("nutpie-compiled")
    model = _model([1.0, 2.0])
    compiled = backend.compile(model)
    assert backend.compile(_model([5.0, 6.0, 7.0])) is compiled  # one structure, one compile
    kw = dict(draws=100, tune=100, chains=3, random_seed=9, progressbar=False)
    ready = backend.set_data(compiled, {"y": np.array([1.0, 2.0])})
    one = backend.sample(ready, cores=1, **kw)["posterior"]["mu"].to_numpy()
    three = backend.sample(ready, cores=3, **kw)["posterior"]["mu"].to_numpy()
    np.testing.assert_array_equal(one, three)
    assert set(ready.timings) == {"init", "sampling", "tune", "draws"}


def test_pymc_backend_sets_data():
    backend = sampling.get_backend("pymc")
    model = _model([0.0, 0.0])
    ready = backend.set_data(backend.compile(model), {"y": np.array([10.0, 12.0, 14.0])})
    assert ready.compiled is model and model["y"].get_value().tolist() == [10.0, 12.0, 14.0]


@pytest.mark.slow
def test_fit_with_the_compiled_nutpie_backend_matches_the_default_backend():
    """``bs.fit(sampler="nutpie-compiled")`` samples the same posterior as the default backend:
    posterior means of E, α, β within 3 Monte Carlo standard errors of their difference
    (sd·√(1/ESS₁ + 1/ESS₂), bulk ESS ≥ 100 each) on simulated Chinchilla runs."""
    runs = bs.testing.simulate_chinchilla(n=80, random_seed=3)
    kw = dict(draws=300, tune=300, chains=2, random_seed=3, progressbar=False, warn=False)
    compiled = bs.fit("chinchilla", runs, sampler="nutpie-compiled", **kw)
    default = bs.fit("chinchilla", runs, **kw)
    assert compiled.sampler == "nutpie-compiled"
    a, b = compiled.summary(), default.summary()
    for name in ("E", "alpha", "beta"):
        ess_a, ess_b = a.loc[name, "ess_bulk"], b.loc[name, "ess_bulk"]
        assert ess_a >= 100 and ess_b >= 100, name
        mcse = b.loc[name, "sd"] * np.sqrt(1 / ess_a + 1 / ess_b)
        assert abs(a.loc[name, "mean"] - b.loc[name, "mean"]) <= 3 * mcse, name


def test_nutpie_compiled_uses_the_default_paths_target_accept(monkeypatch):
    """``"nutpie-compiled"`` asks nutpie for ``TARGET_ACCEPT`` (0.95, as the default path) unless
    told otherwise; it starts from nutpie's own initial points (documented on the class), with
    the longer default warm-up that ``default_tune`` gives every path not started at the mode."""
    import nutpie

    from bayescale.sampling.nuts import TARGET_ACCEPT

    seen = []

    class Stop(Exception):
        pass

    def fake_sample(compiled, **kwargs):
        seen.append(kwargs)
        raise Stop

    backend = sampling.get_backend("nutpie-compiled")
    ready = backend.set_data(backend.compile(_model([1.0, 2.0])), {"y": np.array([1.0, 2.0])})
    monkeypatch.setattr(nutpie, "sample", fake_sample)
    kw = dict(draws=10, tune=10, chains=2, random_seed=1, progressbar=False)
    for options in ({}, {"target_accept": 0.8}):
        with pytest.raises(Stop):
            backend.sample(ready, **kw, **options)
    assert TARGET_ACCEPT == 0.95
    assert [s["target_accept"] for s in seen] == [TARGET_ACCEPT, 0.8]
    assert seen[0]["adaptation"] == "low_rank" and "init_mean" not in seen[0]
    law = bs.get_law("chinchilla")
    assert sampling_default_tune(law) == (500, 1000)


def sampling_default_tune(law):
    from bayescale.fit import default_tune

    return default_tune(law, "nutpie"), default_tune(law, "nutpie-compiled")
