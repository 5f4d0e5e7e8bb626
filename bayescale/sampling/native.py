"""The log density as a native callback for nutpie: no Python between two gradient evaluations.

The default path (:func:`bayescale.sampling.sample_nutpie`) hands nutpie a Python function per
chain, which maps the whitened position ``z`` to ``x = x_mode + L z``, calls the compiled log
density (:class:`~bayescale.sampling.CompiledModel`) and returns ``Lᵀ ∇`` — ≈ 20 µs of Python,
numpy and nutpie's GIL round trip around each ≈ 20 µs evaluation of a 240-run Chinchilla fit.
Here the same three steps are one numba C callback (``numba.cfunc``) that nutpie calls
directly: it calls the compiled log density's machine code, and reads the data, ``x_mode`` and
``L`` through pointers held in a small integer array (``user_data``), so one callback serves
every fit of a model structure and a new fit only fills in new pointers.

The callback computes exactly what the Python path computes — the same compiled function on the
same arguments, ``L z`` and ``Lᵀ ∇`` by BLAS's ``dgemv`` (which numpy and numba both call for a
matrix-vector product), a failed parameter check as log density −∞ with a zero gradient — so
the draws and sampler statistics are the same bits as the Python path's
(``tests/test_native_density.py`` holds them equal, ``tests/test_batch.py`` a batch's draws to
``bs.fit``'s). Draws are stored from a ring of the last :data:`RING` evaluated positions (their
constrained values), as the Python path's store; a position not found is evaluated again.
Building the callbacks costs ≈ 4 s of numba compilation per process and model structure, so
:func:`bayescale.fit_many` uses them for big batches only.

What the callback relies on in nutpie (its ``PyMcModel``/``LogpFunc``/``ExpandFunc`` and the
C signatures of their functions) is in :mod:`bayescale.sampling._internals`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import _internals
from .compile import CompiledModel

__all__ = ["RING", "NativeDensity", "native_density"]

RING = 256  # evaluated positions kept for storing draws (a tree of depth ≤ 8 fits whole)

_HEADER = 6  # x_mode, L, Lᵀ, ring positions, ring values, ring state
_LOCK = threading.Lock()


class NativeDensity:
    """One model structure's native callbacks (compiled once), and the pointer table of one
    chain's data (:meth:`bind`)."""

    def __init__(self, compiled: CompiledModel, layout: tuple[tuple[int, str], ...]) -> None:
        self.compiled = compiled
        self.layout = layout  # (ndim, dtype) of every data argument, in order
        self.n = compiled.ndim
        self.n_values = int(sum(int(np.prod(s)) for s in compiled.rv_shapes))
        self.logp_cfunc, self.expand_cfunc = _build(compiled, layout, self.n, self.n_values)

    def bind(self, args: list[np.ndarray], x_mode: np.ndarray, L: np.ndarray) -> Any:
        """The pointer table (and the arrays it points into, kept alive with it) for a chain
        at ``x = x_mode + L z`` on the data ``args`` (as :meth:`CompiledModel.data_args`)."""
        n = self.n
        keep = [
            np.ascontiguousarray(x_mode, dtype=np.float64),
            np.ascontiguousarray(L, dtype=np.float64),
            np.ascontiguousarray(np.asarray(L, dtype=np.float64).T),
            np.full((RING, n), np.nan),
            np.zeros((RING, self.n_values)),
            np.zeros(2, dtype=np.int64),  # entries written, next slot
        ]
        table = [a.ctypes.data for a in keep]
        for (ndim, dtype), arg in zip(self.layout, args, strict=True):
            # np.array, not np.ascontiguousarray, which turns a 0-d value into shape (1,)
            arr = np.array(arg, dtype=dtype, order="C")
            if arr.ndim != ndim:
                raise ValueError(f"data argument of rank {arr.ndim}, compiled for rank {ndim}")
            keep.append(arr)
            table += [arr.ctypes.data, *arr.shape]
        table_arr = np.array(table, dtype=np.int64)
        keep.append(table_arr)
        return _Bound(table_arr, keep)


class _Bound:
    def __init__(self, table: np.ndarray, keep: list[np.ndarray]) -> None:
        self.table = table
        self.keep = keep

    @property
    def address(self) -> int:
        return int(self.table.ctypes.data)


_NATIVE: dict[tuple[int, tuple], NativeDensity] = {}


def native_density(compiled: CompiledModel, args: list[np.ndarray]) -> NativeDensity:
    """The native callbacks of ``compiled`` for data arguments of ``args``' ranks and dtypes,
    built once per compiled model and layout in this process (≈ 4 s of numba compilation)."""
    layout = tuple((int(np.ndim(a)), np.asarray(a).dtype.str) for a in args)
    key = (id(compiled), layout)
    with _LOCK:
        hit = _NATIVE.get(key)
        if hit is not None and hit.compiled is compiled:
            return hit
        made = NativeDensity(compiled, layout)
        _NATIVE[key] = made
        return made


def _build(
    compiled: CompiledModel, layout: tuple[tuple[int, str], ...], n: int, n_values: int
) -> tuple[Any, Any]:
    """numba C callbacks for nutpie: ``logp(dim, z, grad, logp, table)`` and
    ``expand(dim, n_values, z, values, table)``; the source is generated for the number, ranks
    and dtypes of the data arguments."""
    import numba

    sig_logp, sig_expand = _internals.native_signatures()
    names, lines = [], []
    slot = _HEADER
    for i, (ndim, dtype) in enumerate(layout):
        shape = ", ".join(f"table[{slot + 1 + k}]" for k in range(ndim))
        shape = f"({shape},)" if ndim == 1 else f"({shape})"
        lines.append(
            f"    d{i} = numba.carray(as_pointer(table[{slot}]), {shape}, np.dtype('{dtype}'))"
        )
        names.append(f"d{i}")
        slot += 1 + ndim
    data = "".join(f", {name}" for name in names)
    source = f"""
def data_of(table_):
    table = numba.carray(table_, ({slot},), np.int64)
{chr(10).join(lines) or "    pass"}
    return table{data}


def position(table, z):
    x_mode = numba.carray(as_pointer(table[0]), (N,), np.float64)
    L = numba.carray(as_pointer(table[1]), (N, N), np.float64)
    return x_mode + L @ z


def logp(dim, z_, grad_, logp_, table_):
    if dim != N:
        return -1
    z = numba.carray(z_, (N,))
    grad = numba.carray(grad_, (N,))
    out = numba.carray(logp_, (1,))
    table{data} = data_of(table_)
    x = position(table, z)
    try:
        value, g, values = joint(x{data})
    except Exception:
        out[0] = -np.inf
        grad[:] = 0.0
        return 0
    Lt = numba.carray(as_pointer(table[2]), (N, N), np.float64)
    out[0] = value
    grad[:] = Lt @ g
    ring_z = numba.carray(as_pointer(table[3]), (RING, N), np.float64)
    ring_v = numba.carray(as_pointer(table[4]), (RING, M), np.float64)
    state = numba.carray(as_pointer(table[5]), (2,), np.int64)
    k = state[1]
    ring_z[k, :] = z
    ring_v[k, :] = values
    state[1] = (k + 1) % RING
    state[0] = min(state[0] + 1, RING)
    return 0


def expand(dim, n_values, z_, values_, table_):
    if dim != N or n_values != M:
        return -1
    z = numba.carray(z_, (N,))
    out = numba.carray(values_, (M,))
    table{data} = data_of(table_)
    ring_z = numba.carray(as_pointer(table[3]), (RING, N), np.float64)
    ring_v = numba.carray(as_pointer(table[4]), (RING, M), np.float64)
    state = numba.carray(as_pointer(table[5]), (2,), np.int64)
    k = state[1]
    for _ in range(state[0]):
        k = (k - 1) % RING
        same = True
        for j in range(N):
            if ring_z[k, j] != z[j]:
                same = False
                break
        if same:
            out[:] = ring_v[k, :]
            return 0
    try:
        value, g, values = joint(position(table, z){data})
    except Exception:
        return -2
    out[:] = values
    return 0
"""
    namespace: dict[str, Any] = {
        "numba": numba,
        "np": np,
        "as_pointer": _internals.as_pointer(),
        "joint": compiled.logp_fn,
        "N": n,
        "M": n_values,
        "RING": RING,
    }
    exec(compile(source, f"<bayescale native density {n}x{len(layout)}>", "exec"), namespace)
    jit = numba.njit(inline="always")
    for helper in ("data_of", "position"):
        namespace[helper] = jit(namespace[helper])
    # no fast-math (numba's default): IEEE arithmetic, as the compiled function itself
    logp_c = numba.cfunc(sig_logp)(namespace["logp"])
    expand_c = numba.cfunc(sig_expand)(namespace["expand"])
    return logp_c, expand_c


def native_model(
    compiled: CompiledModel,
    args: list[np.ndarray],
    x_mode: np.ndarray,
    L: np.ndarray,
    initial: Any,
) -> Any:
    """A one-chain nutpie model of ``compiled`` on the data ``args`` at ``x = x_mode + L z``
    whose log density is the native callback (:class:`NativeDensity`); ``initial(seed)`` gives
    the chain's starting ``z``."""
    density = native_density(compiled, args)
    bound = density.bind(args, x_mode, L)
    return _internals.native_model(
        compiled.ndim,
        density.logp_cfunc,
        density.expand_cfunc,
        bound.address,
        bound,
        compiled.rv_names,
        compiled.rv_shapes,
        initial,
    )
