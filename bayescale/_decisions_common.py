"""What the decision functions share: posterior draws as flat arrays and back to a Dataset over
``(chain, draw, ...)``, and the vectorised kernels along the compute-optimal frontier
(bisection, the frontier loss, its inversion with a status code per draw).

Private to :mod:`bayescale.decisions`, its sibling modules and :mod:`bayescale.misallocation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._api import check_number
from .analysis import FLOPS_PER_PARAM_TOKEN, _natural_draws, _optimum
from .fit import Fit
from .law import ScalingLaw

_SAMPLE_DIMS = ("chain", "draw")
_STATUS = ("reached", "unreachable", "beyond_max_compute", "below_min_compute")


# ---------------------------------------------------------------------- draws and shapes


def _flat_draws(fit: Fit, what: str) -> tuple[dict[str, np.ndarray], tuple[int, int], dict]:
    """Natural parameters as flat ``(S,)`` arrays, the (chain, draw) shape and coordinates."""
    if not fit.law.natural_names:
        raise ValueError(f"law {fit.law.name!r} has no natural parameters")
    draws, _, coords = _natural_draws(fit, keep_extra_dims=True)
    out: dict[str, np.ndarray] = {}
    for name, values in draws.items():
        if values.ndim != 2:
            raise ValueError(
                f"{what} needs scalar parameters; {name!r} of law {fit.law.name!r} has "
                f"{values.ndim - 2} dimension(s) besides (chain, draw)"
            )
        out[name] = values.astype(float).reshape(-1)
    shape = next(iter(draws.values())).shape
    return out, shape, coords


def _expand(q: Mapping[str, np.ndarray], ndim: int) -> dict[str, np.ndarray]:
    """Give flat draws ``ndim`` trailing singleton axes so they broadcast against a grid."""
    return {k: v.reshape(-1, *([1] * ndim)) for k, v in q.items()}


def _require_nd(law: ScalingLaw, what: str, allow: Sequence[str] = ()) -> None:
    inputs = set(law.inputs)
    if not {"N", "D"} <= inputs or inputs - {"N", "D", *allow}:
        raise ValueError(
            f"{what} needs a law of model size N and training tokens D only"
            + (f" (or also {list(allow)})" if allow else "")
            + f"; law {law.name!r} has inputs {list(law.inputs)}"
        )


def _dataset(
    variables: Mapping[str, np.ndarray],
    sample_shape: tuple[int, int],
    coords: Mapping[str, np.ndarray],
    grid: Sequence[tuple[str, np.ndarray]] = (),
) -> xr.Dataset:
    """Flat ``(S, *grid)`` arrays to a Dataset over ``(chain, draw, *grid dims)``."""
    dims = (*_SAMPLE_DIMS, *(name for name, _ in grid))
    full = (*sample_shape, *(len(values) for _, values in grid))
    data = {
        k: (dims, np.broadcast_to(np.asarray(v), (full[0] * full[1], *full[2:])).reshape(full))
        for k, v in variables.items()
    }
    return xr.Dataset(data, coords={**coords, **dict(grid)})


# ---------------------------------------------------------------------- numerical kernels
def _bisect(
    h: Callable[[np.ndarray], np.ndarray],
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    tol: float = 1e-13,
    max_iter: int = 200,
) -> np.ndarray:
    """Root of an increasing ``h`` in ``[lo, hi]``, elementwise (vectorised bisection)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    lo, hi = lo.copy(), hi.copy()
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        above = h(mid) > 0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        if not np.any(hi - lo > tol * np.maximum(1.0, np.abs(mid))):
            break
    return 0.5 * (lo + hi)


def _frontier_loss(law: ScalingLaw, q: Mapping[str, np.ndarray], log_c: np.ndarray) -> tuple:
    """Loss, N* and D* along the compute-optimal frontier at ``log C``."""
    n, d = _optimum(law, q, np.exp(log_c), FLOPS_PER_PARAM_TOKEN, {})
    return law.evaluate(q, N=n, D=d), n, d


def _floor(q: Mapping[str, np.ndarray]) -> np.ndarray | float:
    """The loss no budget can beat: ``E`` when the law has an irreducible term, else 0."""
    return q["E"] if "E" in q else 0.0


def _compute_bounds(min_compute: Any, max_compute: Any) -> tuple[float, float]:
    """``min_compute`` and ``max_compute`` checked: numbers with 0 < min_compute < max_compute."""
    lo = check_number(min_compute, "min_compute", example="1e10 FLOPs")
    hi = check_number(max_compute, "max_compute", example="1e60 FLOPs")
    if not lo < hi:
        raise ValueError(f"min_compute={min_compute!r} must be below max_compute={max_compute!r}")
    return lo, hi


def _invert_frontier(
    law: ScalingLaw,
    q: Mapping[str, np.ndarray],
    target: np.ndarray,
    min_compute: float,
    max_compute: float,
) -> tuple[np.ndarray, np.ndarray]:
    """log C at which the frontier loss equals ``target`` (elementwise) and a status code.

    Status codes index :data:`_STATUS`; the log C of any draw that is not ``reached`` is NaN.
    """
    target = np.asarray(target, dtype=float)
    min_compute, max_compute = _compute_bounds(min_compute, max_compute)
    lo_c, hi_c = np.log(min_compute), np.log(max_compute)
    shape = np.broadcast_shapes(target.shape, *(np.shape(v) for v in q.values()))
    target = np.broadcast_to(target, shape)
    floor = np.broadcast_to(_floor(q), shape)
    loss_lo = np.broadcast_to(_frontier_loss(law, q, np.full(shape, lo_c))[0], shape)
    loss_hi = np.broadcast_to(_frontier_loss(law, q, np.full(shape, hi_c))[0], shape)
    status = np.zeros(shape, dtype=np.int8)
    status[loss_hi > target] = 2
    status[loss_lo <= target] = 3
    status[target <= floor] = 1
    ok = status == 0

    def h(log_c: np.ndarray) -> np.ndarray:
        return target - _frontier_loss(law, q, log_c)[0]

    log_c = _bisect(h, np.full(shape, lo_c), np.full(shape, hi_c))
    return np.where(ok, log_c, np.nan), status
