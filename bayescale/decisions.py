"""Planning questions answered as posterior distributions.

Each function takes a :class:`~bayescale.Fit` and returns ``xarray`` objects over
``(chain, draw, ...)`` (one value per posterior draw), computed with numpy and vectorised over
draws and over the grid of the question — no Python loop over draws, no sampling:

* :func:`compute_for_loss` — the compute-optimal FLOPs (and N*, D*) needed to reach a loss;
* :func:`loss_at` — the loss of any grid of plans;
* :func:`overtraining_penalty` — the extra loss of training a given N at budget C instead of N*,
  and the compute-optimal FLOPs it is worth;
* :func:`inference_optimal` — the Sardana & Frankle (2023) optimum that also counts inference
  FLOPs;
* :func:`data_wall` — the budget at which D*(C) exceeds the available unique tokens, and the
  allocation beyond it;
* :func:`compare_to_card` — where a published fit sits in the posterior.

:func:`decision_summary` turns any of these datasets into a table of medians and intervals,
counting (never dropping) the draws for which a question has no answer.

All FLOP counts use C = 6·N·D for training and 2·N FLOPs per inference token.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, check_number, deprecated_args, result_html
from .analysis import (
    FLOPS_PER_PARAM_TOKEN,
    _as_1d,
    _fixed_inputs,
    _held_mapping,
    _minimise,
    _natural_draws,
    _optimum,
    compute_optimal,
)
from .cards import Card, load_card
from .fit import Fit
from .law import ScalingLaw
from .pooling import groupable
from .stacking import stackable
from .xp import numpy_ns

__all__ = [
    "CardComparison",
    "compare_to_card",
    "compute_for_loss",
    "data_wall",
    "decision_summary",
    "inference_optimal",
    "loss_at",
    "overtraining_penalty",
]

FLOPS_PER_INFERENCE_TOKEN = 2.0
#: Names under which a law may take the number of unique tokens (data-constrained laws).
UNIQUE_TOKEN_INPUTS = ("U", "U_D", "unique_tokens")
_SAMPLE_DIMS = ("chain", "draw")
_STATUS = ("reached", "unreachable", "beyond_max_compute", "below_min_compute")


# ---------------------------------------------------------------------- draws and shapes


def _scipy_stats():
    """scipy.stats, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


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


# ---------------------------------------------------------------------- compute_for_loss
def _recount_status(ds: xr.Dataset) -> xr.Dataset:
    """The ``n_<status>`` counts of a :func:`compute_for_loss` result, recounted from its
    ``status`` (after draws were mixed over a stack)."""
    status = ds["status"].transpose(*_SAMPLE_DIMS, "target_loss").to_numpy()
    flat = status.reshape(-1, status.shape[-1])
    for name in _STATUS:
        ds[f"n_{name}"] = ("target_loss", (flat == name).sum(axis=0))
    return ds


@stackable(finish=_recount_status)
@groupable
def compute_for_loss(
    fit: Fit,
    target_loss: Any,
    *,
    min_compute: float = 1e10,
    max_compute: float = 1e60,
) -> xr.Dataset:
    """Posterior of the compute-optimal budget needed to reach a target loss.

    For every draw, solves L*(C) = target along the compute-optimal frontier (L*(C) is the loss
    at N*(C), D*(C) and falls monotonically with C) by vectorised bisection in log C, using the
    law's closed-form optimum when it has one (Chinchilla: the reducible loss on the frontier is
    (A·G^-α + B·G^β)·(C/6)^(-αβ/(α+β))) and a numerical optimum otherwise.

    A draw whose law cannot reach the target (target ≤ E, the irreducible loss) is
    *unreachable*: its ``C_needed`` is NaN, it is counted in ``n_unreachable`` and flagged by
    ``reachable``. Draws that would need more than ``max_compute`` (or reach the target already
    below ``min_compute``) are counted the same way under their own status.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D.
    target_loss : float or sequence of float
        Target losses (same units as the fitted output).
    min_compute, max_compute : float
        FLOP range searched.

    Returns
    -------
    xarray.Dataset
        Over ``(chain, draw, target_loss)``: ``C_needed``, ``N_opt``, ``D_opt``,
        ``tokens_per_param`` (NaN where the target is not reached), ``reachable`` (bool: the
        target lies above the law's floor) and ``status`` (``"reached"``, ``"unreachable"``,
        ``"beyond_max_compute"`` or ``"below_min_compute"``); over ``target_loss`` the counts
        ``n_reached``, ``n_unreachable``, ``n_beyond_max_compute``, ``n_below_min_compute``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> res = bs.compute_for_loss(fit, target_loss=[2.0, 1.6])
    >>> res["n_unreachable"].values.tolist()  # 1.6 nats is below E = 1.82 for every draw
    [0, 1000]
    >>> f"{float(res['C_needed'].sel(target_loss=2.0).median()):.2e}"
    '2.20e+23'
    """
    law = fit.law
    _require_nd(law, "compute_for_loss")
    targets = _as_1d("target_loss", target_loss)
    min_compute, max_compute = _compute_bounds(min_compute, max_compute)
    q, sample_shape, coords = _flat_draws(fit, "compute_for_loss")
    qb = _expand(q, 1)
    log_c, status = _invert_frontier(law, qb, targets[None, :], min_compute, max_compute)
    reached = status == 0
    c_needed = np.exp(log_c)
    n_opt, d_opt = _optimum(law, qb, np.where(reached, c_needed, 1e20), FLOPS_PER_PARAM_TOKEN, {})
    n_opt = np.where(reached, n_opt, np.nan)
    d_opt = np.where(reached, d_opt, np.nan)
    grid = [("target_loss", targets)]
    ds = _dataset(
        {
            "C_needed": c_needed,
            "N_opt": n_opt,
            "D_opt": d_opt,
            "tokens_per_param": d_opt / n_opt,
            "reachable": status != 1,
            "status": np.asarray(_STATUS, dtype=object)[status],
        },
        sample_shape,
        coords,
        grid,
    )
    for code, name in enumerate(_STATUS):
        ds[f"n_{name}"] = ("target_loss", (status == code).sum(axis=0))
    ds["C_needed"].attrs = {
        "long_name": "compute-optimal FLOPs to reach the target",
        "units": "FLOPs",
    }
    ds["N_opt"].attrs = {"long_name": "compute-optimal parameters at C_needed"}
    ds["D_opt"].attrs = {"long_name": "compute-optimal tokens at C_needed"}
    ds["reachable"].attrs = {"long_name": "target above the law's irreducible loss"}
    ds.attrs = {
        "question": "compute_for_loss",
        "law": law.key,
        "n_draws": int(status.shape[0]),
        "min_compute": min_compute,
        "max_compute": max_compute,
        "note": "NaN where status != 'reached'; the n_* variables count each status",
    }
    return ds


# ---------------------------------------------------------------------- loss of plans
@stackable
@groupable
def loss_at(
    fit: Fit,
    *,
    kind: str = "mean",
    random_seed: int | None = None,
    **inputs: Any,
) -> xr.DataArray:
    """Posterior of the loss over a grid of plans (outer product of the given inputs).

    Every input given as a sequence becomes its own dimension, so ``N=[...], D=[...]`` gives a
    ``(chain, draw, N, D)`` array. For a law of N and D the budget ``compute`` (FLOPs) may
    replace one of them (``N=[...], compute=[...]`` → D = compute/(6N), an isoFLOP grid); the
    implied third quantity and the tokens per parameter D/N are attached as coordinates. (``C=``
    for the budget of a law without an input ``C`` is deprecated.)

    Parameters
    ----------
    fit : Fit or StackedFit
    kind : {"mean", "predictive"}
        As in :func:`~bayescale.predict_loss`: the law's value, or a new observed run.
    random_seed : int, optional
        Seed for predictive noise.
    **inputs
        The law's inputs (and, for predictive draws, any extra columns the likelihood needs) as
        numbers or 1-D sequences.

    Returns
    -------
    xarray.DataArray

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> grid = bs.loss_at(fit, N=[1e9, 1e10, 1e11], compute=[1e21, 1e22])
    >>> grid.dims
    ('chain', 'draw', 'N', 'compute')
    >>> grid["tokens_per_param"].shape
    (3, 2)
    """
    from .analysis import predict_loss

    law = fit.law
    given = dict(inputs)
    if "C" in given and "C" not in law.inputs:
        if "compute" in given:
            raise TypeError("loss_at() got both 'C' (deprecated) and 'compute'")
        warnings.warn(
            "loss_at(): C= for the budget is deprecated, use compute= (deprecated in bayescale "
            "1.0; the old form will be removed in 1.1)",
            FutureWarning,
            stacklevel=2,
        )
        given = {("compute" if k == "C" else k): v for k, v in given.items()}
    budget = "compute" in given and "compute" not in law.inputs
    if budget:
        if not {"N", "D"} <= set(law.inputs):
            raise ValueError(
                f"compute can stand in for N or D only; law {law.name!r} has {law.inputs}"
            )
        if ("N" in given) == ("D" in given):
            raise ValueError(
                "with compute give exactly one of N and D (the other is compute/(6·it))"
            )
    extra_cols = set(fit.likelihood.extra_columns)
    grid_names = [k for k in given if k not in extra_cols]
    arrays = {k: _as_1d(k, given[k]) for k in grid_names}
    mesh = np.meshgrid(*arrays.values(), indexing="ij")
    flat = {k: m.reshape(-1) for k, m in zip(arrays, mesh, strict=True)}
    derived: dict[str, np.ndarray] = {}
    if budget:
        c = flat.pop("compute")
        if "N" in flat:
            flat["D"] = c / (FLOPS_PER_PARAM_TOKEN * flat["N"])
            derived["D"] = flat["D"]
        else:
            flat["N"] = c / (FLOPS_PER_PARAM_TOKEN * flat["D"])
            derived["N"] = flat["N"]
    for k in extra_cols & set(given):
        flat[k] = np.broadcast_to(np.asarray(given[k], float), flat[grid_names[0]].shape)
    out = predict_loss(fit, kind=kind, random_seed=random_seed, **flat)
    if out.ndim == 2:
        out = out.expand_dims(point=1, axis=-1)
    shape = tuple(len(v) for v in arrays.values())
    values = out.transpose(*_SAMPLE_DIMS, "point").to_numpy().reshape(*out.shape[:2], *shape)
    res = xr.DataArray(
        values,
        dims=(*_SAMPLE_DIMS, *arrays),
        coords={**{d: out[d].to_numpy() for d in _SAMPLE_DIMS}, **arrays},
        name=law.output,
    )
    for k, v in derived.items():
        res = res.assign_coords({k: (tuple(arrays), v.reshape(shape))})
    if {"N", "D"} <= set(law.inputs):
        n = flat["N"].reshape(shape)
        d = flat["D"].reshape(shape)
        res = res.assign_coords(tokens_per_param=(tuple(arrays), d / n))
    res.attrs = {"kind": kind}
    return res


@deprecated_args(renamed={"C": "compute"})
@stackable
@groupable
def overtraining_penalty(
    fit: Fit,
    *,
    N: Any,
    compute: Any,
    min_compute: float = 1e10,
    max_compute: float = 1e60,
) -> xr.Dataset:
    """The cost of training ``N`` parameters at budget ``compute`` instead of the optimal N*.

    For every draw and every (N, C = ``compute``): the plan's tokens D = C/(6N) and loss
    L(N, D); the optimum N*(C), D*(C) and L*(C); the extra loss L − L*; and the
    compute-optimal budget C_eq that would reach the plan's loss, so that
    ``flops_lost = C − C_eq`` and ``compute_efficiency = C_eq / C`` express the penalty in FLOPs.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D.
    N, compute : float or sequence of float
        Planned model sizes and budgets in FLOPs (each a dimension of the result).
    min_compute, max_compute : float
        FLOP range searched for C_eq.

    Returns
    -------
    xarray.Dataset
        Over ``(chain, draw, N, compute)``: ``D``, ``tokens_per_param`` (D/N of the plan), ``loss``,
        ``N_opt``, ``D_opt``, ``tokens_per_param_opt``, ``loss_opt``, ``extra_loss``,
        ``C_equivalent``, ``flops_lost`` and ``compute_efficiency``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> pen = bs.overtraining_penalty(fit, N=[8e9, 70e9], compute=5.88e23)
    >>> pen["tokens_per_param"].isel(chain=0, draw=0).values.round(0).tolist()
    [[1531.0], [20.0]]
    >>> bool((pen["extra_loss"] >= 0).all()), bool((pen["compute_efficiency"] <= 1).all())
    (True, True)
    """
    law = fit.law
    _require_nd(law, "overtraining_penalty")
    n_plan = _as_1d("N", N)
    c_plan = _as_1d("compute", compute)
    q, sample_shape, coords = _flat_draws(fit, "overtraining_penalty")
    qb = _expand(q, 2)
    nn = n_plan[None, :, None]
    cc = c_plan[None, None, :]
    dd = cc / (FLOPS_PER_PARAM_TOKEN * nn)
    loss = law.evaluate(qb, N=nn, D=dd)
    n_opt, d_opt = _optimum(law, qb, cc, FLOPS_PER_PARAM_TOKEN, {})
    loss_opt = law.evaluate(qb, N=n_opt, D=d_opt)
    extra = np.maximum(loss - loss_opt, 0.0)
    log_eq, status = _invert_frontier(law, qb, loss, min_compute, max_compute)
    c_eq = np.where(status == 3, min_compute, np.exp(log_eq))
    c_eq = np.where(extra == 0.0, cc, np.minimum(c_eq, cc))
    ds = _dataset(
        {
            "D": dd,
            "tokens_per_param": dd / nn,
            "loss": loss,
            "N_opt": n_opt,
            "D_opt": d_opt,
            "tokens_per_param_opt": d_opt / n_opt,
            "loss_opt": loss_opt,
            "extra_loss": extra,
            "C_equivalent": c_eq,
            "flops_lost": cc - c_eq,
            "compute_efficiency": c_eq / cc,
        },
        sample_shape,
        coords,
        [("N", n_plan), ("compute", c_plan)],
    )
    ds["C_equivalent"].attrs = {
        "long_name": "compute-optimal FLOPs reaching the plan's loss",
        "units": "FLOPs",
    }
    ds["compute_efficiency"].attrs = {"long_name": "C_equivalent / C"}
    ds.attrs = {"question": "overtraining_penalty", "law": law.key}
    return ds


# ---------------------------------------------------------------------- inference-aware optimum
@stackable
@groupable
def inference_optimal(
    fit: Fit,
    target_loss: Any,
    inference_tokens: Any,
    *,
    min_compute: float = 1e10,
    max_compute: float = 1e60,
) -> xr.Dataset:
    """The Sardana & Frankle (2023) optimum: cheapest training + inference reaching a loss.

    Minimises total FLOPs ``6·N·D + 2·N·T_inf`` subject to ``L(N, D) = target`` for every draw:
    for each candidate N the tokens D(N) reaching the target are found by bisection, and the
    total cost is minimised over log N (grid, golden section, parabolic steps). The
    training-only optimum (:func:`compute_for_loss`) is reported alongside; with
    ``inference_tokens = 0`` the two coincide, and growing inference demand moves the optimum
    to a smaller, longer-trained model.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D.
    target_loss : float or sequence of float
        Target losses.
    inference_tokens : float or sequence of float
        Tokens processed at inference over the model's lifetime (≥ 0).
    min_compute, max_compute : float
        FLOP range searched for the training-only optimum.

    Returns
    -------
    xarray.Dataset
        Over ``(chain, draw, target_loss, inference_tokens)``: ``N_opt``, ``D_opt``,
        ``tokens_per_param``, ``C_train``, ``C_inference``, ``C_total``; the training-only
        plan ``N_train_opt``, ``D_train_opt``, ``C_total_train_opt`` (its training plus the same
        inference); ``savings`` = 1 − C_total / C_total_train_opt; ``reachable``. NaN where the
        target is not reached (see :func:`compute_for_loss`).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=50)
    >>> res = bs.inference_optimal(fit, target_loss=2.0, inference_tokens=[0, 1e13])
    >>> r = (res["N_opt"] / res["N_train_opt"]).median(("chain", "draw")).squeeze()
    >>> round(float(r.sel(inference_tokens=0)), 5), bool(r.sel(inference_tokens=1e13) < 1)
    (1.0, True)
    """
    law = fit.law
    _require_nd(law, "inference_optimal")
    targets = _as_1d("target_loss", target_loss)
    t_inf = _as_1d("inference_tokens", inference_tokens, allow_zero=True)
    q, sample_shape, coords = _flat_draws(fit, "inference_optimal")
    q3 = _expand(q, 2)  # (S, 1, 1)
    tgt = targets[None, :, None]
    log_c0, status = _invert_frontier(law, q3, tgt, min_compute, max_compute)
    ok = status == 0
    n0, d0 = _optimum(
        law, q3, np.exp(np.where(ok, log_c0, np.log(1e20))), FLOPS_PER_PARAM_TOKEN, {}
    )
    tt = t_inf[None, None, :]
    shape = np.broadcast_shapes(n0.shape, tt.shape)  # (S, targets, inference tokens)
    u0b = np.broadcast_to(np.log(n0), shape)
    v0b = np.broadcast_to(np.log(d0), shape)
    log_target = np.log(tgt)

    def log_d_needed(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log D reaching the target at log N = u (bisection), and whether it exists."""
        hi = v0b + 45.0
        feasible = law.log_mean(q3, numpy_ns, N=np.exp(u), D=np.exp(hi)) <= log_target

        def h(v: np.ndarray) -> np.ndarray:
            return log_target - law.log_mean(q3, numpy_ns, N=np.exp(u), D=np.exp(v))

        return _bisect(h, v0b - 25.0, hi), feasible

    def cost(u: np.ndarray) -> np.ndarray:
        """log of the total FLOPs 6·N·D(N) + 2·N·T_inf; inf where no D reaches the target."""
        v, feasible = log_d_needed(u)
        total = u + np.log(FLOPS_PER_PARAM_TOKEN * np.exp(v) + FLOPS_PER_INFERENCE_TOKEN * tt)
        return np.where(feasible, total, np.inf)

    # the cost is flat and skewed near its minimum: four parabolic steps reach ~1e-7 in log N
    u_best = _minimise(cost, u0b - 14.0, u0b + 2.0, n_grid=17, n_parabolic=4)
    v_best, _ = log_d_needed(u_best)
    okb = np.broadcast_to(ok, shape)
    n_best = np.where(okb, np.exp(u_best), np.nan)
    d_best = np.where(okb, np.exp(v_best), np.nan)
    n0b = np.where(okb, np.exp(u0b), np.nan)
    d0b = np.where(okb, np.exp(v0b), np.nan)
    c_train = FLOPS_PER_PARAM_TOKEN * n_best * d_best
    c_inf = FLOPS_PER_INFERENCE_TOKEN * n_best * tt
    c_base = FLOPS_PER_PARAM_TOKEN * n0b * d0b + FLOPS_PER_INFERENCE_TOKEN * n0b * tt
    ds = _dataset(
        {
            "N_opt": n_best,
            "D_opt": d_best,
            "tokens_per_param": d_best / n_best,
            "C_train": c_train,
            "C_inference": c_inf,
            "C_total": c_train + c_inf,
            "N_train_opt": n0b,
            "D_train_opt": d0b,
            "C_total_train_opt": c_base,
            "savings": 1.0 - (c_train + c_inf) / c_base,
            "reachable": okb,
        },
        sample_shape,
        coords,
        [("target_loss", targets), ("inference_tokens", t_inf)],
    )
    ds["savings"].attrs = {
        "long_name": "fraction of total FLOPs saved against the training-only optimum"
    }
    ds.attrs = {
        "question": "inference_optimal",
        "law": law.key,
        "note": "training FLOPs 6ND, inference FLOPs 2N per token; NaN where unreachable",
    }
    return ds


# ---------------------------------------------------------------------- data wall
def _unique_input(law: ScalingLaw, unique_input: str | None) -> str | None:
    others = [k for k in law.inputs if k not in ("N", "D")]
    if unique_input is not None:
        if unique_input not in law.inputs:
            raise ValueError(f"law {law.name!r} has no input {unique_input!r}: {law.inputs}")
        others = [k for k in others if k != unique_input]
        if others:
            raise ValueError(f"data_wall cannot set the inputs {others} of law {law.name!r}")
        return unique_input
    if not others:
        return None
    found = [k for k in others if k in UNIQUE_TOKEN_INPUTS]
    if len(found) == 1 and len(others) == 1:
        return found[0]
    raise ValueError(
        f"data_wall needs a law of N and D (optionally with a unique-token input); law "
        f"{law.name!r} has inputs {list(law.inputs)}: pass unique_input= to name the input "
        "holding the number of unique tokens"
    )


@stackable
@groupable
def data_wall(
    fit: Fit,
    available_tokens: Any,
    *,
    compute: Any = None,
    unique_input: str | None = None,
    min_compute: float = 1e10,
    max_compute: float = 1e60,
) -> xr.Dataset:
    """The budget at which the compute-optimal token count exceeds the available unique tokens.

    For every draw and every token supply U (e.g. 10–20 T): ``C_wall`` solves D*(C) = U, with
    N* and D*/N* at the wall. Beyond the wall (``compute=`` budgets) the best plan depends on the
    law:

    * a law of N and D only knows unique tokens, so the best plan trains once over the U tokens
      and puts the rest of the budget into parameters: D = U, N = C/(6U);
    * a data-constrained law (an input of unique tokens, e.g. ``U``; Muennighoff et al. 2023)
      may repeat data: N and D are re-optimised along C = 6ND with the law's unique-token input
      held at U (the law itself counts min(D, U) unique tokens), so ``epochs = D/U`` can exceed
      1; this is :func:`~bayescale.compute_optimal` with ``U=``. The unlimited frontier (and the
      wall) sets that input to ∞, which for ``data_constrained`` is Chinchilla's law exactly.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D (optionally with a unique-token input).
    available_tokens : float or sequence of float
        Unique tokens available.
    compute : float or sequence of float, optional
        Budgets at which to report the allocation under the token limit.
    unique_input : str, optional
        Name of the law's unique-token input (found automatically among ``U``, ``U_D``,
        ``unique_tokens``).
    min_compute, max_compute : float
        FLOP range searched for the wall.

    Returns
    -------
    xarray.Dataset
        Over ``(chain, draw, available_tokens)``: ``C_wall``, ``N_at_wall``,
        ``tokens_per_param_at_wall``. With ``compute``, also over ``compute``: ``beyond_wall``,
        ``N_opt``/``D_opt`` (limited), ``epochs``, ``loss``, ``N_unlimited``/``D_unlimited``,
        ``loss_unlimited`` and ``extra_loss``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> wall = bs.data_wall(fit, available_tokens=15e12, compute=[1e24, 1e26])
    >>> f"{float(wall['C_wall'].median()):.1e}"
    '8.4e+25'
    >>> wall["beyond_wall"].mean(("chain", "draw")).values.round(2).tolist()  # P(C > C_wall)
    [[0.0, 0.9]]
    """
    law = fit.law
    _require_nd(law, "data_wall", allow=[k for k in law.inputs if k not in ("N", "D")])
    u_name = _unique_input(law, unique_input)
    tokens = _as_1d("available_tokens", available_tokens)
    q, sample_shape, coords = _flat_draws(fit, "data_wall")

    def held(limit: np.ndarray | None) -> dict[str, Any]:
        """The unique-token input: ``limit``, or unlimited (∞: the law is then Chinchilla's)."""
        return {} if u_name is None else {u_name: np.inf if limit is None else limit}

    def frontier(qq: Mapping, log_c: np.ndarray, limit: np.ndarray | None) -> tuple:
        """(N, D) minimising the loss along C = 6ND, with ``limit`` unique tokens if any."""
        return _optimum(law, qq, np.exp(log_c), FLOPS_PER_PARAM_TOKEN, held(limit))

    def law_loss(qq: Mapping, n: np.ndarray, d: np.ndarray, limit: np.ndarray | None) -> Any:
        return law.evaluate(qq, N=n, D=d, **held(limit))

    qb = _expand(q, 1)
    tok = tokens[None, :]
    shape = np.broadcast_shapes((next(iter(q.values())).size, 1), tok.shape)
    min_compute, max_compute = _compute_bounds(min_compute, max_compute)
    lo_c = np.full(shape, np.log(min_compute))
    hi_c = np.full(shape, np.log(max_compute))

    def h(log_c: np.ndarray) -> np.ndarray:
        return np.log(frontier(qb, log_c, None)[1]) - np.log(tok)

    d_lo = frontier(qb, lo_c, None)[1]
    d_hi = frontier(qb, hi_c, None)[1]
    log_wall = _bisect(h, lo_c, hi_c)
    valid = (d_lo <= tok) & (d_hi >= tok)
    c_wall = np.where(valid, np.exp(log_wall), np.nan)
    n_wall, d_wall = frontier(qb, np.where(valid, log_wall, np.log(1e20)), None)
    n_wall = np.where(valid, n_wall, np.nan)
    variables: dict[str, np.ndarray] = {
        "C_wall": c_wall,
        "N_at_wall": n_wall,
        "tokens_per_param_at_wall": np.where(valid, d_wall, np.nan) / n_wall,
    }
    ds = _dataset(variables, sample_shape, coords, [("available_tokens", tokens)])
    if compute is not None:
        budgets = _as_1d("compute", compute)
        q2 = _expand(q, 2)
        cc = np.broadcast_to(budgets[None, None, :], (1, len(tokens), len(budgets)))
        lim = np.broadcast_to(tokens[None, :, None], cc.shape)
        log_cc = np.log(cc)
        n_un, d_un = frontier(q2, log_cc, None)
        loss_un = law_loss(q2, n_un, d_un, None)
        if u_name is None:
            d_lim = np.minimum(d_un, lim)
            n_lim = cc / (FLOPS_PER_PARAM_TOKEN * d_lim)
        else:
            n_lim, d_lim = frontier(q2, log_cc, lim)
        loss_lim = law_loss(q2, n_lim, d_lim, lim)
        more = {
            "beyond_wall": d_un > lim,
            "N_opt": n_lim,
            "D_opt": d_lim,
            "epochs": d_lim / lim,
            "loss": loss_lim,
            "N_unlimited": n_un,
            "D_unlimited": d_un,
            "loss_unlimited": loss_un,
            "extra_loss": loss_lim - loss_un,
        }
        extra_ds = _dataset(
            more, sample_shape, coords, [("available_tokens", tokens), ("compute", budgets)]
        )
        ds = xr.merge([ds, extra_ds])
    ds["C_wall"].attrs = {"long_name": "budget where D*(C) reaches the available tokens"}
    ds.attrs = {
        "question": "data_wall",
        "law": law.key,
        "unique_input": u_name or "",
        "beyond_the_wall": (
            "single epoch over the available tokens, N = C/(6U)"
            if u_name is None
            else f"re-optimised with repeated data ({u_name} = available)"
        ),
    }
    return ds


# ---------------------------------------------------------------------- published fits
@dataclass
class CardComparison:
    """Where a published fit sits in a posterior (result of :func:`compare_to_card`).

    Attributes
    ----------
    card : Card
    table : DataFrame
        One row per compared parameter: card value, posterior median and 95% interval,
        ``quantile`` (posterior probability below the card's value), two-sided ``tail_prob``,
        ``z`` on the transformed scale, the ``scale`` (log or linear) used and a ``note``
        ("fixed" for a parameter without posterior spread: its ``z`` is NaN and it is left out
        of the joint comparison).
    mahalanobis2 : float
        Squared Mahalanobis distance of the card's point from the posterior mean, with the
        posterior covariance (pseudo-inverse), on the transformed scale.
    df : int
        Degrees of freedom of the joint comparison: the numerical rank of the posterior
        covariance of the compared parameters that vary (fewer than their number when some
        move together exactly, e.g. a shared exponent α = β).
    joint_tail_prob : float
        χ² tail probability of ``mahalanobis2`` with ``df`` degrees of freedom.
    empirical_tail_prob : float
        Fraction of posterior draws at least as far (in the same metric) from the mean; 0 means
        below 1/n_draws.
    allocation : DataFrame
        N*, D* and D*/N* at ``compute`` under the card and the posterior (median and central
        :data:`~bayescale.CI_PROB` interval).
    """

    card: Card
    table: pd.DataFrame
    mahalanobis2: float
    df: int
    joint_tail_prob: float
    empirical_tail_prob: float
    n_draws: int
    compute: float
    allocation: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The per-parameter comparison (``table``); ``str(result)`` is the text report."""
        return self.table.copy()

    def __str__(self) -> str:
        """A plain-text report."""
        lines = [
            f"{self.card.name} ({self.card.citation.split(',')[0]}) against the posterior "
            f"({self.n_draws} draws):",
            "",
            self.table.to_string(float_format=lambda v: f"{v:.4g}"),
            "",
            f"joint: Mahalanobis² = {self.mahalanobis2:.1f} (df {self.df}), χ² tail probability "
            f"{self.joint_tail_prob:.3g}; fraction of draws farther out: "
            + (
                f"{self.empirical_tail_prob:.3g}"
                if self.empirical_tail_prob != 0
                else f"0 (< {1 / self.n_draws:.1g})"
            ),
            "",
            f"allocation at C = {self.compute:.3g} FLOPs:",
            self.allocation.to_string(float_format=lambda v: f"{v:.4g}"),
        ]
        lines += self.notes
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<CardComparison {self.card.name}: Mahalanobis² {self.mahalanobis2:.1f} "
            f"(df {self.df}), joint tail probability {self.joint_tail_prob:.3g}>"
        )

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())


def _log_scaled(law: ScalingLaw, name: str) -> bool:
    """Compare ``name`` on the log scale when the law samples it as a logarithm."""
    return any(p == f"log_{name}" or p.startswith(f"log_{name}_") for p in law.parameter_names)


@deprecated_args(into="fixed")
def compare_to_card(
    fit: Fit,
    card: str | Card,
    *,
    compute: float = 5.88e23,
    params: Sequence[str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    ci_prob: float = CI_PROB,
) -> CardComparison:
    """Where a published fit (a reference card) sits in the posterior.

    Per parameter: the posterior probability below the card's value and the two-sided tail
    probability. Jointly: the squared Mahalanobis distance of the card's point from the
    posterior mean under the posterior covariance, on the transformed scale the law is sampled
    on (logarithms of A, B, E; exponents as they are), with its χ² tail probability and the
    fraction of posterior draws lying farther out. And the compute-optimal allocation at
    ``compute`` under the card against its posterior.

    Parameters
    ----------
    fit : Fit
    card : str or Card
        A card name (``"hoffmann2022"``) or a :class:`~bayescale.Card` of the same law.
    compute : float
        Budget for the allocation comparison (default: Chinchilla's 5.88e23 FLOPs).
    params : sequence of str, optional
        Natural parameters to compare (default: all the card gives).
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed in the allocation comparison as in
        :func:`~bayescale.compute_optimal` (e.g. ``fixed={"U": 25e9}`` for
        ``data_constrained``).
    ci_prob : float
        Probability of the allocation table's central interval (default
        :data:`~bayescale.CI_PROB`).

    Returns
    -------
    CardComparison

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> res = bs.compare_to_card(fit, "hoffmann2022")
    >>> res.joint_tail_prob < 1e-6, res.df
    (True, 5)
    >>> bs.compare_to_card(fit, "besiroglu2024").joint_tail_prob > 0.05
    True
    """
    if not (isinstance(ci_prob, int | float) and 0 < float(ci_prob) < 1):
        raise ValueError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}")
    if not isinstance(fit, Fit):
        raise TypeError(
            f"compare_to_card compares one posterior with a card, got {type(fit).__name__}; "
            "for a stack compare each member (stack.fits[name])"
        )
    law = fit.law
    compute = check_number(compute, "compute", example="5.88e23 FLOPs; one budget")
    fixed = _held_mapping("compare_to_card", fixed)
    unknown_inputs = sorted(set(fixed) - (set(law.inputs) - {"N", "D"}))
    if unknown_inputs:
        raise ValueError(
            f"compare_to_card: law {law.name!r} cannot hold {unknown_inputs} fixed "
            f"(its inputs are {list(law.inputs)})"
        )
    card = card if isinstance(card, Card) else load_card(card)
    if card.law != law.name:
        raise ValueError(f"card {card.name!r} is for law {card.law!r}, the fit is {law.name!r}")
    names = (
        list(params) if params is not None else [n for n in law.natural_names if n in card.params]
    )
    unknown = [n for n in names if n not in card.params or n not in law.natural_names]
    if unknown or not names:
        raise ValueError(
            f"cannot compare {unknown or names}: card {card.name!r} gives {sorted(card.params)}, "
            f"law {law.name!r} has natural parameters {list(law.natural_names)}"
        )
    q, _, _ = _flat_draws(fit, "compare_to_card")
    logged = {n: _log_scaled(law, n) for n in names}
    for n in names:
        if logged[n] and (card.params[n] <= 0 or np.any(q[n] <= 0)):
            raise ValueError(f"{n} must be positive to be compared on the log scale")
    x = np.column_stack([np.log(q[n]) if logged[n] else q[n] for n in names])
    point = np.array([np.log(card.params[n]) if logged[n] else card.params[n] for n in names])
    mean = x.mean(axis=0)
    sd = np.atleast_1d(np.std(x, axis=0, ddof=1))
    delta = point - mean
    # parameters without posterior spread (held fixed) carry no information on the card's
    # distance; they are reported but left out of the joint comparison
    varies = sd > 1e-12 * np.maximum(np.abs(mean), 1.0)
    notes: list[str] = []
    no_spread = [n for n, v in zip(names, varies, strict=True) if not v]
    if no_spread:
        notes.append(
            f"{', '.join(no_spread)} fixed in the posterior (no spread): left out of the joint "
            "comparison"
        )
    if varies.any():
        # the Mahalanobis distance on the correlation scale (invariant to each parameter's
        # scale); parameters that move together exactly (a shared exponent α = β) make the
        # correlation matrix singular, so the χ² degrees of freedom are its numerical rank
        z_draws = (x[:, varies] - mean[varies]) / sd[varies]
        z_point = delta[varies] / sd[varies]
        corr = np.atleast_2d(np.corrcoef(z_draws, rowvar=False))
        tol = 1e-10
        k = int(np.linalg.matrix_rank(corr, rtol=tol, hermitian=True))
        prec = np.linalg.pinv(corr, rtol=tol, hermitian=True)
        d2_draws = np.einsum("ij,jk,ik->i", z_draws, prec, z_draws)
        d2 = float(z_point @ prec @ z_point)
        if k < int(varies.sum()):
            notes.append(
                f"the posterior of the {int(varies.sum())} varying parameters has rank {k} "
                f"(some move together exactly): χ² with {k} degrees of freedom"
            )
    else:
        k, d2, d2_draws = 0, np.nan, np.full(x.shape[0], np.nan)
    rows = {}
    for i, n in enumerate(names):
        draws = q[n]
        below = float(np.mean(draws < card.params[n]))
        lo, med, hi = np.quantile(draws, [0.025, 0.5, 0.975])
        rows[n] = {
            "card": card.params[n],
            "median": med,
            "ci95_lo": lo,
            "ci95_hi": hi,
            "quantile": below,
            "tail_prob": 2 * min(below, 1 - below),
            "z": delta[i] / sd[i] if varies[i] else np.nan,
            "scale": "log" if logged[n] else "linear",
            "note": "" if varies[i] else "fixed",
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "parameter"

    # allocation at the chosen budget
    alloc_rows = {}
    if {"N", "D"} <= set(law.inputs) and set(law.natural_names) <= set(card.params):
        needed = [k for k in law.inputs if k not in ("N", "D")]
        if set(fixed) != set(needed):
            raise ValueError(
                f"compare_to_card: the allocation at compute={compute:.3g} under law "
                f"{law.name!r} holds its inputs {needed} fixed; pass them as fixed={{...}}, as "
                f"for compute_optimal (e.g. fixed={{'U': 25e9}} for data_constrained), got "
                f"{sorted(fixed)}"
            )
        post = compute_optimal(fit, compute=compute, fixed=fixed).isel(compute=0)
        held = _fixed_inputs(law, 1, fixed)
        cq = {n: np.asarray([card.params[n]], float) for n in law.natural_names}
        n_c, d_c = _optimum(law, cq, np.asarray([compute]), FLOPS_PER_PARAM_TOKEN, held)
        card_vals = {"N_opt": n_c[0], "D_opt": d_c[0], "tokens_per_param": d_c[0] / n_c[0]}
        for var, cv in card_vals.items():
            draws = post[var].to_numpy().ravel()
            lo, med, hi = np.quantile(draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
            alloc_rows[var] = {
                "card": cv,
                "median": med,
                f"ci{100 * ci_prob:g}_lo": lo,
                f"ci{100 * ci_prob:g}_hi": hi,
                "card/median": cv / med,
                "quantile": float(np.mean(draws < cv)),
            }
    else:
        notes.append("allocation not compared: the card does not give every parameter of the law")
    allocation = pd.DataFrame.from_dict(alloc_rows, orient="index")
    return CardComparison(
        card=card,
        table=table,
        mahalanobis2=d2,
        df=k,
        joint_tail_prob=float(_scipy_stats().chi2.sf(d2, k)) if k > 0 else np.nan,
        empirical_tail_prob=float(np.mean(d2_draws >= d2)) if k > 0 else np.nan,
        n_draws=int(x.shape[0]),
        compute=float(compute),
        allocation=allocation,
        notes=notes,
    )


# ---------------------------------------------------------------------- summaries
@deprecated_args(renamed={"prob": "ci_prob"}, positional=("ci_prob",))
def decision_summary(ds: xr.Dataset, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Median and central interval of every per-draw variable of a decision dataset.

    One row per variable and grid point. Draws with no answer (NaN, e.g. an unreachable target)
    are left out of the quantiles and counted in ``n_missing``, next to ``n_draws``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> table = bs.decision_summary(bs.compute_for_loss(fit, [2.0, 1.83]))
    >>> table.loc["C_needed", "n_missing"].tolist()  # 332 draws have E above 1.83
    [0, 332]
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(
            "decision_summary takes the Dataset of a decision function (bs.compute_for_loss, "
            f"bs.data_wall, ...), got {type(ds).__name__}"
        )
    check_ci_prob(ci_prob)
    lo_q, hi_q = (1 - ci_prob) / 2, (1 + ci_prob) / 2
    pct = f"{100 * ci_prob:g}"
    frames = []
    for name, da in ds.data_vars.items():
        if not set(_SAMPLE_DIMS) <= set(da.dims) or not np.issubdtype(da.dtype, np.number):
            continue
        if da.dtype == bool:
            continue
        grid = [d for d in da.dims if d not in _SAMPLE_DIMS]
        arr = da.transpose(*_SAMPLE_DIMS, *grid).to_numpy().astype(float)
        flat = arr.reshape(arr.shape[0] * arr.shape[1], -1)
        missing = np.isnan(flat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
            quant = np.nanquantile(flat, [lo_q, 0.5, hi_q], axis=0)
            mean = np.nanmean(flat, axis=0)
        index = (
            pd.MultiIndex.from_product([da[d].to_numpy() for d in grid], names=grid)
            if grid
            else pd.RangeIndex(1)
        )
        frame = pd.DataFrame(
            {
                "median": quant[1],
                f"ci{pct}_lo": quant[0],
                f"ci{pct}_hi": quant[2],
                "mean": mean,
                "n_draws": flat.shape[0],
                "n_missing": missing.sum(axis=0),
            },
            index=index,
        )
        frame = frame.reset_index(drop=not grid)
        frame.insert(0, "variable", name)
        frames.append(frame)
    if not frames:
        raise ValueError("the dataset has no numeric variables over (chain, draw)")
    table = pd.concat(frames, ignore_index=True)
    stats_cols = {"median", f"ci{pct}_lo", f"ci{pct}_hi", "mean", "n_draws", "n_missing"}
    return table.set_index([c for c in table.columns if c not in stats_cols])
