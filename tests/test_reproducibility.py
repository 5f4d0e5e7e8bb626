"""A fit's draws depend only on data, law, priors, settings and ``random_seed``: not on the number
of processes, the state of the caches or the fit's position in a batch."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bayescale as bs
from bayescale import sampling
from bayescale.sampling import compile as compiling
from bayescale.sampling import fingerprint
from bayescale.sampling import store as graph_store

KW = dict(draws=50, tune=50, random_seed=11, progressbar=False, warn=False)


def _draws(fit: bs.Fit) -> dict[str, np.ndarray]:
    """Every sampled variable and the per-draw sampler statistics, as arrays."""
    out = {f"posterior/{k}": v.to_numpy() for k, v in fit.posterior.data_vars.items()}
    stats = fit.idata["sample_stats"].to_dataset()
    out.update({f"stats/{k}": stats[k].to_numpy() for k in ("lp", "n_steps", "step_size")})
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name


def test_draws_do_not_depend_on_the_number_of_processes():
    """Each chain has its own seed: one, two or three processes give the same draws, and a
    chain's draws do not depend on how many chains are run."""
    runs = bs.testing.simulate_chinchilla(n=40, random_seed=6)
    one = bs.fit("chinchilla", runs, chains=3, processes=1, **KW)
    two = bs.fit("chinchilla", runs, chains=3, processes=2, **KW)
    three = bs.fit("chinchilla", runs, chains=3, processes=3, **KW)
    _assert_same(_draws(one), _draws(two))
    _assert_same(_draws(one), _draws(three))
    assert list(two.posterior["chain"].to_numpy()) == [0, 1, 2]
    # chain 1 of a two-chain fit is chain 1 of the three-chain fit
    pair = bs.fit("chinchilla", runs, chains=2, processes=2, **KW)
    for name, values in _draws(pair).items():
        assert np.array_equal(values, _draws(one)[name][:2]), name
    # and the chains are not copies of one another
    alpha = one.posterior["alpha"].to_numpy()
    assert not np.array_equal(alpha[0], alpha[1])


def test_chain_seeds_depend_on_seed_and_chain_only():
    seeds = [sampling.chain_seed(11, c) for c in range(4)]
    assert [s[0] for s in seeds] == [sampling.chain_seed(11, c)[0] for c in range(4)]
    assert len({s[0] for s in seeds}) == 4
    assert sampling.chain_seed(12, 0)[0] != seeds[0][0]
    a = sampling.chain_seed(11, 2)[1].standard_normal(3)
    b = sampling.chain_seed(11, 2)[1].standard_normal(3)
    np.testing.assert_array_equal(a, b)


def _variant(lik: bs.Likelihood, build) -> bs.Likelihood:
    return dataclasses.replace(lik, build=build)


def _laplace(name, mu, noise, observed, extra=None, **kw):
    import pymc as pm

    return pm.Laplace(name, mu=mu, b=noise["sigma"], observed=observed, **kw)


def test_position_in_a_batch_does_not_change_draws():
    """Fits run one after another in one process — including two models that differ only in a
    likelihood of the same name — give the same draws in either order; the in-process cache
    never hands a fit another model's compiled density."""
    normal = bs.get_likelihood("normal")
    laplace = _variant(normal, _laplace)  # also called "normal"
    data = [bs.testing.simulate_chinchilla(n=30, random_seed=s) for s in (1, 2)]
    batch = {
        "a": dict(data=data[0], likelihood=normal),
        "b": dict(data=data[1], likelihood=normal),
        "c": dict(data=data[0], likelihood=laplace),
    }

    def run(order):
        compiling._CACHE.clear()
        out = {}
        for key in order:
            spec = batch[key]
            fit = bs.fit("chinchilla", spec["data"], likelihood=spec["likelihood"], chains=2,
                         processes=1, **KW)  # fmt: skip
            out[key] = _draws(fit)
        return out

    forward, backward = run("abc"), run("cba")
    for key in batch:
        _assert_same(forward[key], backward[key])
    # the Laplace model really is another model
    assert not np.array_equal(forward["a"]["posterior/alpha"], forward["c"]["posterior/alpha"])


def test_in_process_cache_is_keyed_by_content():
    from bayescale.data import prepare_data
    from bayescale.model import build_model
    from bayescale.priors import merge_priors

    law = bs.get_law("chinchilla")
    normal = bs.get_likelihood("normal")
    runs = bs.testing.simulate_chinchilla(n=20, random_seed=3)
    priors = merge_priors({**law.default_priors, **normal.noise_priors}, None)

    def model(lik, data=runs):
        prepared = prepare_data(law, data, None, n_parameters=6, likelihood=lik)
        return build_model(law, prepared, priors, lik, law.compute_reference(prepared.inputs))

    compiling._CACHE.clear()
    first = sampling.compile_model(model(normal), cache=True)
    assert sampling.compile_model(model(normal), cache=True) is first
    new_data = bs.testing.simulate_chinchilla(n=25, random_seed=4)
    assert sampling.compile_model(model(normal, new_data), cache=True) is first
    other = sampling.compile_model(model(_variant(normal, _laplace)), cache=True)
    assert other is not first
    assert set(compiling._CACHE) == {
        sampling.model_fingerprint(model(normal)),
        sampling.model_fingerprint(model(_variant(normal, _laplace))),
    }


def test_fingerprint_refuses_objects_it_cannot_describe():
    class Opaque:
        def __repr__(self):
            return "Opaque()"

    with pytest.raises(TypeError, match="Opaque"):
        fingerprint._describe(Opaque(), {})
    # well-defined content is described, not represented
    from pytensor.misc.frozendict import frozendict

    assert fingerprint._describe(frozendict(a=1), {}) == fingerprint._describe({"a": 1}, {})
    assert fingerprint._describe(ValueError, {}) != fingerprint._describe(TypeError, {})

    def outer(k):
        return lambda x: x * k

    assert fingerprint._describe(outer(2), {}) != fingerprint._describe(outer(3), {})
    assert fingerprint._describe(np.log, {}) != fingerprint._describe(np.exp, {})
    # functions that differ only in the name of what they call
    f, g = (lambda xp: xp.log(1.0)), (lambda xp: xp.exp(1.0))
    assert fingerprint._describe(f, {}) != fingerprint._describe(g, {})


def _subprocess_draws(env: dict[str, str]) -> dict[str, list]:
    code = textwrap.dedent(
        """
        import json, bayescale as bs
        runs = bs.testing.simulate_chinchilla(n=40, random_seed=4)
        fit = bs.fit("chinchilla", runs, draws=50, tune=50, chains=2, random_seed=11,
                     progressbar=False, warn=False, processes=1)
        stats = fit.idata["sample_stats"]
        out = {k: v.to_numpy().tolist() for k, v in fit.posterior.data_vars.items()}
        out["lp"] = stats["lp"].to_numpy().tolist()
        print(json.dumps(out))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_draws_do_not_depend_on_the_state_of_the_caches(tmp_path):
    """Cold caches (PyTensor's and numba's), a warm graph store, the store turned off and a
    fresh compile directory beside a warm numba cache all give the same draws, bit for bit."""
    base = f"base_compiledir={tmp_path / 'base'}"
    cold = _subprocess_draws({"PYTENSOR_FLAGS": base})
    warm = _subprocess_draws({"PYTENSOR_FLAGS": base})
    off = _subprocess_draws({"PYTENSOR_FLAGS": base, sampling.GRAPH_CACHE_ENV: "0"})
    fresh = _subprocess_draws({"PYTENSOR_FLAGS": f"{base},compiledir={tmp_path / 'fresh'}"})
    assert (tmp_path / "base").is_dir() and (tmp_path / "fresh" / "bayescale-graphs").is_dir()
    for other in (warm, off, fresh):
        assert other.keys() == cold.keys()
        for name in cold:
            assert np.array_equal(np.array(other[name]), np.array(cold[name])), name


def _chinchilla_model():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_sampling import _chinchilla_model

    return _chinchilla_model()


def test_graph_store_refuses_entries_others_could_have_written(tmp_path, monkeypatch):
    """An entry writable by group or others, or owned by another user, is not unpickled: the
    model is compiled afresh and the entry replaced by one only the user can write."""
    store = tmp_path / "bayescale-graphs" / "entry.pkl"
    monkeypatch.setattr(graph_store, "_graph_cache_file", lambda *_: store)
    # the store is what compiles here: with the C callbacks on, a process that finds them in
    # numba's cache (an earlier test's compile of this model) reads no stored graph at all
    monkeypatch.setenv("BAYESCALE_NATIVE", "0")
    model = _chinchilla_model()
    sampling.compile_model(model)
    assert stat.S_IMODE(store.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    assert graph_store._load_compiled_graph(store) is not None

    loads = []
    real_loads = graph_store._unpickle
    monkeypatch.setattr(graph_store, "_unpickle", lambda data: loads.append(1) or real_loads(data))
    for mode in (0o620, 0o602, 0o666):
        store.chmod(mode)
        assert graph_store._load_compiled_graph(store) is None, oct(mode)
    assert loads == []
    store.chmod(0o600)
    assert graph_store._load_compiled_graph(store) is not None and loads == [1]

    # a refused entry is recompiled and rewritten with safe permissions
    store.chmod(0o664)
    sampling.compile_model(model)
    assert stat.S_IMODE(store.stat().st_mode) & 0o077 == 0

    # an entry owned by someone else
    monkeypatch.setattr(graph_store, "_current_uid", lambda: store.stat().st_uid + 1)
    assert graph_store._load_compiled_graph(store) is None
    # a symbolic link to an entry is not followed
    monkeypatch.undo()
    link = tmp_path / "elsewhere" / store.name
    link.parent.mkdir()
    link.symlink_to(store)
    assert graph_store._load_compiled_graph(store) is not None
    assert graph_store._load_compiled_graph(link) is None


def test_structure_shortcut_finds_only_the_same_model():
    """compile_model(cache=True) finds a model compiled before by its structure (no log-density
    graph built) — the same law, priors and likelihood on new data — and never a model whose
    density differs in a Python function, a transform's bounds or the bound checks."""
    import pymc as pm
    from pymc.distributions.transforms import Interval

    from bayescale.sampling.fingerprint import structure_key

    y = np.array([0.1, -0.3, 0.7])

    def custom(variant, data=y):
        def normal(value, mu):
            return pm.logp(pm.Normal.dist(mu, 1.0), value)

        def laplace(value, mu):
            return pm.logp(pm.Laplace.dist(mu, 1.0), value)

        with pm.Model() as m:
            obs = pm.Data("y", data)
            mu = pm.Normal("mu", 0, 1)
            pm.CustomDist("obs", mu, logp=(normal, laplace)[variant], observed=obs)
        return m

    def bounds(variant, data=None):
        with pm.Model() as m:
            pm.Normal("s", 0.5, 1, transform=Interval(0.0, (1.0, 5.0)[variant]))
        return m

    def checks(variant, data=y):
        with pm.Model(check_bounds=bool(variant)) as m:
            sd = pm.HalfNormal("sd", 1)
            pm.Normal("obs", 0, sd, observed=pm.Data("y", data))
        return m

    for build in (custom, bounds, checks):
        keys = [structure_key(build(v)) for v in (0, 1)]
        assert None not in keys and keys[0] != keys[1], build.__name__
        assert structure_key(build(0)) == keys[0], build.__name__
        compiling._CACHE.clear()
        first = sampling.compile_model(build(0), cache=True)
        assert sampling.compile_model(build(1), cache=True) is not first, build.__name__
        again = sampling.compile_model(build(0, np.array([2.0, 3.0])), cache=True)
        assert again is first and compiling._KEYS[keys[0]] == sampling.model_fingerprint(build(0))
