"""Model fingerprints: a SHA-256 of what a PyMC model compiles to, stable across processes.

Everything that decides the compiled function is described exactly — operations with their
parameters and inner graphs, Python functions by code, constants by value, types — and anything
that cannot be described is an error (:func:`_describe`), never its ``repr``.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["model_fingerprint", "structure_key"]

_GRAPH_FORMAT = 2
# libraries whose versions the fingerprint holds: their functions' globals are not followed
# (module-level machinery such as PyTensor's config or rewrite databases cannot be described)
_VERSIONED = frozenset({"numpy", "pytensor", "pymc", "numba"})
_PLAIN = (bool, int, float, complex, str, bytes)  # described as themselves (exact types only)
# the modules whose source decides a compiled function or a stored graph
_SOURCES = (
    "compile.py",
    "store.py",
    "fingerprint.py",
    "_internals.py",
    "native.py",
    "native_support.py",
    "native_callbacks.py",
)
_SOURCE_DIGEST: list[Any] = []  # [digest of _SOURCES, library versions]


def _density_graphs(model: Any) -> tuple[Any, list[Any]]:
    """The model's log density (with the Jacobian of the transforms) and the constrained values
    of its free variables, as graphs of the value variables."""
    return model.logp(jacobian=True), model.replace_rvs_by_values(model.free_RVs)


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
    return fingerprint_graphs(model, logp, constrained, extra)


def fingerprint_graphs(
    model: Any, logp: Any, constrained: list[Any], extra: str | None = None
) -> str:
    """:func:`model_fingerprint` of the graphs ``_density_graphs(model)`` already made."""
    import hashlib

    import pytensor

    if not _SOURCE_DIGEST:  # once per process: the sources and the libraries' versions
        import numba
        import pymc

        from .. import __version__

        source = hashlib.sha256()
        for name in _SOURCES:
            source.update((Path(__file__).parent / name).read_bytes())
        versions = (np.__version__, pytensor.__version__, pymc.__version__, numba.__version__)
        _SOURCE_DIGEST[:] = [source.hexdigest(), (*versions, __version__)]
    digest = hashlib.sha256()

    def put(*parts: Any) -> None:
        _feed(digest, parts)

    put(
        _GRAPH_FORMAT,
        _SOURCE_DIGEST[0],
        sys.version_info[:3],
        *_SOURCE_DIGEST[1],
        pytensor.config.floatX,
        pytensor.config.optimizer_excluding,
        pytensor.config.optimizer_including,
        pytensor.config.optimizer_requiring,
        extra,
    )
    inner: dict[Any, Any] = {}
    put("graph", _graph_digest([logp, *constrained, *model.free_RVs], inner))
    put("free", [rv.name for rv in model.free_RVs], [v.name for v in model.value_vars])
    put("values", [(v.name, str(v.type)) for v in model.value_vars])
    initial = model.rvs_to_initial_values
    put("initial values", [(rv.name, _describe(initial.get(rv), inner)) for rv in model.free_RVs])
    put("check_bounds", getattr(model, "check_bounds", None))
    return digest.hexdigest()


def structure_key(model: Any) -> str | None:
    """A digest of what a model's log density and constrained values are derived from — its
    random variables' graphs (free and observed, with the observations' graphs), potentials,
    transforms, value variables, initial values and bound checks — without deriving them.

    For this process only (the derivation is PyMC's code, fixed within a process): it lets
    :func:`~bayescale.sampling.compile_model` find a model it has compiled before without
    building its log-density graph again. None if something cannot be described.
    """
    import hashlib

    digest = hashlib.sha256()
    inner: dict[Any, Any] = {}
    try:
        rvs = [*model.free_RVs, *model.observed_RVs]
        observed = [model.rvs_to_values[rv] for rv in model.observed_RVs]
        outputs = [*rvs, *observed, *model.potentials]
        _feed(digest, ("graph", _graph_digest(outputs, inner)))
        _feed(digest, ("rvs", [rv.name for rv in rvs], [rv.name for rv in model.free_RVs]))
        _feed(digest, ("values", [(v.name, str(v.type)) for v in model.value_vars]))
        transforms = model.rvs_to_transforms
        _feed(digest, ("transforms", [_transform(transforms.get(rv), inner) for rv in rvs]))
        initial = model.rvs_to_initial_values
        _feed(digest, ("initial", [_describe(initial.get(rv), inner) for rv in model.free_RVs]))
        _feed(digest, ("check_bounds", getattr(model, "check_bounds", None)))
        _feed(digest, ("densities", _densities(outputs, inner)))
    except Exception:  # something that cannot be described: no shortcut
        return None
    return digest.hexdigest()


def _densities(outputs: list[Any], inner: dict[Any, Any]) -> list[Any]:
    """The functions PyMC registered for the log density (and CDFs) of every operation type in
    the graph, inner graphs included — e.g. a ``CustomDist``'s own ``logp``, which the graph
    itself does not show."""
    from pymc.logprob.abstract import _icdf, _logccdf, _logcdf, _logprob
    from pytensor.graph.traversal import toposort

    kinds: dict[type, None] = {}
    pending = [list(outputs)]
    while pending:
        for node in toposort(pending.pop()):
            kinds.setdefault(type(node.op))
            graph = getattr(node.op, "fgraph", None)
            if graph is not None:
                pending.append(list(graph.outputs))
    return [
        (kind.__module__, kind.__qualname__, [_describe(t.dispatch(kind), inner) for t in tables])
        for kind in kinds
        for tables in [(_logprob, _logcdf, _logccdf, _icdf)]
    ]


def _transform(transform: Any, inner: dict[Any, Any]) -> Any:
    """A transform by class and attributes (e.g. an interval's bounds function and closure)."""
    if transform is None:
        return None
    attributes = {k: _describe(v, inner) for k, v in sorted(vars(transform).items())}
    return ("transform", type(transform).__module__, type(transform).__qualname__, attributes)


def _feed(digest: Any, parts: Any) -> None:
    """Add ``parts`` (descriptions: plain values, never an object's own ``repr``) to a hash as
    text, with a separator."""
    digest.update(repr(parts).encode())
    digest.update(b"\x00")


def _graph_digest(outputs: list[Any], inner: dict[Any, Any]) -> str:
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


def _names_read(code: types.CodeType) -> list[str]:
    """The names a code object and the code nested in it use (globals among them), in order."""
    names = dict.fromkeys(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(dict.fromkeys(_names_read(const)))
    return list(names)


def _globals_read(function: Any, code: types.CodeType, inner: dict[Any, Any]) -> list[Any]:
    """The module globals a function may read, each by name and description (a module by its
    name): a function reads their values when it runs, so a changed value is another function.
    Not followed for the functions of Python and of the libraries in ``_VERSIONED``."""
    module = getattr(function, "__module__", None) or ""
    if (
        module.partition(".")[0] in _VERSIONED
        or module.partition(".")[0] in sys.stdlib_module_names
    ):
        return []  # a library's function: its version (in the fingerprint) fixes what it reads
    namespace = getattr(function, "__globals__", None) or {}
    return [
        (name, _describe(namespace[name], inner)) for name in _names_read(code) if name in namespace
    ]


def _describe(obj: Any, inner: dict[Any, Any]) -> Any:
    """A process-independent description of an operation, a constant or an operation parameter.

    Operations are described by class, parameters and inner graph (memoised in ``inner``; an
    operation without declared parameters by its public attributes); other objects with declared
    parameters (PyTensor types) by class and parameters; arrays by dtype, shape and a hash of
    their bytes; functions by module, name, code (instructions, the names they use, constants and
    nested code), defaults, closure and the module globals they read (:func:`_globals_read`,
    memoised in ``inner``); symbolic variables by their graph; classes, modules and NumPy
    functions by name; ``bool``/``int``/``float``/``complex``/``str``/``bytes`` as themselves,
    a subclass of one by class, plain value and attributes; containers element by element.
    Anything else raises ``TypeError``:
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
    if type(obj) in _PLAIN:  # exact types only: a subclass may redefine its repr
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
            inner[key] = hashlib.sha256(repr(described).encode()).hexdigest()
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
    if isinstance(obj, _PLAIN):  # a subclass of str, int, float, ...: its value, class, state
        base = next(kind for kind in _PLAIN if isinstance(obj, kind))
        value = base.__getnewargs__(obj)  # the base type's own method: the plain value(s)
        state = _describe(vars(obj), inner) if hasattr(obj, "__dict__") else None
        return ("instance", _describe(type(obj), inner), value, state)
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
        key = ("function", id(obj))  # memoised: functions that read each other, or themselves
        if key not in inner:
            inner[key] = (
                "function",
                getattr(obj, "__module__", None),
                getattr(obj, "__qualname__", None),
            )
            cells = []
            for cell in getattr(obj, "__closure__", None) or ():
                try:
                    cells.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    cells.append(None)
            inner[key] = (
                "function",
                getattr(obj, "__module__", None),
                getattr(obj, "__qualname__", None),
                _describe(code, inner),
                _describe(getattr(obj, "__defaults__", None), inner),
                _describe(getattr(obj, "__kwdefaults__", None), inner),
                each(cells),
                _globals_read(obj, code, inner),
            )
        return inner[key]
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
