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

The answers live in three modules, all re-exported here: this one (:func:`compute_for_loss`,
:func:`loss_at`, :func:`overtraining_penalty`, :func:`decision_summary`),
:mod:`~bayescale.decisions_constrained` (:func:`inference_optimal`, :func:`data_wall`) and
:mod:`~bayescale.decisions_cards` (:func:`compare_to_card`); their shared helpers are in
``_decisions_common``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, deprecated_args
from ._decisions_common import (  # noqa: F401 (_bisect, _frontier_loss re-exported)
    _SAMPLE_DIMS,
    _STATUS,
    _bisect,
    _compute_bounds,
    _dataset,
    _expand,
    _flat_draws,
    _frontier_loss,
    _invert_frontier,
    _require_nd,
)
from .analysis import FLOPS_PER_PARAM_TOKEN, _as_1d, _optimum
from .decisions_cards import CardComparison, compare_to_card
from .decisions_constrained import (  # noqa: F401 (the constants re-exported)
    FLOPS_PER_INFERENCE_TOKEN,
    UNIQUE_TOKEN_INPUTS,
    data_wall,
    inference_optimal,
)
from .fit import Fit
from .pooling import groupable
from .stacking import stackable

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
