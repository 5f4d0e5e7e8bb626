"""The cold start of a fit (``bayescale/sampling/compile.py``, ``native.py``): models built
without PyMC's parameter checks (``pm.Model(check_bounds=False)``) have the same log density and
gradient as with them, checked against PyMC's own compiled functions; the model-independent C
callbacks are compiled by a child process into numba's cache and loaded from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import bayescale as bs
from bayescale.data import prepare_data
from bayescale.model import build_model
from bayescale.sampling import compile as C
from bayescale.sampling import native


def _chinchilla_model():
    law = bs.get_law("chinchilla")
    lik = bs.get_likelihood("studentt")
    runs = bs.testing.simulate_chinchilla(n=30, random_seed=3)
    prep = prepare_data(law, runs)
    priors = {**law.default_priors, **lik.noise_priors}
    return build_model(law, prep, priors, lik, law.compute_reference(prep.inputs))


def _ops(compiled_fn) -> set[str]:
    from bayescale.sampling import _internals

    return {type(node.op).__name__ for node in _internals.function_graph(compiled_fn).apply_nodes}


def _joint(model):
    from bayescale.sampling.fingerprint import _density_graphs

    logp, constrained = _density_graphs(model)
    return C._compile_joint(
        model.initial_point(), model.value_vars, logp, constrained, C._check_bounds(model)
    )


def test_models_are_built_without_parameter_checks_and_keep_their_density():
    """build_model's model has check_bounds=False; its compiled graph has no parameter check
    and the same log density, gradient and constrained values, bit for bit, as the same model
    with the checks; both equal PyMC's own log density and gradient (compiled by PyTensor's
    Python linker, with the checks) at random points of the unconstrained space, and the
    constrained values are the transforms' inverses (exp of the log-transformed parameters).
    ``compile_model`` returns the model's C callback, bit for bit PyTensor's jitted function."""
    from bayescale.sampling import _internals
    from bayescale.sampling.fingerprint import model_fingerprint

    model = _chinchilla_model()
    assert model.check_bounds is False
    compiled = C.compile_model(model)
    f_without = _joint(model)
    key_without = model_fingerprint(model)
    model.check_bounds = True
    f_with = _joint(model)
    assert model_fingerprint(model) != key_without  # the fingerprint tells the two apart
    assert "CheckParameterValue" in _ops(f_with)
    assert "CheckParameterValue" not in _ops(f_without)
    if native.enabled():
        assert isinstance(compiled.logp_fn, native.NativeJoint)
    without, with_checks = _internals.jitted(f_without), _internals.jitted(f_with)

    logp_pymc = model.compile_logp(jacobian=True, mode="FAST_COMPILE")
    dlogp_pymc = model.compile_dlogp(jacobian=True, mode="FAST_COMPILE")
    own = C._model_data(model)
    args = compiled.data_args(own, compiled.data_names)
    # each PyTensor function takes its data in its own input order (a compiled model loaded
    # from numba's cache keeps the order it was stored with)
    args_without, args_with = (
        compiled.data_args(own, [v.name for v in _internals.data_inputs(f)])
        for f in (f_without, f_with)
    )
    names, start = compiled.value_names, model.initial_point()
    sizes = [int(np.size(start[n])) for n in names]
    rng = np.random.default_rng(11)
    for _ in range(5):
        x = compiled.x0 + rng.normal(scale=0.5, size=compiled.ndim)
        lp0, g0, c0 = without(x, *args_without)
        for a, b in zip(with_checks(x, *args_with), (lp0, g0, c0), strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(compiled.logp_fn(x, *args), (lp0, g0, c0), strict=True):
            np.testing.assert_array_equal(a, b)
        values = dict(zip(names, np.split(x, np.cumsum(sizes)[:-1]), strict=True))
        point = {n: v.reshape(np.shape(start[n])) for n, v in values.items()}
        np.testing.assert_allclose(float(lp0), logp_pymc(point), rtol=1e-12)
        np.testing.assert_allclose(g0, dlogp_pymc(point), rtol=1e-10, atol=1e-10)
        # constrained values in free-RV order: exp of a log-transformed value, else the value
        expected = [
            np.exp(values[f"{rv}_log__"]) if f"{rv}_log__" in values else values[rv]
            for rv in compiled.rv_names
        ]
        np.testing.assert_allclose(c0, np.concatenate(expected), rtol=1e-14)


def test_a_child_process_compiles_the_callbacks_into_the_cache(tmp_path):
    """In a fresh process with an empty numba cache, ``warm_callbacks`` starts a child that
    writes the model-independent callbacks to the cache; importing them then loads both from it
    (numba counts the hits). A process that has them already starts no child."""
    code = textwrap.dedent(
        """
        import json, sys
        from bayescale.sampling import native
        assert "bayescale.sampling.native_callbacks" not in sys.modules
        native.warm_callbacks()
        children = list(native._WARMING)
        module = native._import_callbacks()
        codes = [c.returncode for c in children]
        native.warm_callbacks()  # already imported: nothing to start
        print(json.dumps({"codes": codes, "hits": [module.logp.cache_hits,
                          module.expand.cache_hits], "after": len(native._WARMING)}))
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "BAYESCALE_NATIVE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"codes": [0], "hits": [1, 1], "after": 0}
    assert len(list((tmp_path / "numba").rglob("native_callbacks.logp-*.nbi"))) == 1


def test_initial_point_without_the_c_loop_is_pymcs():
    """The initial point evaluated by PyTensor's Python linker equals PyMC's own
    ``model.initial_point()`` bit for bit (names, shapes, dtypes, values), for the Chinchilla
    model and for a model with a vector and a bounded parameter; a model with a random initial
    value is left to PyMC."""
    import pymc as pm

    with pm.Model() as toy:
        pm.Normal("mu", np.array([0.3, -1.7]), 2.0, shape=2)
        pm.Uniform("u", 0.5, 3.0)
        pm.HalfNormal("sd", 1.3)
    with pm.Model() as random_start:
        pm.Normal("z", 0.0, 1.0, initval="prior")
    for model in (_chinchilla_model(), toy, random_start):
        ours, pymcs = C._initial_point(model), model.initial_point(random_seed=1)
        if model is random_start:
            assert set(ours) == {"z"}  # drawn from the prior by PyMC: not compared
            continue
        assert list(ours) == list(pymcs)
        for name in ours:
            assert ours[name].dtype == pymcs[name].dtype
            np.testing.assert_array_equal(ours[name], pymcs[name])
