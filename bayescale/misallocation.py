"""What a misallocated training run costs: deadweight compute, and the 20-tokens rule checked.

A run of N parameters on D tokens spends C = 6ND FLOPs and reaches the law's loss L(N, D).
The compute-optimal allocation reaches that same loss with less compute, C' ≤ C (the C' at
which the frontier loss L*(C') equals L(N, D)); ``C − C'`` is the deadweight. Both are per
posterior draw, so the cost of a plan comes with its uncertainty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ._api import check_number
from ._decisions_common import (
    _bisect,
    _dataset,
    _expand,
    _flat_draws,
    _frontier_loss,
    _require_nd,
)
from .analysis import FLOPS_PER_PARAM_TOKEN, _as_1d
from .fit import Fit
from .pooling import groupable
from .stacking import stackable

__all__ = ["misallocation_cost", "rule_of_thumb_check"]

#: Smallest C'/C searched (a plan more wasteful than this is reported as NaN).
_MIN_RATIO = 1e-15


def _equivalent_compute(fit: Fit, n: np.ndarray, d: np.ndarray) -> dict[str, Any]:
    """Per draw (rows) and plan (columns): the plan's loss, C' and the frontier loss at C."""
    law = fit.law
    _require_nd(law, "misallocation_cost")
    q, shape, coords = _flat_draws(fit, "misallocation_cost")
    qb = _expand(q, 1)
    c = FLOPS_PER_PARAM_TOKEN * n * d
    loss = law.evaluate(qb, N=n[None, :], D=d[None, :])
    loss_opt = _frontier_loss(law, qb, np.broadcast_to(np.log(c), loss.shape))[0]
    # the frontier at C is at or below the plan's loss, so C' lies in (0, C]; search log C
    # between C·1e-15 and C with the vectorised bisection of compute_for_loss
    lo, hi = np.log(c * _MIN_RATIO), np.log(c)
    target = np.asarray(loss, dtype=float)
    s = target.shape

    def gap(log_c: np.ndarray) -> np.ndarray:
        return target - _frontier_loss(law, qb, log_c)[0]

    log_c = _bisect(gap, np.broadcast_to(lo, s), np.broadcast_to(hi, s))
    at_top = loss <= loss_opt  # the plan is the optimum (to rounding): no deadweight
    log_c = np.where(at_top, np.broadcast_to(hi, s), log_c)
    too_far = gap(np.broadcast_to(lo, s)) > 0  # even C·1e-15 on the frontier does better
    c_prime = np.where(too_far, np.nan, np.exp(log_c))
    return {"loss": loss, "loss_opt": loss_opt, "c": c, "c_prime": c_prime, "shape": shape,
            "coords": coords}  # fmt: skip


@stackable
@groupable
def misallocation_cost(
    fit: Fit,
    *,
    N: float,
    D: float,
    price_per_flop: float | None = None,
) -> xr.Dataset:
    """Deadweight compute of training N parameters on D tokens instead of compute-optimally.

    For every posterior draw: the plan's loss L(N, D) at C = 6ND, the compute C' at which the
    compute-optimal run reaches the same loss (L*(C') = L(N, D), solved by bisection in log C
    along the law's optimum), and the deadweight C − C' (FLOPs spent for nothing).

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D only (a stack mixes its members' draws).
    N, D : float
        The chosen plan: parameters and training tokens.
    price_per_flop : float, optional
        Price of one FLOP; adds ``deadweight_cost``.

    Returns
    -------
    xarray.Dataset
        Over ``(chain, draw)``: ``loss`` (the plan's), ``loss_opt`` (the optimum's at the same
        C), ``C_equivalent`` (C'), ``deadweight_flops`` (C − C'), ``deadweight_fraction``
        ((C − C')/C) and, with a price, ``deadweight_cost``. C is in ``attrs["compute"]``.
        C' is NaN for a plan so poor that C·1e-15 FLOPs on the frontier beat it.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> res = bs.misallocation_cost(fit, N=70e9, D=300e9, price_per_flop=1e-18)
    >>> bool((res["deadweight_flops"] >= 0).all())
    True
    >>> f"{float(res['deadweight_fraction'].median()):.2f}"
    '0.18'
    """
    n, d = _as_1d("N", N), _as_1d("D", D)
    if n.size != 1 or d.size != 1:
        raise ValueError("misallocation_cost takes one plan: N and D are single numbers")
    price_per_flop = check_number(price_per_flop, "price_per_flop", low_open=False, none=True)
    r = _equivalent_compute(fit, n, d)
    c = float(r["c"][0])
    dead = c - r["c_prime"]
    variables = {
        "loss": r["loss"][:, 0],
        "loss_opt": r["loss_opt"][:, 0],
        "C_equivalent": r["c_prime"][:, 0],
        "deadweight_flops": dead[:, 0],
        "deadweight_fraction": dead[:, 0] / c,
    }
    if price_per_flop is not None:
        variables["deadweight_cost"] = dead[:, 0] * price_per_flop
    ds = _dataset(variables, r["shape"], r["coords"])
    ds["C_equivalent"].attrs = {
        "long_name": "compute at which the compute-optimal run reaches the plan's loss",
        "units": "FLOPs",
    }
    ds["deadweight_flops"].attrs = {"long_name": "C − C', FLOPs wasted", "units": "FLOPs"}
    ds.attrs = {"question": "misallocation_cost", "law": fit.law.key, "N": float(n[0]),
                "D": float(d[0]), "compute": c}  # fmt: skip
    return ds


def _recount_within(ds: xr.Dataset) -> xr.Dataset:
    """The probabilities of a :func:`rule_of_thumb_check` result, recounted from its draws
    (after draws were mixed over a stack)."""
    within = ds.attrs["within"]
    for name, var in (("p_within_loss", "loss_excess"), ("p_within_compute", "compute_overhead")):
        ds[name] = (ds[var] <= within).mean(("chain", "draw"))
    return ds


@stackable(finish=_recount_within)
@groupable
def rule_of_thumb_check(
    fit: Fit,
    *,
    compute: Any,
    tokens_per_param: float = 20.0,
    within: float = 0.05,
) -> xr.Dataset:
    """How close the "D = 20 N" allocation is to the optimum, as posterior probabilities.

    At each budget C the rule gives N = sqrt(C / (6·r)), D = r·N (r = ``tokens_per_param``).
    Per draw: ``loss_excess`` = L(rule)/L*(C) − 1 (how much worse the loss is) and
    ``compute_overhead`` = C/C' − 1 (how much more compute the rule spends than the optimum
    needs for the same loss). ``p_within_loss`` and ``p_within_compute`` are the posterior
    probabilities that each is at most ``within``.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D only (a stack mixes its members' draws).
    compute : float or sequence of float
        Budgets in FLOPs.
    tokens_per_param : float
        The rule's D/N.
    within : float
        Tolerance as a fraction (0.05 = 5%).

    Returns
    -------
    xarray.Dataset
        ``loss_excess``, ``compute_overhead`` over ``(chain, draw, compute)``;
        ``p_within_loss``, ``p_within_compute``, ``N_rule``, ``D_rule`` over ``compute``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> res = bs.rule_of_thumb_check(fit, compute=[1e21, 1e24])
    >>> res["p_within_compute"].values.round(2).tolist()
    [1.0, 1.0]
    """
    c = _as_1d("compute", compute)
    tokens_per_param = check_number(tokens_per_param, "tokens_per_param", example="20")
    within = check_number(within, "within", low_open=False, example="0.05")
    n = np.sqrt(c / (FLOPS_PER_PARAM_TOKEN * tokens_per_param))
    d = tokens_per_param * n
    r = _equivalent_compute(fit, n, d)
    loss_excess = r["loss"] / r["loss_opt"] - 1.0
    overhead = r["c"][None, :] / r["c_prime"] - 1.0
    ds = _dataset(
        {"loss_excess": loss_excess, "compute_overhead": overhead},
        r["shape"],
        r["coords"],
        [("compute", c)],
    )
    ds["p_within_loss"] = ("compute", np.mean(loss_excess <= within, axis=0))
    ds["p_within_compute"] = ("compute", np.mean(overhead <= within, axis=0))
    ds = ds.assign_coords(N_rule=("compute", n), D_rule=("compute", d))
    ds.attrs = {"question": "rule_of_thumb_check", "law": fit.law.key,
                "tokens_per_param": float(tokens_per_param), "within": float(within)}  # fmt: skip
    return ds
