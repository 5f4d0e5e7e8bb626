"""Decisions as posterior distributions: compute-optimal allocation and predicted loss.

Every function here is a pure, vectorised function of posterior draws: no sampling, no plotting.
Results are ``xarray`` objects over ``(chain, draw, ...)``, so any summary (median, interval,
probability of a statement) is one reduction away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .fit import Fit
from .law import ScalingLaw
from .xp import numpy_ns

__all__ = ["compute_optimal", "predict_loss"]

FLOPS_PER_PARAM_TOKEN = 6.0


def _as_1d(name: str, values: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        raise ValueError(
            f"{name} must be finite and > 0; bad values at positions "
            f"{np.flatnonzero(bad).tolist()}: {arr[bad].tolist()}"
        )
    return arr


def _natural_draws(
    fit: Fit, keep_extra_dims: bool = False
) -> tuple[dict[str, np.ndarray], tuple[str, ...], dict]:
    params = fit.params("natural")
    first = next(iter(params.values()))
    if keep_extra_dims:
        return (
            {k: v.transpose("chain", "draw", ...).to_numpy() for k, v in params.items()},
            ("chain", "draw"),
            {d: first[d].to_numpy() for d in ("chain", "draw")},
        )
    coords = {d: first[d].to_numpy() for d in first.dims}
    return {k: v.to_numpy() for k, v in params.items()}, tuple(first.dims), coords


def _numeric_optimum(
    law: ScalingLaw, q: Mapping[str, np.ndarray], C: np.ndarray, flops: float
) -> dict[str, np.ndarray]:
    """Minimise the law along C = flops·N·D over log N, vectorised over draws and budgets.

    A coarse grid in log N brackets the minimum for every (draw, budget); golden-section steps
    then shrink the bracket to a relative width of about 1e-9 in N.
    """
    log_c = np.log(C / flops)

    def objective(u: np.ndarray) -> np.ndarray:
        n = np.exp(u)
        d = np.exp(log_c - u)
        return law.log_mean(q, numpy_ns, N=n, D=d)

    shape = np.broadcast_shapes(*(np.shape(v) for v in q.values()), log_c.shape)
    lo_lim = np.full(shape, np.log(1e3))
    hi_lim = np.broadcast_to(log_c - np.log(1e3), shape)
    grid = np.linspace(0.0, 1.0, 33)
    us = lo_lim[..., None] + (hi_lim - lo_lim)[..., None] * grid
    values = np.stack([objective(us[..., i]) for i in range(len(grid))], axis=-1)
    k = np.clip(np.argmin(values, axis=-1), 1, len(grid) - 2)
    a = np.take_along_axis(us, (k - 1)[..., None], axis=-1)[..., 0]
    b = np.take_along_axis(us, (k + 1)[..., None], axis=-1)[..., 0]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c = b - ratio * (b - a)
    d = a + ratio * (b - a)
    fc, fd = objective(c), objective(d)
    for _ in range(60):
        left = fc < fd  # the minimum lies in [a, d]
        a = np.where(left, a, c)
        b = np.where(left, d, b)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = objective(new)
        c, d = np.where(left, new, d), np.where(left, c, new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    u = 0.5 * (a + b)
    return {"N": np.exp(u), "D": np.exp(log_c - u)}


def compute_optimal(
    fit: Fit,
    compute: Any,
    *,
    method: str = "auto",
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
) -> xr.Dataset:
    """Posterior of the compute-optimal model size and tokens for each budget.

    Minimises the law's expected loss along ``C = 6·N·D`` for every posterior draw and budget —
    in closed form when the law has one (Chinchilla: G = (αA/(βB))^(1/(α+β)),
    N* = G·(C/6)^a, D* = G⁻¹·(C/6)^b), numerically otherwise.

    Parameters
    ----------
    fit : Fit
        A fitted law with inputs ``N`` and ``D``.
    compute : float or sequence of float
        Training budgets in FLOPs.
    method : {"auto", "closed_form", "numeric"}
        ``"auto"`` uses the closed form when the law has one.
    flops_per_param_token : float
        FLOPs per parameter per token (6 for the usual dense-transformer count).

    Returns
    -------
    xarray.Dataset
        ``N_opt``, ``D_opt``, ``tokens_per_param`` (D*/N*) and ``loss_opt`` over
        ``(chain, draw, compute)``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(seed=0)
    >>> opt = bs.compute_optimal(fit, compute=[1e21, 5.88e23])
    >>> opt["tokens_per_param"].sizes["compute"]
    2
    >>> float(opt["tokens_per_param"].sel(compute=5.88e23).median()) > 1
    True
    """
    law = fit.law
    if not {"N", "D"} <= set(law.inputs):
        raise ValueError(f"law {law.name!r} has inputs {law.inputs}; compute_optimal needs N and D")
    C = _as_1d("compute", compute)
    q, dims, coords = _natural_draws(fit)
    if len(dims) != 2:
        raise ValueError("compute_optimal expects scalar parameters over (chain, draw)")
    qb = {k: v[..., None] for k, v in q.items()}
    if method not in ("auto", "closed_form", "numeric"):
        raise ValueError(f"method must be 'auto', 'closed_form' or 'numeric', got {method!r}")
    if method == "closed_form" and law.optimum is None:
        raise ValueError(f"law {law.name!r} has no closed-form optimum; use method='numeric'")
    if law.optimum is not None and method != "numeric" and flops_per_param_token == 6.0:
        opt = law.optimum(numpy_ns, qb, C)
        n_opt, d_opt = np.asarray(opt["N"]), np.asarray(opt["D"])
    else:
        n_opt, d_opt = (
            np.asarray(v) for v in _numeric_optimum(law, qb, C, flops_per_param_token).values()
        )
    loss = law.evaluate(qb, N=n_opt, D=d_opt)
    full = (*dims, "compute")
    coords = {**coords, "compute": C}
    ds = xr.Dataset(
        {
            "N_opt": (full, n_opt),
            "D_opt": (full, d_opt),
            "tokens_per_param": (full, d_opt / n_opt),
            "loss_opt": (full, loss),
        },
        coords=coords,
    )
    ds["N_opt"].attrs = {"long_name": "compute-optimal parameters", "units": "parameters"}
    ds["D_opt"].attrs = {"long_name": "compute-optimal training tokens", "units": "tokens"}
    ds["tokens_per_param"].attrs = {"long_name": "tokens per parameter D*/N*"}
    ds["loss_opt"].attrs = {"long_name": "expected loss at the optimum", "units": "nats/token"}
    ds["compute"].attrs = {"long_name": "training compute", "units": "FLOPs"}
    return ds


def predict_loss(
    fit: Fit,
    *,
    kind: str = "mean",
    random_seed: int | None = None,
    **inputs: Any,
) -> xr.DataArray:
    """Posterior draws of the loss of planned runs.

    Parameters
    ----------
    fit : Fit
    kind : {"mean", "predictive"}
        ``"mean"``: the law's value L(N, D) for each draw (parameter uncertainty only).
        ``"predictive"``: a new observed loss, adding the fitted noise (Student-t or Normal on
        log-loss) to each draw.
    random_seed : int, optional
        Seed for the predictive noise.
    **inputs
        The law's inputs (``N=..., D=...``) as numbers or equal-length 1-D sequences; several
        values give a ``point`` dimension.

    Returns
    -------
    xarray.DataArray
        Over ``(chain, draw)`` for scalar inputs, ``(chain, draw, point)`` otherwise.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(seed=0)
    >>> loss = bs.predict_loss(fit, N=70e9, D=1.4e12, kind="predictive", random_seed=0)
    >>> loss.dims
    ('chain', 'draw')
    """
    law = fit.law
    if kind not in ("mean", "predictive"):
        raise ValueError(f"kind must be 'mean' or 'predictive', got {kind!r}")
    extra_cols = list(fit.likelihood.extra_columns) if kind == "predictive" else []
    unknown = sorted(set(inputs) - set(law.inputs) - set(fit.likelihood.extra_columns))
    missing = [k for k in (*law.inputs, *extra_cols) if k not in inputs]
    if unknown or missing:
        raise ValueError(
            f"law {law.name!r} takes inputs {list(law.inputs)}"
            + (f" (and {extra_cols} for predictive draws)" if extra_cols else "")
            + f"; missing {missing}, unknown {unknown}"
        )
    extra = {k: _as_1d(k, inputs.pop(k)) for k in list(inputs) if k not in law.inputs}
    scalar = all(np.ndim(v) == 0 for v in inputs.values())
    arrays = {k: _as_1d(k, v) for k, v in inputs.items()}
    sizes = {len(v) for v in arrays.values()}
    if len(sizes - {1}) > 1:
        raise ValueError(
            f"inputs must have equal lengths, got { {k: len(v) for k, v in arrays.items()} }"
        )
    q, dims, coords = _natural_draws(fit, keep_extra_dims=True)
    qb = {k: v[:, :, None, ...] if v.ndim > 2 else v[..., None] for k, v in q.items()}
    mu = law.log_mean(qb, numpy_ns, **{k: v[None, None, :] for k, v in arrays.items()})
    mu = np.broadcast_to(mu, (*mu.shape[:2], max(sizes)))
    if kind == "predictive":
        noise = {n: v.to_numpy()[..., None] for n, v in fit.params("noise").items()}
        rng = np.random.default_rng(random_seed)
        ext = {k: v[None, None, :] for k, v in extra.items()}
        values = fit.likelihood.inverse(fit.likelihood.sample(rng, mu, **noise, **ext), **ext)
    else:
        values = np.exp(mu)
    out = xr.DataArray(values, dims=(*dims, "point"), coords=coords, name=law.output)
    for k, v in arrays.items():
        out = out.assign_coords({k: ("point", np.broadcast_to(v, (max(sizes),)))})
    out.attrs = {"kind": kind}
    return out.isel(point=0, drop=True) if scalar else out
