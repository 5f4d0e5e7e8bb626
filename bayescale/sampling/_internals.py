"""Every reliance of bayescale on a dependency's private layout, in one place.

Each function here uses something its library does not promise to keep; ``tests/
test_sampling_internals.py`` checks each of them against the installed versions, so a changed
dependency fails there, loudly, naming what moved — not in the middle of a fit.

* PyTensor: a compiled function's numba-jitted callable (``function.vm.jit_fn``), the graph's
  own dispatcher it calls (its ``py_func``'s global ``jitable_func``), and its graph's
  inputs (``function.maker.fgraph.inputs``, the first being the flat parameter vector); the
  numba linker and the ``numba__fastmath`` flag; compiling an already rewritten graph with
  ``Mode(linker=NumbaLinker(), optimizer=None)``.
* nutpie: ``nutpie.compiled_pyfunc.from_pyfunc`` with ``make_initial_point_fn``;
  ``nutpie.compile_pymc.CompiledPyMCModel`` built from our own C callbacks and address table
  (:func:`native_model`); the layout of
  a raw trace (``return_raw_trace=True``: ``get_arrow_trace()`` → one Arrow record batch of draws
  and one of statistics per chain — arro3 objects, read through ``pyarrow.array`` — the
  statistics holding a boolean ``tuning`` column); the
  progress callback's ``finished_draws``/``divergences``; ``nutpie.sample``'s module-level
  ``import arviz`` (deferred by :func:`import_nutpie`).
* xarray: the cache of duck-array modules (``xarray.namedarray.pycompat
  ._cached_duck_array_modules``), through which building any ``Dataset`` imports Dask (≈ 0.4 s)
  when Dask is installed (:func:`lazy_dask_in_xarray`).
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
import threading
import types
from typing import Any

import numpy as np

# ------------------------------------------------------------------------------------ PyTensor


def numba_mode() -> Any:
    """The PyTensor compilation mode of bayescale's compiled models."""
    return "NUMBA"


def exact_float_flags() -> Any:
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


def function_graph(function: Any) -> Any:
    """The rewritten ``FunctionGraph`` of a compiled PyTensor function."""
    return function.maker.fgraph


def data_inputs(function: Any) -> list[Any]:
    """The inputs of a compiled model function after the flat parameter vector: its data
    containers (shared variables), in the order the jitted callable takes them."""
    return list(function.maker.fgraph.inputs[1:])


def jitted(function: Any) -> Any:
    """The numba-jitted callable behind a PyTensor function compiled in numba mode; it takes
    the parameter vector and then every data input (:func:`data_inputs`) as arrays."""
    return function.vm.jit_fn


def inner_jitted(function: Any) -> Any:
    """The numba dispatcher of a numba-mode function's graph itself, without the Python-callable
    wrapper PyTensor puts around it (``vm.jit_fn``, whose ``py_func`` calls the graph's
    dispatcher through its global ``jitable_func`` when PyTensor caches the graph), or the
    wrapper when there is none. Only numba code calls it (the generated C callbacks of
    :mod:`bayescale.sampling.native`): the wrapper and its on-disk copy are then not compiled."""
    from numba.core.registry import CPUDispatcher

    outer = function.vm.jit_fn
    inner = getattr(getattr(outer, "py_func", None), "__globals__", {}).get("jitable_func")
    return inner if isinstance(inner, CPUDispatcher) else outer


def compile_rewritten(fgraph: Any) -> Any:
    """Compile an already rewritten graph (no rewrites) to a numba-mode PyTensor function."""
    import pytensor
    from pytensor.compile.mode import Mode
    from pytensor.link.numba.linker import NumbaLinker

    with exact_float_flags():
        return pytensor.function(
            fgraph.inputs[:1],
            fgraph.outputs,
            mode=Mode(linker=NumbaLinker(), optimizer=None),
            accept_inplace=True,
        )


# -------------------------------------------------------------------------------------- nutpie


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


def import_nutpie() -> Any:
    """Import nutpie without importing ArviZ (≈ 1 s) when ArviZ is not loaded yet.

    ``nutpie.sample`` imports ArviZ at module level but uses it only to convert a finished trace,
    which bayescale does itself (:func:`bayescale.sampling.trace_to_datatree`). While nutpie is
    imported, ``arviz`` resolves to a stand-in that imports the real package on first attribute
    access, so nutpie's own conversion keeps working; ``sys.modules`` is restored right after,
    so a later ``import arviz`` anywhere else is an ordinary import.
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


def pyfunc_model(
    ndim: int, make_logp: Any, make_expand: Any, names: list[str], shapes: list, initial: Any
) -> Any:
    """A nutpie model from Python callbacks (``from_pyfunc``); ``initial(seed)`` gives a chain's
    starting point (float64 variables ``names`` of ``shapes`` in every draw)."""
    import_nutpie()
    from nutpie.compiled_pyfunc import from_pyfunc

    return from_pyfunc(
        ndim,
        make_logp,
        make_expand,
        [np.dtype("float64")] * len(names),
        shapes,
        names,
        make_initial_point_fn=initial,
    )


def native_model(native: Any, names: list[str], shapes: list[tuple[int, ...]], initial: Any) -> Any:
    """A nutpie model whose log density and draws are C callbacks (numba ``cfunc``s, see
    :mod:`bayescale.sampling.native`): nutpie's ``CompiledPyMCModel`` built from our callbacks
    and address table instead of ``compile_pymc_model``'s (its fields, ``shape_info`` as
    ``(names, slices, shapes)`` and ``initial_point_func(seed)``)."""
    import_nutpie()
    from nutpie.compile_pymc import CompiledPyMCModel

    sizes = [int(np.prod(s)) for s in shapes]
    ends = np.cumsum([0, *sizes])
    slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(ends)]
    return CompiledPyMCModel(
        dims={},
        _coords={},
        _n_dim=native.n_dim,
        _shapes={n: tuple(s) for n, s in zip(names, shapes, strict=True)},
        compiled_logp_func=native.logp,
        compiled_expand_func=native.expand,
        initial_point_func=initial,
        shared_data={},
        shared_var_keys={},
        user_data=native.user_data,
        n_expanded=native.n_expanded,
        shape_info=(list(names), slices, [tuple(s) for s in shapes]),
        logp_func=None,
        expand_func=None,
    )


def progress_state(progress: list[Any]) -> tuple[int, int]:
    """``(finished draws, divergences)`` of the first chain in a nutpie progress callback."""
    state = progress[0]
    return int(state.finished_draws), int(state.divergences)


def raw_trace_batches(raw: Any) -> tuple[list[Any], list[Any]]:
    """nutpie's raw trace as ``(draw batches, statistics batches)``, one Arrow record batch of
    each per chain."""
    draws, stats = raw.get_arrow_trace()
    return list(draws), list(stats)


TUNING_COLUMN = "tuning"  # boolean statistics column: True during warm-up
INDEX_COLUMNS = ("chain", "draw")  # statistics columns that are indices, not statistics


def chain_arrays(
    draw_batch: Any, stat_batch: Any, names: list[str], shapes: list[tuple[int, ...]]
) -> dict[str, dict[str, np.ndarray]]:
    """One chain of nutpie's raw trace (its draws and statistics record batches) as numpy arrays
    over the chain's draws, by group (``posterior``, ``sample_stats``, ``warmup_posterior``,
    ``warmup_sample_stats``) and variable. Statistics keep the per-draw scalars (numbers and
    booleans); missing integer / boolean values become 0 / False, as in nutpie."""
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
                    col = col.fill_null(False if pa.types.is_boolean(col.type) else 0)
                out[name] = col.to_numpy(zero_copy_only=False)
        return out

    def is_draw(name: str, _: Any) -> bool:
        return name in shape_of

    def is_stat(name: str, kind: Any) -> bool:
        return name not in INDEX_COLUMNS and (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
        )

    tuning = np.asarray(pa.array(stat_batch.column(TUNING_COLUMN)), dtype=bool)
    draws, stats = columns(draw_batch, is_draw), columns(stat_batch, is_stat)

    def part(rows: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[mask[: len(v)]] for k, v in rows.items()}

    return {
        "posterior": part(draws, ~tuning),
        "sample_stats": part(stats, ~tuning),
        "warmup_posterior": part(draws, tuning),
        "warmup_sample_stats": part(stats, tuning),
    }


def pymc_compiled_data_names(compiled: Any) -> set[str]:
    """Names of the data containers a ``nutpie.compile_pymc_model`` result can swap
    (``with_data``): the names of the keys of its ``shared_var_keys``."""
    return {var.name for var in compiled.shared_var_keys}


def pymc_compiled_layout(compiled: Any) -> tuple[list[str], list[tuple[int, ...]]]:
    """The stored variables of a ``nutpie.compile_pymc_model`` result, ``(names, shapes)``, as
    they appear in its raw trace (``shape_info``: names, slices, shapes)."""
    names, _, shapes = compiled.shape_info[:3]
    return list(names), [tuple(int(n) for n in s) for s in shapes]


def check_nutpie_settings(
    options: dict[str, Any], *, kind: str = "LowRank"
) -> tuple[str, str] | None:
    """``None`` if nutpie's NUTS settings (``_lib.PyNutsSettings.<kind>``, as ``nutpie.sample``
    makes them for an adaptation: ``LowRank``, ``Diag``, ``Flow``) take every one of ``options``
    (keyword options of ``nutpie.sample`` that become settings, e.g. ``target_accept``,
    ``maxdepth``), else ``(name, reason)`` of the first they refuse: reason ``"unknown"`` for a
    name that is no setting, else the refusal's message. ``None`` too when this nutpie has no
    such settings object (nutpie then names the adaptation itself)."""
    import_nutpie()
    from nutpie import _lib

    made = getattr(_lib.PyNutsSettings, kind, None)
    if made is None:
        return None
    settings = made(0)
    for name, value in options.items():
        try:
            settings.update({name: value})
        except AttributeError as err:
            if "Unknown settings attribute" in str(err):
                return name, "unknown"
            return name, str(err)
        except (TypeError, ValueError, OverflowError) as err:
            return name, str(err)
    return None


def nutpie_setting_names() -> list[str]:
    """Names of nutpie's NUTS settings, at every level (for suggesting a misspelt one)."""
    import_nutpie()
    from nutpie import _lib

    names: list[str] = []

    def walk(tree: Any) -> None:
        for key, value in tree.items():
            names.append(key)
            if isinstance(value, dict):
                walk(value)

    walk(_lib.PyNutsSettings.LowRank(0).as_dict().get("settings", {}))
    return names


# -------------------------------------------------------------------------------------- xarray


class _LazyDask:
    """xarray's record of the ``dask`` duck-array module, without importing Dask to make it.

    xarray asks for Dask's array type whenever it wraps an array (``array_type("dask")``) and
    imports Dask (≈ 0.4 s) the first time to answer. No Dask array can exist before
    ``dask.array`` is imported, so until then the answer is "no type"; afterwards, and for any
    other attribute (version, module, availability), the real record answers.
    """

    def __init__(self) -> None:
        self._real: Any = None

    def _resolve(self) -> Any:
        if self._real is None:
            from xarray.namedarray.pycompat import DuckArrayModule

            self._real = DuckArrayModule("dask")
        return self._real

    @property
    def type(self) -> tuple:
        if "dask.array" not in sys.modules:
            return ()
        return self._resolve().type

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._resolve(), attr)


def _without_dask_import(original: Any) -> Any:
    """xarray's ``is_dask_collection`` answering False, as Dask does, for an object without a
    ``__dask_graph__`` attribute — without importing ``dask.base`` to say so."""

    def is_dask_collection(x: object) -> bool:
        if not hasattr(x, "__dask_graph__"):
            return False
        return original(x)

    is_dask_collection.__wrapped__ = original  # type: ignore[attr-defined]
    return is_dask_collection


_XARRAY_LOCK = threading.Lock()


def lazy_dask_in_xarray() -> None:
    """Let xarray wrap numpy arrays without importing Dask (≈ 0.4 s in every fresh process).

    Two answers xarray gets by importing Dask are given without it, each the same answer Dask
    would give: the Dask array type (none while ``dask.array`` is not imported, see
    :class:`_LazyDask`) and whether an object is a Dask collection (not without a
    ``__dask_graph__`` attribute). Called before bayescale builds a ``DataTree``; idempotent.
    """
    from xarray.namedarray import pycompat
    from xarray.namedarray import utils as xr_utils

    with _XARRAY_LOCK:
        if "dask" not in pycompat._cached_duck_array_modules and "dask.array" not in sys.modules:
            pycompat._cached_duck_array_modules["dask"] = _LazyDask()
        current = xr_utils.is_dask_collection
        if getattr(current, "__wrapped__", None) is None:
            xr_utils.is_dask_collection = _without_dask_import(current)
