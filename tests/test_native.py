"""The C callbacks nutpie calls (``bayescale/sampling/native.py``): the same numbers as the
compiled PyTensor function, constrained values kept by position equal to a fresh evaluation, and
a warm process that loads them from numba's cache without building the PyTensor function —
with the same draws."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from bayescale.sampling import compile_model, native, store

_P = ctypes.POINTER(ctypes.c_double)


def _toy():
    import pymc as pm

    with pm.Model() as model:
        y = pm.Data("y", np.array([0.1, -0.3, 0.7, 1.2]))
        mu = pm.Normal("mu", 0.0, 1.0, shape=2)
        sd = pm.HalfNormal("sd", 1.0)
        pm.StudentT("obs", nu=4.0, mu=mu[0] + mu[1], sigma=sd, observed=y)
    return model


def _call_logp(nat, z):
    grad, lp = np.zeros(nat.n_dim), np.zeros(1)
    code = nat.logp.ctypes(
        nat.n_dim, z.ctypes.data_as(_P), grad.ctypes.data_as(_P), lp.ctypes.data_as(_P),
        ctypes.c_void_p(nat.user_data.ctypes.data),
    )  # fmt: skip
    assert code == 0
    return lp[0], grad


def _call_expand(nat, z):
    out = np.zeros(nat.n_expanded)
    code = nat.expand.ctypes(
        nat.n_dim, nat.n_expanded, z.ctypes.data_as(_P), out.ctypes.data_as(_P),
        ctypes.c_void_p(nat.user_data.ctypes.data),
    )  # fmt: skip
    assert code == 0
    return out


def test_callbacks_match_the_compiled_function():
    """logp in whitened coordinates (x = mode + L z, gradient Lᵀ∇) against numpy on the jitted
    PyTensor function; expand from the slot table and from a fresh evaluation; the joint
    callback (which ``compile_model`` returns as ``logp_fn``) bit for bit equal to the jitted
    function."""
    from bayescale.sampling import _internals
    from bayescale.sampling.compile import _compile_joint
    from bayescale.sampling.fingerprint import _density_graphs

    model = _toy()
    compiled = compile_model(model)
    logp, constrained = _density_graphs(model)
    reference = _internals.jitted(
        _compile_joint(model.initial_point(), model.value_vars, logp, constrained)
    )
    args = compiled.data_args({"y": np.array([0.1, -0.3, 0.7, 1.2])}, compiled.data_names)
    rng = np.random.default_rng(0)
    n = compiled.ndim
    x_mode = rng.normal(size=n)
    L = np.tril(rng.normal(size=(n, n))) + 2 * np.eye(n)
    nat = native.native_model(compiled, args, x_mode, L)
    for _ in range(5):
        z = rng.normal(size=n)
        x = x_mode + L @ z
        lp_ref, g_ref, c_ref = reference(x, *args)
        lp, grad = _call_logp(nat, z)
        np.testing.assert_allclose(lp, float(lp_ref), rtol=1e-12)
        np.testing.assert_allclose(grad, L.T @ g_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_call_expand(nat, z), c_ref, rtol=1e-12)  # from the slot
        unseen = rng.normal(size=n)
        c_new = reference(x_mode + L @ unseen, *args)[2]
        np.testing.assert_allclose(_call_expand(nat, unseen), c_new, rtol=1e-12)  # evaluated
        joint = native.NativeJoint(
            native._callbacks(compiled, compiled.key), n, nat.n_expanded, native._layout(compiled)
        )
        for a, b in zip(joint(x, *args), (lp_ref, g_ref, c_ref), strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(compiled.logp_fn(x, *args), (lp_ref, g_ref, c_ref), strict=True):
            np.testing.assert_array_equal(a, b)


def _warm_run(env: dict[str, str]) -> dict:
    code = textwrap.dedent(
        """
        import json, bayescale as bs
        from bayescale.sampling import compile as C
        runs = bs.testing.simulate_chinchilla(n=40, random_seed=4)
        fit = bs.fit("chinchilla", runs, draws=40, tune=40, chains=2, random_seed=5,
                     progressbar=False, warn=False)
        kinds = sorted({(type(c.logp_fn).__name__, c.from_cache) for c in C._CACHE.values()})
        print(json.dumps({"kinds": kinds, "alpha": fit.posterior["alpha"].to_numpy().tolist()}))
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


def test_warm_process_loads_the_callbacks_and_draws_the_same(tmp_path):
    """A second process finds the callbacks in numba's cache and builds no PyTensor function;
    its draws equal the first process's bit for bit (the first, cold, process runs the model
    through the same callback, compiled, while a child compiles the model-independent ones).
    A callbacks file others could have written is not imported (the stored graph is compiled
    instead), and the draws stay the same."""
    env = {
        "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'pt'}",
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
    }
    first = _warm_run(env)
    second = _warm_run(env)
    # both run the model through its C callback; only the second loaded it from the cache
    assert first["kinds"] == [["NativeJoint", False]]
    assert second["kinds"] == [["NativeJoint", True]]
    assert second["alpha"] == first["alpha"]
    files = list((tmp_path / "pt").rglob("bayescale-native/native_*.py"))
    assert len(files) == 1
    files[0].chmod(0o664)  # writable by the group: not ours alone
    third = _warm_run(env)
    assert third["kinds"] == [["NativeJoint", False]] and third["alpha"] == first["alpha"]
    # the refused file was replaced by a private one with the same source
    assert files[0].stat().st_mode & 0o077 == 0 and store._read_private(files[0]) is not None


def test_a_model_without_fingerprint_keeps_its_own_callback(monkeypatch):
    """With the graph store off a compiled model has no fingerprint: its ``joint_c`` is kept on
    the model itself, not in the module's cache under ``id(compiled)`` — an id Python may give
    to a later model once this one is freed, which would then be handed this model's density.
    Two models of the same layout (ids forced equal) each get their own callback, and the
    module's cache does not grow by one entry per model."""
    import pymc as pm

    monkeypatch.setenv(store.GRAPH_CACHE_ENV, "0")
    monkeypatch.setattr(native, "id", lambda obj: 1, raising=False)  # an id reused
    y = np.array([0.1, -0.3, 0.7, 1.2])
    before = len(native._NATIVE)
    models = []
    for scale in (1.0, 3.0):  # same variables and data: the same layout, another density
        with pm.Model() as model:
            pm.Data("y", y)
            mu = pm.Normal("mu", 0.0, scale)
            pm.Normal("obs", mu=mu, sigma=1.0, observed=model["y"])
        compiled = compile_model(model)
        assert compiled.key is None
        args = compiled.data_args({"y": y}, compiled.data_names)
        nat = native.native_model(compiled, args, np.zeros(1), np.eye(1))
        lp, _ = _call_logp(nat, np.array([0.5]))
        expected = (
            -0.5 * (0.5 / scale) ** 2 - np.log(scale) - 0.5 * ((y - 0.5) ** 2).sum()
            - 2.5 * np.log(2 * np.pi)
        )  # fmt: skip
        # PyMC's log-density constants are rounded (≈ 3e-9 relative); the two models differ by 1.1
        np.testing.assert_allclose(lp, expected, rtol=1e-7)
        models.append(compiled)
    assert len(native._NATIVE) == before
    assert models[0].native is not None and models[1].native is not None
    assert models[0].native is not models[1].native
