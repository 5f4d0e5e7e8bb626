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

from . import _internals, native, store
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
    #: True when loaded from numba's on-disk cache without building a PyTensor function
    from_cache: bool = False
    #: the model's C callback ``joint_c`` once made, for a model without a fingerprint
    #: (``native._callbacks``; with one, it is kept in-process by the fingerprint)
    native: Any = field(default=None, repr=False, compare=False)

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
        loaded = native.load_compiled(key, model)
        if loaded is not None:
            loaded.compile_seconds = time.perf_counter() - t0
            if cache:
                with _CACHE_LOCK:
                    loaded = _CACHE.setdefault(key, loaded)
                    if shortcut is not None:
                        _KEYS[shortcut] = key
            return loaded
    # a cold process: the model-independent callbacks compile in a child meanwhile
    native.warm_callbacks()

    cache_file = store._graph_cache_file(key) if key is not None else None
    stored = store._load_compiled_graph(cache_file) if cache_file is not None else None
    if stored is None:
        point = _initial_point(model)
        joint_f = _compile_joint(point, value_vars, logp, constrained, _check_bounds(model))
        saved = cache_file is not None and store._save_compiled_graph(cache_file, joint_f, point)
        if saved and not native.enabled():
            # Without the C callbacks a later process compiles the stored graph: use the graph
            # as read back, so the machine code numba caches at the first call below serves it
            # too. With them (the default) a later process loads the callbacks, and the graph
            # is read only if they are missing: no second compile of the graph here.
            stored = store._load_compiled_graph(cache_file)
    if stored is not None:
        joint_f, point = stored
    x0 = np.concatenate([np.atleast_1d(point[v.name]).ravel() for v in value_vars])
    try:
        compiled = _first_call(joint_f, model, point, x0, key)
    except Exception:
        if stored is None:
            raise
        # a stored graph that does not run here: drop it and compile afresh
        cache_file.unlink(missing_ok=True)
        point = _initial_point(model)
        joint_f = _compile_joint(point, value_vars, logp, constrained, _check_bounds(model))
        compiled = _first_call(joint_f, model, point, x0, key)
    compiled.compile_seconds = time.perf_counter() - t0
    if cache and key is not None:
        with _CACHE_LOCK:
            compiled = _CACHE.setdefault(key, compiled)
            if shortcut is not None:
                _KEYS[shortcut] = key
    return compiled


def _initial_point(model: Any) -> dict[str, np.ndarray]:
    """``model.initial_point()``, evaluated by PyTensor's Python linker.

    PyMC compiles the initial point in its ``FAST_COMPILE`` mode, whose virtual machine imports
    PyTensor's C loop, compiled with g++ on first use in a compile directory (≈ 0.6 s of a cold
    process). This compiles the same expression with the same rewrites (PyMC's ``compile`` with
    ``FAST_COMPILE``'s rewrites) and the same Python implementations of the operations — only
    the loop that calls them differs — so the values are the same, bit for bit. A model whose
    initial point is random (``jitter``, ``initval="prior"``) is left to PyMC."""
    from pymc.initial_point import make_initial_point_expression
    from pymc.pytensorf import compile as pymc_compile
    from pymc.pytensorf import find_rng_nodes
    from pytensor.compile.mode import FAST_COMPILE, Mode
    from pytensor.link.basic import PerformLinker

    values = make_initial_point_expression(
        free_rvs=model.free_RVs,
        rvs_to_transforms=model.rvs_to_transforms,
        initval_strategies=dict(model.rvs_to_initial_values),
        jitter_rvs=None,
        default_strategy="support_point",
        return_transformed=True,
    )
    if find_rng_nodes(values):
        return model.initial_point()
    mode = Mode(linker=PerformLinker(), optimizer=FAST_COMPILE.provided_optimizer)
    evaluated = pymc_compile(inputs=[], outputs=values, mode=mode)()
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]  # transformed names
    return {n: np.asarray(v) for n, v in zip(names, evaluated, strict=True)}


def _check_bounds(model: Any) -> bool:
    """Whether the model's parameter checks stay in its compiled log density (PyMC's
    ``Model(check_bounds=...)``, True unless the model says otherwise)."""
    return getattr(model, "check_bounds", True) is not False


def _compile_joint(
    point: Mapping[str, Any],
    value_vars: list[Any],
    logp: Any,
    constrained: list[Any],
    check_bounds: bool = True,
) -> Any:
    """Build and compile (rewrite + numba) the joint log density / gradient / values function.

    With ``check_bounds=False`` (a model built with ``pm.Model(check_bounds=False)``) the
    distributions' parameter checks (``CheckParameterValue``) are removed, as PyMC's own
    ``compile`` does for such a model: the same values wherever the checks hold, which they do
    at every point of a model whose free variables are all transformed to their support."""
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
    mode = _internals.numba_mode()
    if not check_bounds:
        from pytensor.compile.mode import get_mode

        mode = get_mode(mode).including("local_remove_check_parameter")
    with _internals.exact_float_flags():
        return pytensor.function([x], [logp_j, grad_j, constrained_j], mode=mode)


def _first_call(
    joint_f: Any, model: Any, point: Mapping[str, Any], x0: np.ndarray, key: str | None
) -> CompiledModel:
    """Compile the joint function now (or load it from numba's cache) and call it once with the
    model's own data; returns the :class:`CompiledModel`.

    With the C callbacks on (the default, :func:`native.enabled`) the model's numba code is
    compiled once, inside its ``joint_c`` callback, and ``logp_fn`` calls that callback — as a
    warm process does (:func:`native.load_compiled`): PyTensor's Python-callable wrapper of the
    graph is never compiled. Otherwise ``logp_fn`` is PyTensor's jitted function.

    The data are passed as :meth:`CompiledModel.data_args` passes them in every later call
    (fresh, writeable, C-ordered arrays of the graph's dtype and dimensionality): numba compiles
    one version per argument layout, and a second layout would cost a second compilation.
    """
    inputs = _internals.data_inputs(joint_f)
    names = [v.name for v in inputs]
    dtypes = {v.name: v.dtype for v in inputs}
    value_vars = model.value_vars
    x_names = []
    for v in value_vars:
        size = int(np.size(point[v.name]))
        x_names += [v.name] if size == 1 else [f"{v.name}[{i}]" for i in range(size)]
    rv_shapes = [tuple(np.shape(point[model.rvs_to_values[rv].name])) for rv in model.free_RVs]
    compiled = CompiledModel(
        ndim=int(x0.size),
        value_names=[v.name for v in value_vars],
        rv_names=[rv.name for rv in model.free_RVs],
        rv_shapes=rv_shapes,
        data_names=names,
        logp_fn=None,
        compile_seconds=0.0,
        x0=x0,
        data_dtypes=dtypes,
        x_names=x_names,
        data_ndims=[int(v.type.ndim) for v in inputs],
        key=key,
    )
    own = _model_data(model)
    values = [own[v.name] if v.name in own else v.get_value() for v in inputs]
    args = [np.array(v, dtype=dtypes[n], order="C") for n, v in zip(names, values, strict=True)]
    with _internals.exact_float_flags():
        if native.enabled():
            compiled.logp_fn = native.compile_joint(compiled, _internals.inner_jitted(joint_f))
        else:
            compiled.logp_fn = _internals.jitted(joint_f)
        compiled.logp_fn(x0, *args)
    return compiled


def _model_data(model: Any) -> dict[str, Any]:
    """Current values of the model's data containers and dimension lengths, by name."""
    pairs = [*model.named_vars.items(), *model.dim_lengths.items()]
    return {name: var.get_value() for name, var in pairs if hasattr(var, "get_value")}
