"""The sampler plumbing: trace conversion, the ArviZ-free nutpie import, the stored graphs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import bayescale as bs
from bayescale import sampling
from bayescale.sampling import _internals
from bayescale.sampling import compile as compiling
from bayescale.sampling import store as graph_store


def _toy_model():
    """A 3-dimensional Gaussian with a vector and a scalar variable, as nutpie callbacks."""
    from nutpie.compiled_pyfunc import from_pyfunc

    scale = np.array([1.0, 2.0, 0.5])

    def make_logp():
        def logp(x, **_):
            return float(-0.5 * np.sum((x / scale) ** 2)), -x / scale**2

        return logp

    def make_expand(*_):
        def expand(x, **_):
            return {"mu": x[:2].copy(), "s": np.asarray(np.exp(x[2]))}

        return expand

    return from_pyfunc(
        3, make_logp, make_expand, [np.dtype("float64")] * 2, [(2,), ()], ["mu", "s"]
    )


def test_trace_conversion_matches_nutpie_own():
    """Our Arrow → DataTree conversion gives the same arrays as nutpie's ArviZ conversion."""
    nutpie = _internals.import_nutpie()
    kw = dict(draws=40, tune=30, chains=2, cores=1, seed=5, progress_bar=False, save_warmup=True)
    raw = nutpie.sample(_toy_model(), return_raw_trace=True, **kw)
    ours = sampling.trace_to_datatree(raw, ["mu", "s"], [(2,), ()])
    theirs = nutpie.sample(_toy_model(), **kw)
    for group in ("posterior", "sample_stats", "warmup_posterior", "warmup_sample_stats"):
        a, b = ours[group].to_dataset(), theirs[group].to_dataset()
        assert dict(a.sizes) == dict(b.sizes), group
        for name, var in a.data_vars.items():
            assert var.dims == b[name].dims, (group, name)
            np.testing.assert_array_equal(var.to_numpy(), b[name].to_numpy(), err_msg=name)
        missing = [n for n, v in b.data_vars.items() if v.dtype != object and n not in a]
        assert missing == [], (group, missing)
    assert ours["posterior"]["mu"].dims == ("chain", "draw", "mu_dim_0")
    assert ours["posterior"].sizes["draw"] == 40 and ours["warmup_posterior"].sizes["draw"] == 30
    assert not ours["sample_stats"]["tuning"].any() and ours["warmup_sample_stats"]["tuning"].all()


def _run(code: str, env: dict | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fit_and_summary_do_not_import_arviz():
    """A fit + summary imports neither ArviZ, Dask nor scipy.stats; nutpie's own conversion and
    a later ``import arviz`` still work."""
    out = _run(
        """
        import json, sys
        import bayescale as bs
        runs = bs.testing.simulate_chinchilla(n=40, random_seed=1)
        fit = bs.fit("chinchilla", runs, draws=30, tune=30, chains=2, random_seed=1,
                     progressbar=False, warn=False, processes=1)
        fit.summary()
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("arviz", "arviz_stats",
                       "arviz_plots", "matplotlib", "dask") or m.startswith("scipy.stats"))
        nutpie = sys.modules["nutpie"]
        import numpy as np
        from nutpie.compiled_pyfunc import from_pyfunc
        model = from_pyfunc(
            1, lambda: (lambda x, **_: (float(-x @ x / 2), -x)),
            lambda *_: (lambda x, **_: {"x": x.copy()}), [np.dtype("float64")], [(1,)], ["x"])
        tree = nutpie.sample(model, draws=10, tune=10, chains=1, progress_bar=False)
        import arviz
        print(json.dumps({"heavy": heavy, "draws": int(tree["posterior"].sizes["draw"]),
                          "arviz_real": type(arviz).__name__ == "module"
                          and hasattr(arviz, "summary")}))
        """
    )
    assert out == {"heavy": [], "draws": 10, "arviz_real": True}


def _chinchilla_model(sigma_alpha: float = 0.1):
    from bayescale.data import prepare_data
    from bayescale.likelihoods import get_likelihood
    from bayescale.model import build_model
    from bayescale.priors import merge_priors

    law, lik = bs.get_law("chinchilla"), get_likelihood("studentt")
    runs = bs.testing.simulate_chinchilla(n=30, random_seed=2)
    priors = merge_priors(
        {**law.default_priors, **lik.noise_priors},
        {"alpha": bs.Prior("TruncatedNormal", mu=0.35, sigma=sigma_alpha, lower=0.0)},
    )
    prepared = prepare_data(law, runs, None, n_parameters=7, likelihood=lik)
    reference = law.compute_reference(prepared.inputs)
    return build_model(law, prepared, priors, lik, reference)


def test_fingerprint_is_stable_across_processes_and_sees_the_priors():
    here = sampling.model_fingerprint(_chinchilla_model())
    there = _run(
        """
        import json, sys
        sys.path.insert(0, "tests")
        from test_sampling import _chinchilla_model
        from bayescale.sampling import model_fingerprint
        print(json.dumps(model_fingerprint(_chinchilla_model())))
        """
    )
    assert there == here
    assert sampling.model_fingerprint(_chinchilla_model(sigma_alpha=0.2)) != here


def test_stored_graph_gives_the_same_density(tmp_path, monkeypatch):
    """A graph read back from the store evaluates exactly like a freshly rewritten one; a
    damaged entry is recompiled and replaced; BAYESCALE_GRAPH_CACHE=0 turns the store off."""
    store = tmp_path / "graph.pkl"
    monkeypatch.setattr(graph_store, "_graph_cache_file", lambda *_: store)
    # the store is what compiles here: with the C callbacks on, a process that finds them in
    # numba's cache (an earlier test's compile of this model) reads no stored graph at all
    monkeypatch.setenv("BAYESCALE_NATIVE", "0")
    model = _chinchilla_model()
    fresh = sampling.compile_model(model)
    assert store.is_file()
    stored, point = graph_store._load_compiled_graph(store)
    initial = model.initial_point()
    assert point.keys() == initial.keys()
    for name, value in initial.items():
        np.testing.assert_array_equal(point[name], value)
    names = [v.name for v in stored.maker.fgraph.inputs[1:]]
    values = {name: np.array(value) for name, value in compiling._model_data(model).items()}
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = fresh.x0 + 0.1 * rng.standard_normal(fresh.ndim)
        a = fresh.logp_fn(x, *[values[n] for n in fresh.data_names])
        b = stored.vm.jit_fn(x, *[values[n] for n in names])
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-12, atol=0)

    # the data values are not stored: the containers come back as empty placeholders
    placeholders = {v.name: v.get_value() for v in stored.maker.fgraph.inputs[1:]}
    assert placeholders["log_loss_data"].size == 0
    assert not any(np.any(v) for v in placeholders.values())
    # an entry filed under another fingerprint is not used
    other = tmp_path / "other.pkl"
    other.write_bytes(store.read_bytes())
    assert graph_store._load_compiled_graph(other) is None

    store.write_bytes(b"not a pickle")
    assert graph_store._load_compiled_graph(store) is None
    again = sampling.compile_model(model)
    assert again.ndim == fresh.ndim and graph_store._load_compiled_graph(store) is not None

    monkeypatch.undo()
    monkeypatch.setenv(sampling.GRAPH_CACHE_ENV, "0")
    assert graph_store._graph_cache_file("any-fingerprint") is None


def _fingerprints(build) -> set[str]:
    return {sampling.model_fingerprint(build(variant)) for variant in (0, 1)}


def test_fingerprint_sees_custom_densities_transforms_and_bounds():
    """Models that compile to different densities get different fingerprints, even when the
    difference hides in a Python function, a transform's bounds or the model's bound checks."""
    import pymc as pm
    from pymc.distributions.transforms import Interval

    y = np.array([0.1, -0.3, 0.7])

    def custom(variant):
        def normal(value, mu):
            return pm.logp(pm.Normal.dist(mu, 1.0), value)

        def laplace(value, mu):
            return pm.logp(pm.Laplace.dist(mu, 1.0), value)

        with pm.Model() as m:
            mu = pm.Normal("mu", 0, 1)
            pm.CustomDist("obs", mu, logp=(normal, laplace)[variant], observed=y)
        return m

    def bounds(variant):
        with pm.Model() as m:
            pm.Normal("s", 0.5, 1, transform=Interval(0.0, (1.0, 5.0)[variant]))
        return m

    def checks(variant):
        with pm.Model(check_bounds=bool(variant)) as m:
            sd = pm.HalfNormal("sd", 1)
            pm.Normal("obs", 0, sd, observed=y)
        return m

    for build in (custom, bounds, checks):
        assert len(_fingerprints(build)) == 2, build.__name__


def test_bnsl_with_two_breaks_compiles_and_matches_numpy():
    """A law with vector parameters and 0-d reference data compiles, and its compiled log
    density equals priors (PyMC) + the law's numpy expression under scipy's Student-t."""
    import pandas as pd
    from scipy import stats

    from bayescale.fit import data_values
    from bayescale.likelihoods import get_likelihood
    from bayescale.model import build_model
    from bayescale.priors import merge_priors

    law, lik = bs.get_law("bnsl", breaks=2), get_likelihood("studentt")
    x = np.geomspace(1e3, 1e7, 20)
    params = {**bs.load_card("caballero2022").params, "c2": 0.3, "d2": 3e5, "f2": 0.2}
    runs = bs.testing.simulate(law, params, pd.DataFrame({"x": x}), random_seed=1)
    priors = merge_priors({**law.default_priors, **lik.noise_priors}, None)
    prepared = bs.data.prepare_data(law, runs, None, n_parameters=11, likelihood=lik)
    reference = law.compute_reference(prepared.inputs)
    model = build_model(law, prepared, priors, lik, reference)
    compiled = sampling.compile_model(model)
    args = compiled.data_args(data_values(law, prepared, reference, lik), compiled.data_names)
    prior_logp = model.compile_logp(vars=model.free_RVs, jacobian=True)
    rng = np.random.default_rng(4)
    for _ in range(3):
        x_flat = compiled.x0 + 0.2 * rng.standard_normal(compiled.ndim)
        value, _, flat = compiled.logp_fn(x_flat, *args)
        sizes = [int(np.prod(s)) for s in compiled.rv_shapes]
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        sampled = {
            n: part.reshape(shape)
            for n, part, shape in zip(compiled.rv_names, parts, compiled.rv_shapes, strict=True)
        }
        point, start = {}, 0
        for name, size in zip(compiled.value_names, sizes, strict=True):
            shape = model.initial_point()[name].shape
            point[name] = x_flat[start : start + size].reshape(shape)
            start += size
        natural = law.natural_params(sampled, reference)
        mu = law.log_mean(natural, x=prepared.inputs["x"])
        loglik = stats.t.logpdf(
            np.log(runs[law.output].to_numpy()), sampled["nu"], loc=mu, scale=sampled["sigma"]
        ).sum()
        np.testing.assert_allclose(value, prior_logp(point) + loglik, rtol=1e-9)


def test_graph_store_keeps_the_most_recently_used(tmp_path):
    for i in range(5):
        entry = tmp_path / f"{i}.pkl"
        entry.write_bytes(b"x")
        os.utime(entry, (1000 + i, 1000 + i))
    graph_store._prune_graph_store(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.glob("*.pkl")) == ["2.pkl", "3.pkl", "4.pkl"]


def test_stored_draws_are_the_points_nutpie_accepted():
    """Each stored draw (constrained values, partly reused from the trajectory's evaluations)
    has the log density nutpie recorded for it: logp recomputed by PyMC from the stored values
    equals ``sample_stats.lp`` draw by draw."""
    import warnings

    runs = bs.testing.simulate_chinchilla(n=40, random_seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        fit = bs.fit(
            "chinchilla",
            runs,
            draws=25,
            tune=50,
            chains=2,
            random_seed=2,
            progressbar=False,
            processes=1,
        )
    model = fit.model
    logp = model.compile_logp(jacobian=True)
    post, lp = fit.idata["posterior"], fit.idata["sample_stats"]["lp"]
    for chain, draw in [(0, 0), (0, 24), (1, 7), (1, 24)]:
        point = {}
        for rv in model.free_RVs:
            value = post[rv.name].isel(chain=chain, draw=draw).to_numpy()
            transform = model.rvs_to_transforms.get(rv)
            if transform is not None:
                value = transform.forward(value, *rv.owner.inputs).eval()
            point[model.rvs_to_values[rv].name] = value
        np.testing.assert_allclose(logp(point), float(lp.isel(chain=chain, draw=draw)), rtol=1e-9)
