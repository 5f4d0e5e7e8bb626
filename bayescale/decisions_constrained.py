"""The optimum under another cost or limit, per posterior draw: :func:`inference_optimal` (the
Sardana & Frankle (2023) optimum that also counts inference FLOPs) and :func:`data_wall` (the
budget at which D*(C) exceeds the available unique tokens, and the allocation beyond it).

Re-exported by :mod:`bayescale.decisions`; conventions as described there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._decisions_common import (
    _bisect,
    _compute_bounds,
    _dataset,
    _expand,
    _flat_draws,
    _invert_frontier,
    _require_nd,
)
from .analysis import FLOPS_PER_PARAM_TOKEN, _as_1d, _minimise, _optimum
from .fit import Fit
from .law import ScalingLaw
from .pooling import groupable
from .stacking import stackable
from .xp import numpy_ns

__all__ = ["data_wall", "inference_optimal"]

FLOPS_PER_INFERENCE_TOKEN = 2.0
#: Names under which a law may take the number of unique tokens (data-constrained laws).
UNIQUE_TOKEN_INPUTS = ("U", "U_D", "unique_tokens")


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
