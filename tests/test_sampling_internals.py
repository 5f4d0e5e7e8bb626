"""Every private layout of nutpie, PyTensor and xarray that bayescale relies on
(``bayescale/sampling/_internals.py``), checked against the installed versions: a dependency
that changes one of them fails here, naming it, instead of in the middle of a fit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bayescale.sampling import _internals


def _toy_pymc_model(y=(0.1, -0.3, 0.7)):
    import pymc as pm

    with pm.Model() as model:
        data = pm.Data("y", np.asarray(y))
        mu = pm.Normal("mu", 0.0, 1.0, shape=2)
        sd = pm.HalfNormal("sd", 1.0)
        pm.Normal("obs", mu[0] + mu[1], sd, observed=data)
    return model


def test_pytensor_function_layout():
    """A numba-mode function exposes its jitted callable (``vm.jit_fn``), its rewritten graph
    (``maker.fgraph``) with the parameter vector first and the data containers after it, and a
    rewritten graph compiles again, without rewrites, to the same numbers."""
    from pytensor.graph.fg import FunctionGraph

    from bayescale.sampling import compile_model

    model = _toy_pymc_model()
    compiled = compile_model(model)
    assert compiled.data_names == ["y"]
    # compile again to get the PyTensor function itself (compile_model keeps only the callable)
    from bayescale.sampling.compile import _compile_joint
    from bayescale.sampling.fingerprint import _density_graphs

    logp, constrained = _density_graphs(model)
    function = _compile_joint(model.initial_point(), model.value_vars, logp, constrained)
    graph = _internals.function_graph(function)
    assert isinstance(graph, FunctionGraph), "PyTensor: function.maker.fgraph moved"
    assert [v.name for v in _internals.data_inputs(function)] == ["y"]
    assert graph.inputs[0].ndim == 1, "PyTensor: the first input is no longer the flat vector"
    jitted = _internals.jitted(function)
    assert callable(jitted), "PyTensor: function.vm.jit_fn is gone"
    x = np.array([0.2, -0.1, 0.3])
    y = np.array([0.1, -0.3, 0.7])
    out = jitted(x, y)
    assert len(out) == 3 and np.shape(out[1]) == (3,) and np.shape(out[2]) == (3,)
    again = _internals.jitted(_internals.compile_rewritten(graph))(x, y)
    for a, b in zip(out, again, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(compiled.logp_fn(x, y)[0], out[0])


def test_pytensor_fastmath_flag():
    """The flag that turns numba's fast-math off exists and is honoured inside the block."""
    import pytensor

    before = pytensor.config.numba__fastmath
    with _internals.exact_float_flags():
        assert pytensor.config.numba__fastmath is False
    assert pytensor.config.numba__fastmath == before


def test_nutpie_raw_trace_layout():
    """``return_raw_trace=True`` gives one draws batch and one statistics batch per chain; the
    draws hold each variable (vectors as lists), the statistics a boolean ``tuning`` column and
    the per-draw scalars bayescale keeps; the progress callback reports finished draws and
    divergences."""
    import pyarrow as pa

    nutpie = _internals.import_nutpie()
    scale = np.array([1.0, 2.0, 0.5])

    def make_logp():
        return lambda x, **_: (float(-0.5 * np.sum((x / scale) ** 2)), -x / scale**2)

    def make_expand(*_):
        return lambda x, **_: {"mu": x[:2].copy(), "s": np.asarray(np.exp(x[2]))}

    model = _internals.pyfunc_model(
        3, make_logp, make_expand, ["mu", "s"], [(2,), ()], lambda seed: np.full(3, 0.1)
    )
    states = []

    def callback(progress):
        states.append(_internals.progress_state(progress))

    raw = nutpie.sample(
        model, draws=20, tune=15, chains=2, cores=1, seed=3, progress_bar=False,
        save_warmup=True, return_raw_trace=True, progress_callback=callback,
    )  # fmt: skip
    draws, stats = _internals.raw_trace_batches(raw)
    assert len(draws) == len(stats) == 2, "nutpie: get_arrow_trace() layout changed"
    assert {"mu", "s"} <= set(draws[0].column_names)
    mu_type = pa.array(draws[0].column("mu")).type  # Arrow batches (arro3), read by pyarrow
    assert pa.types.is_list(mu_type) or pa.types.is_large_list(mu_type)
    expected = {_internals.TUNING_COLUMN, "diverging", "n_steps", "step_size", "depth", "energy"}
    missing = expected - set(stats[0].column_names)
    assert not missing, f"nutpie: statistics columns {missing} are gone"
    assert pa.types.is_boolean(pa.array(stats[0].column(_internals.TUNING_COLUMN)).type)
    arrays = _internals.chain_arrays(draws[0], stats[0], ["mu", "s"], [(2,), ()])
    assert arrays["posterior"]["mu"].shape == (20, 2)
    assert arrays["warmup_posterior"]["s"].shape == (15,)
    assert arrays["sample_stats"]["n_steps"].shape == (20,)
    assert states and max(f for f, _ in states) > 0


def test_nutpie_still_imports_arviz_at_module_level():
    """What :func:`import_nutpie` defers: ``nutpie.sample`` imports ArviZ at module level. If it
    stops, the stand-in is no longer needed (this test says so)."""
    _internals.import_nutpie()
    module = sys.modules["nutpie.sample"]
    with open(module.__file__, encoding="utf-8") as handle:
        source = handle.read()
    assert "import arviz" in source, "nutpie no longer imports arviz: drop import_nutpie"


def test_nutpie_compiled_pymc_layout():
    """``compile_pymc_model``: data containers swappable by name (``shared_var_keys``), the
    stored variables and shapes in ``shape_info`` as the raw trace holds them. (That swapped
    data give the draws of a model built on them: ``test_sampling_backends.py``.)"""
    nutpie = _internals.import_nutpie()
    model = _toy_pymc_model()
    compiled = nutpie.compile_pymc_model(model, backend="numba", freeze_model=False)
    assert "y" in _internals.pymc_compiled_data_names(compiled)
    names, shapes = _internals.pymc_compiled_layout(compiled)
    assert dict(zip(names, shapes, strict=True))["mu"] == (2,)
    assert {"mu", "sd"} <= set(names)
    swapped = compiled.with_data(y=np.array([5.0, 6.0, 7.0, 8.0]))
    raw = nutpie.sample(
        swapped, draws=30, tune=30, chains=1, seed=1, progress_bar=False, return_raw_trace=True
    )
    draws, stats = (b[0] for b in _internals.raw_trace_batches(raw))
    arrays = _internals.chain_arrays(draws, stats, names, shapes)
    assert arrays["posterior"]["mu"].shape == (30, 2) and arrays["posterior"]["sd"].shape == (30,)


def test_nutpie_model_from_our_callbacks():
    """``CompiledPyMCModel`` built from bayescale's C callbacks (``_internals.native_model``:
    its fields, ``shape_info``, ``initial_point_func``) samples, and its raw trace holds the
    constrained draws under our names and shapes."""
    from bayescale.sampling import compile_model
    from bayescale.sampling.native import native_model

    nutpie = _internals.import_nutpie()
    compiled = compile_model(_toy_pymc_model())
    args = compiled.data_args({"y": np.array([0.1, -0.3, 0.7])}, compiled.data_names)
    native = native_model(compiled, args, np.zeros(compiled.ndim), np.eye(compiled.ndim))
    names, shapes = compiled.rv_names, compiled.rv_shapes
    model = _internals.native_model(native, names, shapes, lambda _: np.zeros(compiled.ndim))
    raw = nutpie.sample(
        model, draws=30, tune=30, chains=1, cores=1, seed=1, progress_bar=False,
        return_raw_trace=True,
    )  # fmt: skip
    draws, stats = (b[0] for b in _internals.raw_trace_batches(raw))
    arrays = _internals.chain_arrays(draws, stats, names, shapes)
    assert arrays["posterior"]["mu"].shape == (30, 2)
    assert np.all(arrays["posterior"]["sd"] > 0)  # constrained (the sampler works on log sd)


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("dask") is None, reason="Dask not installed"
)
def test_xarray_without_dask_import():
    """xarray imports Dask to wrap a numpy array (what the shim saves); with the shim it does
    not, and a Dask array given afterwards is still recognised as one."""
    code = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        import xarray as xr
        shim = sys.argv[1] == "1"
        if shim:
            from bayescale.sampling import _internals
            _internals.lazy_dask_in_xarray()
        xr.Dataset({"a": (("x",), np.arange(3.0))}, coords={"x": np.arange(3)})
        imported = "dask" in sys.modules
        import dask.array as da
        lazy = xr.Dataset({"b": (("x",), da.ones(4, chunks=2))})
        from xarray.namedarray.utils import is_dask_collection
        print(json.dumps({"imported": imported, "chunked": lazy["b"].chunks is not None,
                          "collection": [is_dask_collection(da.ones(2)),
                                         is_dask_collection(np.ones(2)),
                                         is_dask_collection(da.Array)]}))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = {}
    for shim in ("0", "1"):
        proc = subprocess.run(
            [sys.executable, "-c", code, shim], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[shim] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["0"]["imported"], "xarray no longer imports Dask: lazy_dask_in_xarray is moot"
    assert not out["1"]["imported"]
    for shim in ("0", "1"):
        assert out[shim]["chunked"] and out[shim]["collection"] == [True, False, False]


def test_nutpie_settings():
    """nutpie's NUTS settings take known options and name unknown ones (fit_many's check of a
    shared option, batch_options.check_shared_options)."""
    assert _internals.check_nutpie_settings({"maxdepth": 6, "target_accept": 0.95}) is None
    assert _internals.check_nutpie_settings({"max_treedepth": 6}) == ("max_treedepth", "unknown")
    name, reason = _internals.check_nutpie_settings({"target_accept": "high"})
    assert name == "target_accept" and reason != "unknown"
    assert {"maxdepth", "target_accept"} <= set(_internals.nutpie_setting_names())


def test_nutpie_settings_of_each_adaptation():
    """Each adaptation's settings object (nutpie.sample's adaptation=) is reachable by kind: the
    gradient-based mass matrix is a setting of the diagonal adaptation only."""
    grad_based = {"use_grad_based_mass_matrix": False}
    assert _internals.check_nutpie_settings(grad_based, kind="Diag") is None
    name, reason = _internals.check_nutpie_settings(grad_based, kind="LowRank")
    assert name == "use_grad_based_mass_matrix" and "low-rank" in reason
    assert _internals.check_nutpie_settings({"maxdepth": 6}, kind="Flow") is None
