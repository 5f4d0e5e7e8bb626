"""The model-independent C callbacks nutpie calls (see :mod:`bayescale.sampling.native`).

``logp`` and ``expand`` read everything about the model from the address table they are given —
its sizes, the mode, the whitening matrix ``L``, the table of constrained values by position and
the address of the model's own ``joint_c`` callback, which they call through that address — so
numba compiles them once (cached on disk) for every model. Table words (int64): 0 mode, 1 L,
2 slot keys (K × N), 3 slot values (K × M), 4 ``joint_c``, 5 N, 6 M, 7 K (a power of 2), then
the data arguments (read by ``joint_c`` only).

A chain's callbacks run in its sampler thread, one call at a time (nutpie evaluates, then stores
the draw); the slot table belongs to one fit.
"""

from __future__ import annotations

import numba
import numpy as np

from .native_support import HEADER, as_pointer, call_joint

__all__ = ["HEADER", "expand", "logp"]


@numba.njit(inline="always", cache=True)
def _slot(z, n, k):
    bits = z.view(np.int64)
    h = 0
    for j in range(n):
        h = (h ^ bits[j]) * 1099511628211
        h = h ^ (h >> 29)
    return h & (k - 1)


@numba.njit(inline="always", cache=True)
def _position(z, w, n):
    x_mode = numba.carray(as_pointer(w[0]), (n,), np.float64)
    L = numba.carray(as_pointer(w[1]), (n, n), np.float64)
    x = np.empty(n)
    for i in range(n):
        s = x_mode[i]
        for j in range(n):
            s += L[i, j] * z[j]
        x[i] = s
    return x


@numba.cfunc(
    "int64(uint64, CPointer(float64), CPointer(float64), CPointer(float64), voidptr)",
    cache=True,
    fastmath=False,
    error_model="numpy",
)
def logp(dim, z_, grad_, logp_, user_):
    w = numba.carray(user_, (HEADER,), np.int64)
    n, m, k = w[5], w[6], w[7]
    if dim != n:
        return -1
    z = numba.carray(z_, (n,))
    grad = numba.carray(grad_, (n,))
    out_logp = numba.carray(logp_, (1,))
    x = _position(z, w, n)
    res = np.empty(1 + n + m)
    if call_joint(w[4], x, res, user_) != 0:  # a parameter check failed: no density here
        out_logp[0] = -np.inf
        for j in range(n):
            grad[j] = 0.0
        return 0
    out_logp[0] = res[0]
    L = numba.carray(as_pointer(w[1]), (n, n), np.float64)
    for j in range(n):
        s = 0.0
        for i in range(n):
            s += L[i, j] * res[1 + i]
        grad[j] = s
    # keep the constrained values by position: the draw nutpie stores is a point evaluated here
    keys = numba.carray(as_pointer(w[2]), (k, n), np.float64)
    vals = numba.carray(as_pointer(w[3]), (k, m), np.float64)
    slot = _slot(z, n, k)
    for j in range(n):
        keys[slot, j] = z[j]
    for c in range(m):
        vals[slot, c] = res[1 + n + c]
    return 0


@numba.cfunc(
    "int64(uint64, uint64, CPointer(float64), CPointer(float64), voidptr)",
    cache=True,
    fastmath=False,
    error_model="numpy",
)
def expand(dim, expanded, z_, out_, user_):
    w = numba.carray(user_, (HEADER,), np.int64)
    n, m, k = w[5], w[6], w[7]
    if dim != n or expanded != m:
        return -1
    z = numba.carray(z_, (n,))
    values = numba.carray(out_, (m,))
    keys = numba.carray(as_pointer(w[2]), (k, n), np.float64)
    vals = numba.carray(as_pointer(w[3]), (k, m), np.float64)
    slot = _slot(z, n, k)
    same = True
    for j in range(n):
        if keys[slot, j] != z[j]:
            same = False
            break
    if same:
        for c in range(m):
            values[c] = vals[slot, c]
        return 0
    x = _position(z, w, n)
    res = np.empty(1 + n + m)
    if call_joint(w[4], x, res, user_) != 0:
        return -2
    for c in range(m):
        values[c] = res[1 + n + c]
    return 0
