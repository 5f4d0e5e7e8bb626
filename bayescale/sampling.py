"""NUTS for bayescale models: nutpie driven by a cached, compiled log density.

PyMC builds the model graph. This module compiles its log density and gradient once per model
*structure* (law, priors, likelihood), with the data and the reference scales passed as
arguments, so a second fit of the same law to new runs reuses the compiled function. nutpie runs
NUTS on it with low-rank mass-matrix adaptation, which suits scaling-law posteriors: exponents and
intercepts are correlated even after centring, and a diagonal mass matrix needs several times more
leapfrog steps per draw.

Chains start from jittered points around the posterior mode found by L-BFGS, scaled by the
optimiser's inverse-Hessian estimate, which keeps warm-up short and avoids starting in the flat
regions of the log-sum-exp surface. ``sampler="pymc"`` uses PyMC's own NUTS instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import stat
import sys
import threading
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CompiledModel",
    "chain_seed",
    "compile_model",
    "find_mode",
    "sample_model",
    "sample_nutpie",
    "sample_pymc",
    "trace_to_datatree",
]

_CACHE: dict[str, CompiledModel] = {}
_CACHE_LOCK = threading.Lock()


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

    def data_args(self, data: Mapping[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        missing = [n for n in names if n not in data]
        if missing:
            raise KeyError(f"compiled model needs data {missing}")
        # np.array, not np.ascontiguousarray: the latter turns 0-d values into shape (1,)
        return [
            np.array(data[n], dtype=self.data_dtypes.get(n, "float64"), order="C") for n in names
        ]


def _numba_mode() -> Any:
    return "NUMBA"


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
    value_vars = model.value_vars
    logp, constrained = _density_graphs(model)
    key = None
    if cache or _graph_store_on():
        try:
            key = _fingerprint(model, logp, constrained)
        except Exception:  # something in the graph that cannot be described: no caches
            key = None
    if cache and key is not None:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None:
            return hit

    cache_file = _graph_cache_file(key) if key is not None else None
    stored = _load_compiled_graph(cache_file) if cache_file is not None else None
    if stored is None:
        point = model.initial_point()
        joint_f = _compile_joint(point, value_vars, logp, constrained)
        if cache_file is not None and _save_compiled_graph(cache_file, joint_f, point):
            # Use the graph as read back: later processes compile exactly this function, so the
            # machine code numba caches at the first call below serves them too.
            stored = _load_compiled_graph(cache_file)
    if stored is not None:
        joint_f, point = stored
    x0 = np.concatenate([np.atleast_1d(point[v.name]).ravel() for v in value_vars])
    try:
        joint_jit, data_names, dtypes = _first_call(joint_f, model, x0)
    except Exception:
        if stored is None:
            raise
        # a stored graph that does not run here: drop it and compile afresh
        cache_file.unlink(missing_ok=True)
        point = model.initial_point()
        joint_f = _compile_joint(point, value_vars, logp, constrained)
        joint_jit, data_names, dtypes = _first_call(joint_f, model, x0)

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
    )
    if cache and key is not None:
        with _CACHE_LOCK:
            compiled = _CACHE.setdefault(key, compiled)
    return compiled


def _exact_float_flags() -> Any:
    """PyTensor settings under which the model is turned into numba code: no fast-math.

    With PyTensor's default fast-math flags (reassociation, contraction into fused multiply-adds,
    approximate functions) LLVM may rearrange the arithmetic of an operation differently when it
    is compiled together with its callers (a cold numba cache) than when it is loaded from
    numba's cache and called: the log density then differs in the last bits between a process
    that compiled it and one that loaded it, and so do the mode, the starting points and every
    draw. Without fast-math LLVM keeps IEEE semantics, whatever it inlines; on the Chinchilla
    model the evaluation is as fast (≈ 20 µs per call either way).
    """
    import pytensor

    return pytensor.config.change_flags(numba__fastmath=False)


def _density_graphs(model: Any) -> tuple[Any, list[Any]]:
    """The model's log density (with the Jacobian of the transforms) and the constrained values
    of its free variables, as graphs of the value variables."""
    return model.logp(jacobian=True), model.replace_rvs_by_values(model.free_RVs)


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
    with _exact_float_flags():
        return pytensor.function([x], [logp_j, grad_j, constrained_j], mode=_numba_mode())


def _first_call(joint_f: Any, model: Any, x0: np.ndarray) -> tuple[Any, list[str], dict]:
    """Call the compiled function once with the model's own data, so numba compiles it (or
    loads it from its cache) now; returns the jitted function, its data names and dtypes.

    The data are passed as :meth:`CompiledModel.data_args` passes them in every later call
    (fresh, writeable, C-ordered arrays of the graph's dtype and dimensionality): numba compiles
    one version per argument layout, and a second layout would cost a second compilation.
    """
    inputs = joint_f.maker.fgraph.inputs[1:]
    names = [v.name for v in inputs]
    dtypes = {v.name: v.dtype for v in inputs}
    own = _model_data(model)
    values = [own[v.name] if v.name in own else v.get_value() for v in inputs]
    jitted = joint_f.vm.jit_fn
    args = [np.array(v, dtype=dtypes[n], order="C") for n, v in zip(names, values, strict=True)]
    with _exact_float_flags():
        jitted(x0, *args)
    return jitted, names, dtypes


def _model_data(model: Any) -> dict[str, Any]:
    """Current values of the model's data containers and dimension lengths, by name."""
    pairs = [*model.named_vars.items(), *model.dim_lengths.items()]
    return {name: var.get_value() for name, var in pairs if hasattr(var, "get_value")}


# ---------------------------------------------------------------------------------------------
# Rewritten graphs kept across processes
#
# PyTensor rewrites the log-density graph anew in every process (≈ 1 s here, longer than the
# numba step, whose machine code numba already caches on disk). The rewritten graph is stored in
# PyTensor's compile directory, next to numba's cache, under a fingerprint of the graph it is
# rewritten from: the model's log density and constrained values (every operation with its
# parameters, the inner graphs of composite operations, the code of any Python function an
# operation holds, every constant and type; the law's expression, the priors, the likelihood and
# the observations are all in it), the free variables' graphs and initial values, this module's
# source and the versions of Python, numpy, PyTensor, PyMC, numba and bayescale. The entry repeats
# its fingerprint, which is checked on reading; a graph that cannot be read or run is compiled
# afresh. Data values are not stored; the 200 most recently used entries are kept.
# ``BAYESCALE_GRAPH_CACHE=0`` turns the store off. Entries are pickles: the folder is created
# private to the user (mode 0o700), and an entry is unpickled only if it is a regular file (not a
# link) owned by the user and writable by no one else; any other entry is ignored, compiled afresh
# and replaced.

GRAPH_CACHE_ENV = "BAYESCALE_GRAPH_CACHE"
_GRAPH_FORMAT = 2
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SOURCE_DIGEST: list[str] = []
_GRAPH_STORE_KEEP = 200  # entries of ≈ 1 MB; the least recently used beyond this are deleted


def _graph_store_on() -> bool:
    return os.environ.get(GRAPH_CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _graph_cache_file(key: str) -> Any:
    """Where the rewritten graph with fingerprint ``key`` is stored, or None if the store is off."""
    from pathlib import Path

    if not _graph_store_on():
        return None
    try:
        import pytensor

        return Path(pytensor.config.compiledir) / "bayescale-graphs" / f"{key}.pkl"
    except Exception:  # pragma: no cover - no compile directory: compile without the store
        return None


def model_fingerprint(model: Any, extra: str | None = None) -> str:
    """A SHA-256 fingerprint of what a PyMC model compiles to, stable across processes.

    It covers the log density (with the transforms' Jacobians) and the constrained values of the
    free variables as graphs — every operation with its parameters, the inner graphs of
    composite operations, the code of Python functions held by operations, every constant and
    type — plus the free variables' graphs and initial values and the versions of the libraries
    involved. Data containers (``pm.Data``) enter by name and type, not by value, so a model
    refitted to new data of the same kind keeps its fingerprint.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> def model(sd, observed):
    ...     with pm.Model() as m:
    ...         mu = pm.Normal("mu", 0, sd)
    ...         _ = pm.Normal("y", mu, 1, observed=observed)
    ...     return m
    >>> model_fingerprint(model(1.0, np.zeros(3))) == model_fingerprint(model(1.0, np.zeros(3)))
    True
    >>> model_fingerprint(model(1.0, np.zeros(3))) == model_fingerprint(model(2.0, np.zeros(3)))
    False
    >>> model_fingerprint(model(1.0, np.zeros(3))) == model_fingerprint(model(1.0, np.ones(3)))
    False
    """
    logp, constrained = _density_graphs(model)
    return _fingerprint(model, logp, constrained, extra)


def _fingerprint(model: Any, logp: Any, constrained: list[Any], extra: str | None = None) -> str:
    import hashlib
    from importlib.metadata import version

    import pymc
    import pytensor

    from . import __version__

    if not _SOURCE_DIGEST:
        with open(__file__, "rb") as handle:
            _SOURCE_DIGEST.append(hashlib.sha256(handle.read()).hexdigest())
    digest = hashlib.sha256()

    def put(*parts: Any) -> None:
        _feed(digest, parts)

    put(
        _GRAPH_FORMAT,
        _SOURCE_DIGEST[0],
        sys.version_info[:3],
        np.__version__,
        pytensor.__version__,
        pymc.__version__,
        version("numba"),
        __version__,
        pytensor.config.floatX,
        pytensor.config.optimizer_excluding,
        pytensor.config.optimizer_including,
        pytensor.config.optimizer_requiring,
        extra,
    )
    inner: dict[int, str] = {}
    put("graph", _graph_digest([logp, *constrained, *model.free_RVs], inner))
    put("free", [rv.name for rv in model.free_RVs], [v.name for v in model.value_vars])
    put("values", [(v.name, str(v.type)) for v in model.value_vars])
    initial = model.rvs_to_initial_values
    put("initial values", [(rv.name, _describe(initial.get(rv), inner)) for rv in model.free_RVs])
    put("check_bounds", getattr(model, "check_bounds", None))
    return digest.hexdigest()


def _feed(digest: Any, parts: Any) -> None:
    """Add ``parts`` to a hash as text, memory addresses removed, with a separator."""
    digest.update(_ADDRESS.sub("", repr(parts)).encode())
    digest.update(b"\x00")


def _graph_digest(outputs: list[Any], inner: dict[int, str]) -> str:
    """SHA-256 of a graph: its operations in topological order, their inputs, outputs, types."""
    import hashlib

    from pytensor.graph.basic import Constant
    from pytensor.graph.traversal import toposort

    digest = hashlib.sha256()

    def put(*parts: Any) -> None:
        _feed(digest, parts)

    ids: dict[Any, int] = {}

    def ref(var: Any) -> int:
        if var not in ids:
            ids[var] = len(ids)
            if isinstance(var, Constant):
                put("constant", str(var.type), _describe(var.data, inner))
            else:
                put("input", type(var).__name__, str(var.type), var.name)
        return ids[var]

    for node in toposort(outputs):
        put("apply", _describe(node.op, inner), [ref(i) for i in node.inputs])
        for out in node.outputs:
            ids[out] = len(ids)
            put("output", str(out.type), out.name)
    put("outputs", [ref(v) for v in outputs])
    return digest.hexdigest()


def _describe(obj: Any, inner: dict[int, str]) -> Any:
    """A process-independent description of an operation, a constant or an operation parameter.

    Operations are described by class, parameters and inner graph (memoised in ``inner``; an
    operation without declared parameters by its public attributes); other objects with declared
    parameters (PyTensor types) by class and parameters; arrays by dtype, shape and a hash of
    their bytes; functions by module, name, code (instructions, the names they use, constants and
    nested code), defaults and closure; symbolic variables by their graph; classes, modules and
    NumPy functions by name; containers element by element. Anything else raises ``TypeError``:
    a representation may hide what an object computes, so it never stands in for the object.
    """
    import enum
    import functools
    import hashlib

    from pytensor.graph.basic import Variable
    from pytensor.graph.op import Op

    def each(values: Any) -> list[Any]:
        return [_describe(v, inner) for v in values]

    if obj is None or obj is Ellipsis:
        return obj
    if isinstance(obj, bool | int | float | complex | str | bytes):
        return obj
    if isinstance(obj, Op):
        key = id(obj)
        if key not in inner:
            inner[key] = ""  # guards against an operation that refers to itself
            props = obj._props_dict() if hasattr(obj, "_props_dict") else None
            if not props:  # no declared parameters: what the operation holds
                props = {
                    k: v for k, v in vars(obj).items() if not k.startswith("_") and k != "fgraph"
                }
            described = [
                type(obj).__module__,
                type(obj).__qualname__,
                {k: _describe(v, inner) for k, v in sorted(props.items())},
            ]
            graph = getattr(obj, "fgraph", None)
            if graph is not None and hasattr(graph, "outputs"):
                described.append(_graph_digest(list(graph.outputs), inner))
            inner[key] = hashlib.sha256(_ADDRESS.sub("", repr(described)).encode()).hexdigest()
        return inner[key]
    if isinstance(obj, np.ndarray | np.generic):
        array = np.asarray(obj)
        if array.dtype == object:
            return ("objects", array.shape, each(array.ravel()))
        data = np.ascontiguousarray(array).tobytes()
        return ("array", array.dtype.str, array.shape, hashlib.sha256(data).hexdigest())
    if isinstance(obj, Variable):
        return ("variable", _graph_digest([obj], inner))
    if isinstance(obj, type):
        return ("class", obj.__module__, obj.__qualname__)
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__)
    if isinstance(obj, enum.Enum):
        return ("enum", type(obj).__module__, type(obj).__qualname__, obj.name)
    if isinstance(obj, np.dtype):
        return ("dtype", obj.str, _describe(obj.descr, inner) if obj.fields else None)
    if isinstance(obj, list | tuple):
        return (type(obj).__name__, each(obj))
    if isinstance(obj, Mapping):  # dict, PyTensor's frozendict, ...
        items = [(_describe(k, inner), _describe(v, inner)) for k, v in obj.items()]
        return ("dict", sorted(items, key=repr))
    if isinstance(obj, set | frozenset):
        return ("set", sorted(each(obj), key=repr))
    if isinstance(obj, slice):
        return ("slice", each((obj.start, obj.stop, obj.step)))
    if isinstance(obj, range):
        return ("range", obj.start, obj.stop, obj.step)
    if isinstance(obj, functools.partial):
        keywords = _describe(obj.keywords, inner)
        return ("partial", _describe(obj.func, inner), each(obj.args), keywords)
    if isinstance(obj, types.CodeType):
        return (
            "code",
            hashlib.sha256(obj.co_code).hexdigest(),
            obj.co_names,
            obj.co_argcount,
            obj.co_kwonlyargcount,
            obj.co_flags,
            each(obj.co_consts),
        )
    code = getattr(obj, "__code__", None)
    if isinstance(code, types.CodeType):
        cells = []
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                cells.append(cell.cell_contents)
            except ValueError:  # an empty cell
                cells.append(None)
        return (
            "function",
            getattr(obj, "__module__", None),
            getattr(obj, "__qualname__", None),
            _describe(code, inner),
            _describe(getattr(obj, "__defaults__", None), inner),
            _describe(getattr(obj, "__kwdefaults__", None), inner),
            each(cells),
        )
    if isinstance(obj, np.ufunc | types.BuiltinFunctionType):
        return ("builtin", getattr(obj, "__module__", None), obj.__name__)
    if isinstance(obj, types.MethodType):
        return ("method", _describe(obj.__func__, inner), _describe(obj.__self__, inner))
    props = getattr(type(obj), "__props__", None)
    if props is not None and hasattr(obj, "_props_dict"):  # PyTensor types and the like
        return (
            "object",
            type(obj).__module__,
            type(obj).__qualname__,
            {k: _describe(v, inner) for k, v in obj._props_dict().items()},
        )
    data = getattr(obj, "data", None)
    if isinstance(data, np.ndarray):  # e.g. a tensor constant given as an initial value
        return _describe(data, inner)
    raise TypeError(
        f"cannot describe a {type(obj).__module__}.{type(obj).__qualname__} object for the "
        "model fingerprint"
    )


def _current_uid() -> int | None:
    """This process's user id (None where the platform has none, e.g. Windows)."""
    return os.getuid() if hasattr(os, "getuid") else None


def _read_private(path: Any) -> bytes | None:
    """The bytes of ``path`` if it is a regular file, not a symbolic link, owned by this user and
    writable by no one else; None otherwise (or if it cannot be read).

    The checks are made on the open file, so the file checked is the file read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        uid = _current_uid()
        if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        if uid is not None and info.st_uid != uid:
            return None
        return handle.read()


def _unpickle(data: bytes) -> Any:
    import pickle

    return pickle.loads(data)


def _private_folder(folder: Any) -> bool:
    """Create ``folder`` with mode 0o700 (or make an existing one of ours 0o700); False if it is
    not ours, so nothing is written into it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    uid = _current_uid()
    if uid is not None and info.st_uid != uid:
        return False
    if stat.S_IMODE(info.st_mode) & 0o077:
        folder.chmod(0o700)
    return True


def _load_compiled_graph(path: Any) -> tuple[Any, dict[str, np.ndarray]] | None:
    """Compile a stored, already rewritten graph (no rewriting) and return it with the model's
    initial point; None if there is no entry or it cannot be used (see :func:`_read_private`)."""
    import warnings

    data = _read_private(path)
    if data is None:
        return None
    try:
        import pytensor
        from pytensor.compile.mode import Mode
        from pytensor.link.numba.linker import NumbaLinker

        entry = _unpickle(data)
        if entry.get("format") != _GRAPH_FORMAT or entry.get("key") != path.stem:
            return None
        os.utime(path)  # marks the entry as recently used (pruning keeps the newest)
        fgraph, point = entry["fgraph"], entry["point"]
        with warnings.catch_warnings(), _exact_float_flags():
            warnings.simplefilter("ignore")
            function = pytensor.function(
                fgraph.inputs[:1],
                fgraph.outputs,
                mode=Mode(linker=NumbaLinker(), optimizer=None),
                accept_inplace=True,
            )
        return function, {k: np.asarray(v) for k, v in point.items()}
    except Exception:  # a stale or damaged entry: compile afresh (and overwrite it)
        return None


def _save_compiled_graph(path: Any, joint_f: Any, point: Mapping[str, Any]) -> bool:
    """Store the rewritten graph of ``joint_f`` and the initial point atomically, without the
    data values, in a folder private to the user; False (and nothing stored) on error."""
    import tempfile

    tmp = None
    shared = [v for v in joint_f.maker.fgraph.inputs[1:] if hasattr(v, "get_value")]
    saved = [v.get_value(borrow=True) for v in shared]
    try:
        import cloudpickle

        # the data containers travel as empty placeholders of their type
        for var in shared:
            var.set_value(np.zeros([n or 0 for n in var.type.shape], dtype=var.dtype))
        entry = {
            "format": _GRAPH_FORMAT,
            "key": path.stem,
            "fgraph": joint_f.maker.fgraph,
            "point": {k: np.asarray(v) for k, v in point.items()},
        }
        payload = cloudpickle.dumps(entry, protocol=5)
        if not _private_folder(path.parent):
            return False
        # mkstemp creates the file with mode 0o600; os.replace keeps it
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
        _prune_graph_store(path.parent)
        return True
    except Exception:  # read-only or full disk, an op that cannot be pickled
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return False
    finally:
        for var, value in zip(shared, saved, strict=True):
            var.set_value(value, borrow=True)


def _prune_graph_store(folder: Any, keep: int | None = None) -> None:
    """Keep the ``keep`` most recently used entries (default ``_GRAPH_STORE_KEEP``)."""
    keep = _GRAPH_STORE_KEEP if keep is None else keep
    try:
        entries = sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[keep:]:
            old.unlink(missing_ok=True)
    except OSError:  # pragma: no cover - another process pruned at the same time
        pass


def find_mode(
    compiled: CompiledModel,
    data: Mapping[str, np.ndarray],
    x0: np.ndarray,
    starts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode in the unconstrained space by L-BFGS, and a diagonal scale estimate.

    Returns ``(x_mode, scale)``; ``scale`` is the square root of the diagonal of the
    optimiser's inverse-Hessian approximation (clipped to a sensible range).

    ``starts`` (rows of unconstrained points, e.g. a law's multi-start declaration,
    :func:`bayescale.multistart.law_starts`) adds a multi-start search: a short L-BFGS
    (≤ 100 iterations) runs from ``x0`` and from every start, and the best end point (highest
    log density; ties to the earliest) is then optimised to convergence. Deterministic given
    the starts.
    """
    from scipy import optimize

    args = compiled.data_args(data, compiled.data_names)
    fn = compiled.logp_fn

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, grad = fn(x, *args)[:2]
        except Exception:  # a parameter check of the model failed: outside the support
            return 1e300, np.zeros_like(x)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return -float(value), -np.asarray(grad)

    def minimise(start: np.ndarray, maxiter: int) -> Any:
        # L-BFGS-B's products are tiny: BLAS threads only contend (≈ 10× slower on a busy
        # machine), so one thread
        with _one_blas_thread():
            return optimize.minimize(
                negative,
                start,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": maxiter, "maxcor": 20},
            )

    if starts is not None and len(starts):
        scouts = [minimise(s, 100) for s in (x0, *np.asarray(starts, dtype=float))]
        scouts = [r for r in scouts if np.all(np.isfinite(r.x)) and r.fun < 1e299]
        if scouts:
            x0 = min(scouts, key=lambda r: r.fun).x  # min keeps the earliest of equal values
    best = None
    for start in (x0, np.zeros_like(x0)):
        res = minimise(start, 2000)
        if np.all(np.isfinite(res.x)) and (best is None or res.fun < best.fun):
            best = res
        if best is not None and best.fun < 1e299 and (best.success or best.nit > 50):
            break
    if best is None:
        raise RuntimeError("could not find a finite starting point for the sampler")
    try:
        diag = np.diag(best.hess_inv.todense())
        scale = np.sqrt(np.clip(diag, 1e-8, 4.0))
    except Exception:  # pragma: no cover - optimiser without Hessian estimate
        scale = np.full_like(best.x, 0.1)
    if not np.all(np.isfinite(scale)):
        scale = np.full_like(best.x, 0.1)
    return best.x, scale


def _one_blas_thread() -> Any:
    """BLAS limited to one thread in this block (threadpoolctl, which comes with PyMC's
    dependencies); a no-op without threadpoolctl."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def whitening(
    compiled: CompiledModel, data: Mapping[str, np.ndarray], x_mode: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """A matrix ``L`` with ``L Lᵀ`` ≈ the posterior covariance at the mode (Laplace approximation).

    The Hessian of the log density at the mode is taken by central differences of the gradient
    (2 × ndim gradient evaluations). If it is not negative definite the diagonal ``scale`` from
    the optimiser is used instead. Sampling ``z`` with ``x = x_mode + L z`` gives NUTS a posterior
    that is close to round from the first warm-up iteration.
    """
    args = compiled.data_args(data, compiled.data_names)
    fn = compiled.logp_fn
    n = x_mode.size
    hess = np.empty((n, n))
    for i in range(n):
        h = 1e-4 * max(scale[i], 1e-3)
        step = np.zeros(n)
        step[i] = h
        g_hi = np.asarray(fn(x_mode + step, *args)[1])
        g_lo = np.asarray(fn(x_mode - step, *args)[1])
        hess[:, i] = (g_hi - g_lo) / (2 * h)
    precision = -(hess + hess.T) / 2
    try:
        if not np.all(np.isfinite(precision)):
            raise np.linalg.LinAlgError("non-finite Hessian")
        chol_p = np.linalg.cholesky(precision)
        # L = chol(P)^-T so that L Lᵀ = P⁻¹
        return np.linalg.solve(chol_p.T, np.eye(n))
    except np.linalg.LinAlgError:
        return np.diag(scale)


def chain_seed(seed: int, chain: int) -> tuple[int, np.random.Generator]:
    """The random streams of chain ``chain`` of a fit with ``random_seed=seed``.

    Chain ``c`` gets the ``c``-th child of ``numpy.random.SeedSequence(seed)``
    (``SeedSequence(seed, spawn_key=(c,))``, the same as ``SeedSequence(seed).spawn(c + 1)[c]``),
    which is split in two: one part gives nutpie's seed (a 64-bit integer), the other the
    generator of the chain's starting point. A chain's streams depend on the seed and the chain's
    index only — not on the number of chains, processes or cores.

    Examples
    --------
    >>> chain_seed(1, 0)[0] == chain_seed(1, 0)[0] != chain_seed(1, 1)[0]
    True
    """
    sampler, start = np.random.SeedSequence(seed, spawn_key=(chain,)).spawn(2)
    return int(sampler.generate_state(1, np.uint64)[0]), np.random.default_rng(start)


def sample_nutpie(
    compiled: CompiledModel,
    data: Mapping[str, np.ndarray],
    x0: np.ndarray,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool,
    cores: int | None = None,
    adaptation: str = "low_rank",
    jitter: float = 1.0,
    target_accept: float = 0.9,
    processes: int | None = None,
    starts: np.ndarray | None = None,
    init: str = "mode",
    **kwargs: Any,
) -> tuple[Any, dict[str, float]]:
    """Run nutpie on a compiled model; returns the DataTree and timing information.

    Every chain is its own nutpie run (one chain, seeded by :func:`chain_seed` from ``seed`` and
    the chain's index, starting point included), so a chain's draws are the same whichever
    process runs it and however many chains there are. The log density is a Python callback,
    so one process runs one chain at a time: with ``processes`` > 1 (default: one per available
    core, at most one per chain, on Linux) the chains are split into consecutive blocks between
    forked worker processes, which inherit the compiled model and send back their chains' draws
    and statistics.
    ``processes=1`` (or the environment variable ``BAYESCALE_PROCESSES=1``) samples in this
    process; the draws are the same. ``cores`` is accepted for compatibility and must be None
    or 1 (chains within a process run one after another).

    NUTS runs in whitened coordinates ``z`` (``x = x_mode + L z``, see :func:`whitening`), and
    chains start at ``z = jitter × N(0, I)``, i.e. about one posterior sd from the mode.
    Timings: ``init`` (mode finding), ``sampling`` (wall clock) and its split into ``tune`` and
    ``draws`` in proportion to the leapfrog steps taken in each phase.

    ``starts`` (rows of unconstrained points) makes the mode search multi-start
    (:func:`find_mode`): every chain starts around the best mode found. ``init="point"`` skips
    the mode and its Laplace metric: chains start around the model's initial point with an
    identity metric that nutpie adapts (for hierarchical fits, whose mode is in a funnel's neck).

    ``target_accept`` defaults to 0.9 rather than nutpie's 0.8: on the Chinchilla runs the smaller
    step size removes the occasional divergence in the tails of the Student-t noise parameters
    for about 10% more gradient evaluations.
    """
    if cores not in (None, 1):
        raise ValueError(
            f"cores={cores!r}: each process runs its chains one after another (so that a chain's "
            "draws do not depend on how chains are grouped); use processes= to run chains in "
            "parallel"
        )
    nutpie = _import_nutpie()
    from nutpie.compiled_pyfunc import from_pyfunc

    t0 = time.perf_counter()
    if init == "mode":
        x_mode, scale = find_mode(compiled, data, x0, starts)
        # NUTS runs on z with x = x_mode + L z, L from the Laplace approximation at the mode.
        L = whitening(compiled, data, x_mode, scale)
    elif init == "point":
        # hierarchical posteriors: the mode sits in the neck of the funnels (group spreads at
        # zero), where the Laplace metric is useless; start at the model's initial point and
        # let nutpie's adaptation find the metric
        x_mode, L = np.asarray(x0, dtype=float), np.eye(len(x0))
    else:
        raise ValueError(f"init must be 'mode' or 'point', got {init!r}")
    Lt = np.ascontiguousarray(L.T)
    t_init = time.perf_counter() - t0

    logp_args = compiled.data_args(data, compiled.data_names)
    logp_fn = compiled.logp_fn
    names, shapes = compiled.rv_names, compiled.rv_shapes
    sizes = [int(np.prod(s)) for s in shapes]
    ends = list(np.cumsum(sizes))
    offsets = [0, *ends[:-1]]

    # Every draw nutpie stores is a point where the log density was already evaluated during the
    # trajectory, and that evaluation returned the constrained values too. Keep them by position
    # so that storing a draw does not cost a second evaluation; a position not found (or an
    # emptied store) is simply evaluated again.
    seen: dict[bytes, np.ndarray] = {}

    def position(z: np.ndarray) -> np.ndarray:
        return x_mode + L @ z

    def z_density(z: np.ndarray, out: Any) -> tuple[float, np.ndarray]:
        return float(out[0]), Lt @ out[1]

    def make_logp() -> Any:
        def logp(z: np.ndarray, **_: Any) -> tuple[float, np.ndarray]:
            try:
                out = logp_fn(position(z), *logp_args)
            except ValueError:  # a parameter check failed (e.g. nu > 0 underflowed): no density;
                return -np.inf, np.zeros_like(z)  # raised into nutpie it would panic the sampler
            if len(seen) >= 4096:
                seen.clear()
            seen[z.tobytes()] = out[2]
            return z_density(z, out)

        return logp

    def make_expand(seed1: int, seed2: int, chain: int) -> Any:
        def expand(z: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            flat = seen.get(z.tobytes())
            if flat is None:
                flat = logp_fn(position(z), *logp_args)[2]
            return {
                n: flat[a:b].reshape(s)
                for n, a, b, s in zip(names, offsets, ends, shapes, strict=True)
            }

        return expand

    def run_chain(chain: int, report: Any) -> dict[str, dict[str, np.ndarray]]:
        """Chain ``chain`` alone, as numpy arrays by group (see :func:`_chain_arrays`);
        ``report(chain, finished, divergences)`` (or None) receives its progress."""
        nutpie_seed, rng = chain_seed(seed, chain)
        callback = None
        if report is not None:

            def callback(progress: list[Any]) -> None:
                state = progress[0]
                report(chain, int(state.finished_draws), int(state.divergences))

        def initial_point(_: int) -> np.ndarray:
            # nutpie's own seed argument is not used: the chain's generator decides
            for _ in range(20):
                z = jitter * rng.standard_normal(x_mode.shape)
                value = logp_fn(position(z), *logp_args)[0]
                if np.isfinite(value):
                    return z
            return np.zeros_like(x_mode)

        pyfunc = from_pyfunc(
            compiled.ndim,
            make_logp,
            make_expand,
            [np.dtype("float64")] * len(names),
            shapes,
            names,
            make_initial_point_fn=initial_point,
        )
        raw = nutpie.sample(
            pyfunc,
            draws=draws,
            tune=tune,
            chains=1,
            cores=1,
            seed=nutpie_seed,
            progress_bar=False,  # progress goes to the parent's one bar (bayescale.progress)
            progress_callback=callback,
            adaptation=adaptation,
            target_accept=target_accept,
            save_warmup=True,
            return_raw_trace=True,
            **kwargs,
        )
        (draw_batch,), (stat_batch,) = raw.get_arrow_trace()
        arrays = _chain_arrays(draw_batch, stat_batch, names, shapes)
        if report is not None:
            report(chain, tune + draws, int(np.sum(arrays["sample_stats"].get("diverging", 0))))
        # numpy arrays of what is kept: small and fast to send from a worker process
        return arrays

    def run(chain_ids: list[int], report: Any) -> list[dict[str, dict[str, np.ndarray]]]:
        return [run_chain(c, report) for c in chain_ids]

    from .progress import ChainProgress

    t1 = time.perf_counter()
    n_proc = _n_processes(processes, chains)
    bar = ChainProgress(chains, tune + draws, enabled=progressbar)
    report = bar.update if progressbar else None
    per_chain = None
    try:
        if n_proc > 1:
            per_chain = _sample_in_processes(run, chains, n_proc, report)
        if per_chain is None:
            per_chain = run(list(range(chains)), report)
    finally:
        bar.close()
    trace = _datatree_from_chains(per_chain)
    elapsed = time.perf_counter() - t1
    # Chains interleave in wall-clock time; split the sampling time in proportion to the
    # leapfrog steps (gradient evaluations) of each phase.
    tune_steps = int(trace["warmup_sample_stats"]["n_steps"].sum()) if tune else 0
    draw_steps = int(trace["sample_stats"]["n_steps"].sum())
    share = tune_steps / max(tune_steps + draw_steps, 1)
    timings = {
        "init": t_init,
        "sampling": elapsed,
        "tune": elapsed * share,
        "draws": elapsed * (1 - share),
    }
    return trace, timings


class _DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is used, then imports the module.

    It carries the real module's ``__spec__``, so the import system and
    ``importlib.util.find_spec`` see an ordinary, fully imported module.
    """

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            # still registered (another thread is using it while nutpie is being imported):
            # take it out, so that the import below loads the real package
            sys.modules.pop(self.__name__, None)
        return getattr(importlib.import_module(self.__name__), attr)


_NUTPIE_LOCK = threading.Lock()


def _import_nutpie() -> Any:
    """Import nutpie without importing ArviZ (≈ 1 s) when ArviZ is not loaded yet.

    ``nutpie.sample`` imports ArviZ at module level but uses it only to convert a finished trace,
    which bayescale does itself (:func:`trace_to_datatree`). While nutpie is imported, ``arviz``
    resolves to a stand-in that imports the real package on first attribute access, so nutpie's
    own conversion keeps working; ``sys.modules`` is restored right after, so a later
    ``import arviz`` anywhere else is an ordinary import.
    """
    with _NUTPIE_LOCK:
        if "nutpie" in sys.modules or "arviz" in sys.modules:
            import nutpie

            return nutpie
        stand_in = _DeferredModule("arviz")
        try:
            stand_in.__spec__ = importlib.util.find_spec("arviz")
        except (ImportError, ValueError):  # pragma: no cover - no ArviZ: nutpie will say so
            stand_in.__spec__ = None
        sys.modules["arviz"] = stand_in
        try:
            import nutpie
        finally:
            if sys.modules.get("arviz") is stand_in:
                del sys.modules["arviz"]
        return nutpie


def trace_to_datatree(raw: Any, names: list[str], shapes: list[tuple[int, ...]]) -> Any:
    """Turn nutpie's raw trace (Arrow record batches, one per chain) into a ``DataTree``.

    Groups ``posterior`` and ``sample_stats`` hold the draws after warm-up, ``warmup_posterior``
    and ``warmup_sample_stats`` those during warm-up, each over ``(chain, draw, ...)``; a vector
    variable ``v`` gets dimensions ``v_dim_0, v_dim_1, ...`` (ArviZ's default names). Sample
    statistics keep nutpie's per-draw scalars (step size, tree depth, leapfrog steps,
    divergences, ...) and drop the per-draw vectors (gradients, mass matrices) and messages.
    Chains of unequal length are padded with NaN (zeros for integer and boolean statistics).
    """
    draw_batches, stat_batches = raw.get_arrow_trace()
    return _datatree_from_chains(
        [
            _chain_arrays(d, s, names, shapes)
            for d, s in zip(draw_batches, stat_batches, strict=True)
        ]
    )


_GROUPS = ("posterior", "sample_stats", "warmup_posterior", "warmup_sample_stats")


def _chain_arrays(
    draw_batch: Any, stat_batch: Any, names: list[str], shapes: list[tuple[int, ...]]
) -> dict[str, dict[str, np.ndarray]]:
    """One chain of nutpie's raw trace (its draws and statistics record batches) as numpy arrays
    over the chain's draws, by group (see :func:`trace_to_datatree`) and variable."""
    import pyarrow as pa

    shape_of = dict(zip(names, shapes, strict=True))

    def columns(batch: Any, keep: Any) -> dict[str, np.ndarray]:
        out = {}
        for name in batch.column_names:
            col = pa.array(batch.column(name))
            if not keep(name, col.type):
                continue
            if pa.types.is_large_list(col.type) or pa.types.is_list(col.type):
                values = col.flatten().to_numpy(zero_copy_only=False)
                out[name] = values.reshape((len(col), *shape_of[name]))
            else:
                if col.null_count and not pa.types.is_floating(col.type):
                    # missing integer / boolean statistics become 0 / False, as in nutpie
                    col = col.fill_null(False if pa.types.is_boolean(col.type) else 0)
                out[name] = col.to_numpy(zero_copy_only=False)
        return out

    def is_draw(name: str, _: Any) -> bool:
        return name in shape_of

    def is_stat(name: str, kind: Any) -> bool:
        return name not in ("chain", "draw") and (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        )

    tuning = np.asarray(pa.array(stat_batch.column("tuning")), dtype=bool)
    draws, stats = columns(draw_batch, is_draw), columns(stat_batch, is_stat)

    def part(rows: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[mask[: len(v)]] for k, v in rows.items()}

    return {
        "posterior": part(draws, ~tuning),
        "sample_stats": part(stats, ~tuning),
        "warmup_posterior": part(draws, tuning),
        "warmup_sample_stats": part(stats, tuning),
    }


def _datatree_from_chains(chains: list[dict[str, dict[str, np.ndarray]]]) -> Any:
    """Stack chains given by :func:`_chain_arrays`, in chain order, into a ``DataTree``."""
    import xarray as xr

    n_chains = len(chains)

    def group(parts: list[dict[str, np.ndarray]]) -> xr.Dataset:
        n_draws = max((len(next(iter(p.values()))) for p in parts if p), default=0)
        data_vars = {}
        for name in parts[0] if parts else []:
            first = parts[0][name]
            fill = np.nan if first.dtype.kind == "f" else 0
            arr = np.full((n_chains, n_draws, *first.shape[1:]), fill, dtype=first.dtype)
            for c, chain in enumerate(parts):
                arr[c, : len(chain[name])] = chain[name]
            dims = ("chain", "draw", *(f"{name}_dim_{i}" for i in range(arr.ndim - 2)))
            data_vars[name] = (dims, arr)
        coords = {"chain": np.arange(n_chains), "draw": np.arange(n_draws)}
        return xr.Dataset(data_vars, coords=coords)

    return xr.DataTree.from_dict({g: group([c[g] for c in chains]) for g in _GROUPS})


def _n_processes(processes: int | None, chains: int) -> int:
    if processes is None and os.environ.get("BAYESCALE_PROCESSES"):
        try:
            processes = int(os.environ["BAYESCALE_PROCESSES"])
        except ValueError:
            raise ValueError(
                f"BAYESCALE_PROCESSES must be a positive integer, "
                f"got {os.environ['BAYESCALE_PROCESSES']!r}"
            ) from None
    if processes is not None:
        if processes < 1:
            raise ValueError(f"processes must be a positive integer, got {processes}")
        return min(int(processes), chains)
    if not sys.platform.startswith("linux"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count() or 1
    return max(1, min(cores, chains))


def _worker(conn: Any, run: Any, chain_ids: list[int], progress: bool) -> None:
    """Run ``chain_ids`` in a forked process; send ``("progress", chain, finished, divergences)``
    messages while sampling (if ``progress``), then ``("ok", results)`` or ``("error", text)``.
    The child never writes to the terminal or a notebook: the parent draws the one bar."""
    import pickle

    lock = threading.Lock()  # nutpie reports from its own thread

    def send(message: tuple) -> None:
        with lock:
            conn.send_bytes(pickle.dumps(message))

    def report(chain: int, finished: int, divergences: int) -> None:
        send(("progress", chain, finished, divergences))

    try:
        send(("ok", run(chain_ids, report if progress else None)))
    except BaseException as err:  # report any failure to the parent
        send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _sample_in_processes(run: Any, chains: int, n_proc: int, report: Any) -> list | None:
    """Run ``run(chain_ids, report)`` for consecutive blocks of chains in ``n_proc`` forked
    processes; returns the results of all chains, in chain order. The workers' progress
    messages are passed to ``report(chain, finished, divergences)`` here, in the parent.

    Returns None (so the caller samples in-process) if processes cannot be forked here.
    """
    import multiprocessing as mp
    import pickle
    import warnings
    from multiprocessing.connection import wait

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return None
    split = [chains // n_proc + (1 if k < chains % n_proc else 0) for k in range(n_proc)]
    bounds = np.cumsum([0, *split])
    workers = []
    try:
        for k in range(n_proc):
            chain_ids = list(range(bounds[k], bounds[k + 1]))
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(send, run, chain_ids, report is not None))
            with warnings.catch_warnings():
                # the parent may hold idle BLAS threads; the child only runs the sampler
                warnings.filterwarnings(
                    "ignore", message=".*use of fork\\(\\) may lead", category=DeprecationWarning
                )
                proc.start()
            send.close()
            workers.append((proc, recv))
    except OSError as err:  # pragma: no cover - e.g. process limits
        for proc, _ in workers:
            proc.kill()
        warnings.warn(
            f"could not start sampler processes ({err}); sampling in-process",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    results: dict[int, list] = {}
    pending = {recv: (k, proc) for k, (proc, recv) in enumerate(workers)}
    failure = None
    while pending and failure is None:
        for recv in wait(list(pending)):
            k, proc = pending[recv]
            try:
                message = pickle.loads(recv.recv_bytes())
            except EOFError:
                message = ("error", f"sampler process exited with code {proc.exitcode}")
            if message[0] == "progress":
                if report is not None:
                    report(*message[1:])
                continue
            del pending[recv]
            proc.join()
            if message[0] != "ok":
                failure = message[1]
                break
            results[k] = message[1]
    if failure is not None:
        for other, _ in workers:
            other.kill()
        raise RuntimeError(f"sampling failed in a worker process: {failure}")
    return [chain for k in range(n_proc) for chain in results[k]]


def sample_model(
    model: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool = False,
    sampler: str = "nutpie",
    **kwargs: Any,
) -> Any:
    """Sample a self-contained PyMC model (no law, no data containers) the way ``bs.fit`` does.

    ``sampler="nutpie"``: compiled once (cached by fingerprint) and sampled in this process
    with each chain seeded from ``(seed, chain)``, so the draws depend on the seed alone —
    unlike ``pm.sample(nuts_sampler="nutpie")``, whose draws change with the process.
    ``"pymc"``: :func:`sample_pymc` (``kwargs`` such as ``target_accept`` go to it). Returns
    the trace (a DataTree with ``posterior`` and
    ``sample_stats``); the posterior holds the free variables only.
    """
    if sampler == "nutpie":
        compiled = compile_model(model)
        trace, _ = sample_nutpie(
            compiled,
            {},
            compiled.x0,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            progressbar=progressbar,
            processes=1,
        )
        return trace
    if sampler == "pymc":
        return sample_pymc(
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            progressbar=progressbar,
            **kwargs,
        )[0]
    raise ValueError(f"sampler must be 'nutpie' or 'pymc', got {sampler!r}")


def sample_pymc(
    model: Any, *, draws: int, tune: int, chains: int, seed: int, progressbar: bool, **kwargs: Any
) -> tuple[Any, dict[str, float]]:
    """PyMC's own NUTS (``sampler="pymc"``), for cross-checks and models nutpie cannot run."""
    import pymc as pm

    t1 = time.perf_counter()
    with model:
        trace = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            progressbar=progressbar,
            nuts_sampler="pymc",
            compute_convergence_checks=False,
            **kwargs,
        )
    return trace, {
        "init": 0.0,
        "sampling": time.perf_counter() - t1,
        "tune": np.nan,
        "draws": np.nan,
    }
