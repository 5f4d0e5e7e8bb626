"""Compiling a PyMC model's log density, gradient and constrained values into one function.

The data containers (``pm.Data``) and dimension lengths are arguments of the compiled function,
so a second model of the same structure on new data reuses it: the in-process cache is keyed by
:func:`~bayescale.sampling.fingerprint.model_fingerprint`, and the rewritten graph is kept across
processes by :mod:`bayescale.sampling.store`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _internals, store
from .fingerprint import _density_graphs, fingerprint_graphs, structure_key

__all__ = ["CompiledModel", "compile_model"]

_CACHE: dict[str, CompiledModel] = {}
_CACHE_LOCK = threading.Lock()
# structure_key(model) → model_fingerprint(model), for models compiled in this process: a
# second model of the same structure is found without building its log-density graph
_KEYS: dict[str, str] = {}


@dataclass
class CompiledModel:
    """A model's log density, gradient and constrained values, compiled once.

    ``logp_fn(x, *data)`` returns ``(logp, grad, constrained)`` for the flat unconstrained vector
    ``x``, where ``constrained`` holds the free variables' values (``rv_names``/``rv_shapes``)
    one after another; ``x0`` is the model's initial point (prior support points).
    """

    ndim: int
    value_names: list[str]
    rv_names: list[str]
    rv_shapes: list[tuple[int, ...]]
    data_names: list[str]
    logp_fn: Any
    compile_seconds: float
    x0: np.ndarray
    data_dtypes: dict[str, str] = field(default_factory=dict)
    x_names: list[str] = field(default_factory=list)
    #: number of dimensions of each data argument (``data_names``)
    data_ndims: list[int] = field(default_factory=list)
    #: the model's fingerprint (None when it has none: then nothing is kept on disk)
    key: str | None = None

    def data_args(self, data: Mapping[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        missing = [n for n in names if n not in data]
        if missing:
            raise KeyError(f"compiled model needs data {missing}")
        # np.array, not np.ascontiguousarray: the latter turns 0-d values into shape (1,)
        return [
            np.array(data[n], dtype=self.data_dtypes.get(n, "float64"), order="C") for n in names
        ]


def compile_model(model: Any, cache: bool = False) -> CompiledModel:
    """Compile ``model``'s log density and gradient (data as arguments).

    With ``cache=True`` the result is kept in this process under the model's fingerprint
    (:func:`model_fingerprint`), so a later model that compiles to the same graph — the same law,
    priors and likelihood on new data — reuses it; a model whose fingerprint cannot be computed
    is compiled afresh every time and not stored. Floating-point arithmetic is compiled without
    fast-math, so the function returns the same bits whether numba compiles it now or loads it
    from its on-disk cache (see :func:`_exact_float_flags`).

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> with pm.Model() as m:
    ...     y = pm.Data("y", np.array([0.1, -0.2]))
    ...     mu = pm.Normal("mu", 0, 1)
    ...     _ = pm.Normal("obs", mu, 1, observed=y)
    >>> cm = compile_model(m)
    >>> cm.ndim, cm.data_names
    (1, ['y'])
    """
    t0 = time.perf_counter()
    shortcut = structure_key(model) if cache else None
    if shortcut is not None:
        with _CACHE_LOCK:
            hit = _CACHE.get(_KEYS.get(shortcut, ""))
        if hit is not None:
            return hit
    value_vars = model.value_vars
    logp, constrained = _density_graphs(model)
    key = None
    if cache or store.graph_store_on():
        try:
            key = fingerprint_graphs(model, logp, constrained)
        except Exception:  # something in the graph that cannot be described: no caches
            key = None
    if cache and key is not None:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
            if hit is not None and shortcut is not None:
                _KEYS[shortcut] = key
        if hit is not None:
            return hit

    if key is not None:
        # the model's C callbacks in numba's cache: no PyTensor function to build (native.py)
        from . import native

        loaded = native.load_compiled(key, model)
        if loaded is not None:
            loaded.compile_seconds = time.perf_counter() - t0
            if cache:
                with _CACHE_LOCK:
                    loaded = _CACHE.setdefault(key, loaded)
                    if shortcut is not None:
                        _KEYS[shortcut] = key
            return loaded

    cache_file = store._graph_cache_file(key) if key is not None else None
    stored = store._load_compiled_graph(cache_file) if cache_file is not None else None
    if stored is None:
        point = model.initial_point()
        joint_f = _compile_joint(point, value_vars, logp, constrained)
        if cache_file is not None and store._save_compiled_graph(cache_file, joint_f, point):
            # Use the graph as read back: later processes compile exactly this function, so the
            # machine code numba caches at the first call below serves them too.
            stored = store._load_compiled_graph(cache_file)
    if stored is not None:
        joint_f, point = stored
    x0 = np.concatenate([np.atleast_1d(point[v.name]).ravel() for v in value_vars])
    try:
        joint_jit, data_names, dtypes, ndims = _first_call(joint_f, model, x0)
    except Exception:
        if stored is None:
            raise
        # a stored graph that does not run here: drop it and compile afresh
        cache_file.unlink(missing_ok=True)
        point = model.initial_point()
        joint_f = _compile_joint(point, value_vars, logp, constrained)
        joint_jit, data_names, dtypes, ndims = _first_call(joint_f, model, x0)

    x_names = []
    for v in value_vars:
        size = int(np.size(point[v.name]))
        x_names += [v.name] if size == 1 else [f"{v.name}[{i}]" for i in range(size)]
    compiled = CompiledModel(
        ndim=int(x0.size),
        value_names=[v.name for v in value_vars],
        rv_names=[rv.name for rv in model.free_RVs],
        rv_shapes=[tuple(np.shape(point[model.rvs_to_values[rv].name])) for rv in model.free_RVs],
        data_names=data_names,
        logp_fn=joint_jit,
        compile_seconds=time.perf_counter() - t0,
        x0=x0,
        data_dtypes=dtypes,
        x_names=x_names,
        data_ndims=ndims,
        key=key,
    )
    if cache and key is not None:
        with _CACHE_LOCK:
            compiled = _CACHE.setdefault(key, compiled)
            if shortcut is not None:
                _KEYS[shortcut] = key
    return compiled


def _compile_joint(
    point: Mapping[str, Any], value_vars: list[Any], logp: Any, constrained: list[Any]
) -> Any:
    """Build and compile (rewrite + numba) the joint log density / gradient / values function."""
    import pytensor
    import pytensor.tensor as pt
    from pymc.pytensorf import join_nonshared_inputs

    grads = pt.grad(logp, value_vars)
    grad_flat = pt.concatenate([pt.atleast_1d(g).ravel() for g in grads])
    # constrained values travel as one flat vector: one output array per call, not one per RV
    constrained_flat = pt.concatenate([pt.atleast_1d(c).ravel() for c in constrained])
    (logp_j, grad_j, constrained_j), x = join_nonshared_inputs(
        point, [logp, grad_flat, constrained_flat], value_vars
    )
    # One function returns the log density, its gradient and the constrained values of the free
    # variables: one graph to rewrite and compile, used both for NUTS and for storing draws.
    with _internals.exact_float_flags():
        return pytensor.function([x], [logp_j, grad_j, constrained_j], mode=_internals.numba_mode())


def _first_call(joint_f: Any, model: Any, x0: np.ndarray) -> tuple[Any, list[str], dict, list[int]]:
    """Call the compiled function once with the model's own data, so numba compiles it (or
    loads it from its cache) now; returns the jitted function, its data names, dtypes and
    numbers of dimensions.

    The data are passed as :meth:`CompiledModel.data_args` passes them in every later call
    (fresh, writeable, C-ordered arrays of the graph's dtype and dimensionality): numba compiles
    one version per argument layout, and a second layout would cost a second compilation.
    """
    inputs = _internals.data_inputs(joint_f)
    names = [v.name for v in inputs]
    dtypes = {v.name: v.dtype for v in inputs}
    own = _model_data(model)
    values = [own[v.name] if v.name in own else v.get_value() for v in inputs]
    jitted = _internals.jitted(joint_f)
    args = [np.array(v, dtype=dtypes[n], order="C") for n, v in zip(names, values, strict=True)]
    with _internals.exact_float_flags():
        jitted(x0, *args)
    return jitted, names, dtypes, [int(v.type.ndim) for v in inputs]


def _model_data(model: Any) -> dict[str, Any]:
    """Current values of the model's data containers and dimension lengths, by name."""
    pairs = [*model.named_vars.items(), *model.dim_lengths.items()]
    return {name: var.get_value() for name, var in pairs if hasattr(var, "get_value")}
