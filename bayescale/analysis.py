"""Decisions as posterior distributions: compute-optimal allocation and predicted loss.

Every function here is a pure, vectorised function of posterior draws: no sampling, no plotting.
Results are ``xarray`` objects over ``(chain, draw, ...)``, so any summary (median, interval,
probability of a statement) is one reduction away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._api import check_seed, check_values, deprecated_args, keyword_hint, make_rng
from .fit import Fit
from .law import ScalingLaw
from .pooling import groupable
from .stacking import stackable
from .structure import FLOPS_PER_PARAM_TOKEN
from .xp import numpy_ns

__all__ = ["compute_optimal", "predict_loss"]


def _as_1d(
    name: str, values: Any, *, allow_zero: bool = False, positive: bool = True
) -> np.ndarray:
    """``values`` as a 1-D float array, checked (:func:`bayescale._api.check_values`)."""
    return check_values(name, values, allow_zero=allow_zero, positive=positive)


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


def _minimise(
    objective: Callable[[np.ndarray], np.ndarray],
    lo: Any,
    hi: Any,
    *,
    n_grid: int = 9,
    tol: float = 0.05,
    n_parabolic: int = 2,
) -> np.ndarray:
    """Minimiser of a unimodal ``objective`` on ``[lo, hi]``, elementwise (vectorised).

    ``objective`` is called with arrays of the broadcast shape of ``lo`` and ``hi`` and returns
    values of that shape; NaN counts as ``inf`` (an infeasible point). Every element is solved
    at once, with no Python loop over elements:

    1. a grid of ``n_grid`` points between ``lo`` and ``hi`` brackets the minimum;
    2. golden-section steps shrink each bracket to a width below ``tol`` (their number follows
       from the widest bracket);
    3. ``n_parabolic`` parabolic steps through the best point and its bracketing neighbours
       bring a smooth minimum to about 1e-8 (a strongly skewed one needs a few more); a
       parabolic point replaces the best one only where it lowers the objective and stays
       inside the bracket, so kinks (``min`` in a law) and infeasible (``inf``) points are safe.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))

    def f(u: np.ndarray) -> np.ndarray:
        values = np.asarray(objective(u), dtype=float)
        return np.where(np.isnan(values), np.inf, values)

    grid = np.linspace(0.0, 1.0, n_grid)
    us = lo[..., None] + (hi - lo)[..., None] * grid
    values = np.stack([f(us[..., i]) for i in range(n_grid)], axis=-1)
    k = np.clip(np.argmin(values, axis=-1), 1, n_grid - 2)[..., None]
    a = np.take_along_axis(us, k - 1, axis=-1)[..., 0]
    b = np.take_along_axis(us, k + 1, axis=-1)[..., 0]
    fa = np.take_along_axis(values, k - 1, axis=-1)[..., 0]
    fb = np.take_along_axis(values, k + 1, axis=-1)[..., 0]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c = b - ratio * (b - a)
    d = a + ratio * (b - a)
    fc, fd = f(c), f(d)
    width = float(np.max(b - a)) if a.size else 0.0
    steps = int(np.ceil(np.log(tol / width) / np.log(ratio))) if width > tol else 0
    for _ in range(steps):
        left = fc < fd  # the minimum lies in [a, d]
        a, fa = np.where(left, a, c), np.where(left, fa, fc)
        b, fb = np.where(left, d, b), np.where(left, fd, fb)
        new = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new = f(new)
        c, d = np.where(left, new, d), np.where(left, c, new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    # Bracketing triple around the best interior point, then parabolic steps.
    left = fc < fd
    x1, x2, x3 = np.where(left, a, c), np.where(left, c, d), np.where(left, d, b)
    f1, f2, f3 = np.where(left, fa, fc), np.where(left, fc, fd), np.where(left, fd, fb)
    for _ in range(n_parabolic):
        num = (x2 - x1) ** 2 * (f2 - f3) - (x2 - x3) ** 2 * (f2 - f1)
        den = (x2 - x1) * (f2 - f3) - (x2 - x3) * (f2 - f1)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = x2 - 0.5 * num / den
        v = np.where(np.isfinite(v) & (v > x1) & (v < x3), v, x2)
        fv = f(v)
        better = fv < f2
        on_left = v < x2
        # new triple: the better of (v, x2) in the middle, bracketed by its neighbours
        nx1 = np.where(better, np.where(on_left, x1, x2), np.where(on_left, v, x1))
        nf1 = np.where(better, np.where(on_left, f1, f2), np.where(on_left, fv, f1))
        nx3 = np.where(better, np.where(on_left, x2, x3), np.where(on_left, x3, v))
        nf3 = np.where(better, np.where(on_left, f2, f3), np.where(on_left, f3, fv))
        x2, f2 = np.where(better, v, x2), np.where(better, fv, f2)
        x1, f1, x3, f3 = nx1, nf1, nx3, nf3
    return x2


def _numeric_optimum(
    law: ScalingLaw,
    q: Mapping[str, np.ndarray],
    C: np.ndarray,
    flops: float,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Minimise the law along C = flops·N·D over u = log N, vectorised over draws and budgets.

    ``fixed`` holds the law's other inputs (e.g. unique tokens ``U``), broadcast against the
    budgets. Every (draw, budget) pair is solved at once by :func:`_minimise` on u between
    N = 1e3 and D = 1e3.
    """
    log_c = np.log(np.asarray(C, dtype=float) / flops)
    extra = {k: np.asarray(v, dtype=float) for k, v in (fixed or {}).items()}

    def objective(u: np.ndarray) -> np.ndarray:
        return law.log_mean(q, numpy_ns, N=np.exp(u), D=np.exp(log_c - u), **extra)

    shape = np.broadcast_shapes(
        *(np.shape(v) for v in q.values()), *(np.shape(v) for v in extra.values()), log_c.shape
    )
    lo = np.full(shape, np.log(1e3))
    hi = np.broadcast_to(log_c - np.log(1e3), shape)
    u = _minimise(objective, lo, hi)
    return {"N": np.exp(u), "D": np.exp(log_c - u)}


def _closed_form_applies(law: ScalingLaw, flops: float, fixed: Mapping[str, Any]) -> bool:
    """Whether the law's closed-form optimum answers: it assumes C = 6ND and inputs N, D only."""
    return law.optimum is not None and not fixed and flops == 6.0


def _optimum(
    law: ScalingLaw,
    q: Mapping[str, np.ndarray],
    compute: Any,
    flops_per_param_token: float,
    fixed: Mapping[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Compute-optimal ``(N*, D*)`` along C = flops·N·D, elementwise, broadcast together.

    ``q`` holds natural parameters, ``compute`` the budgets and ``fixed`` the law's inputs
    other than N and D (e.g. ``{"U": ...}``; empty for a law of N and D), all broadcasting
    against each other. Uses the law's closed form when it applies (no fixed inputs, 6 FLOPs
    per parameter-token), :func:`_numeric_optimum` otherwise.
    """
    needed = sorted(k for k in law.inputs if k not in ("N", "D"))
    if sorted(fixed) != needed:
        raise ValueError(
            f"law {law.name!r} has inputs {list(law.inputs)}: its optimum needs every input "
            f"other than N and D held fixed; got {sorted(fixed)}, need {needed}"
        )
    C = np.asarray(compute, dtype=float)
    if _closed_form_applies(law, flops_per_param_token, fixed):
        opt = law.optimum(numpy_ns, q, C)
        n, d = np.asarray(opt["N"], dtype=float), np.asarray(opt["D"], dtype=float)
    else:
        res = _numeric_optimum(law, q, C, flops_per_param_token, fixed)
        n, d = res["N"], res["D"]
    return tuple(np.broadcast_arrays(n, d))


def _held_mapping(where: str, fixed: Any) -> dict[str, Any]:
    """``fixed=`` (inputs held fixed) as a dict; ``None`` is none."""
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise ValueError(f"{where}: fixed must be a mapping such as {{'U': 25e9}}, got {fixed!r}")
    return dict(fixed)


def _fixed_inputs(
    law: ScalingLaw, n_budgets: int, fixed: Mapping[str, Any], keywords: Sequence[str] = ()
) -> dict:
    """Validate the inputs held fixed along the compute frontier (all law inputs but N, D);
    an unknown one close to one of the caller's ``keywords`` (``ci_prb`` given as a held
    input) is named with the keyword."""
    needed = [k for k in law.inputs if k not in ("N", "D")]
    unknown = sorted(set(fixed) - set(needed))
    missing = [k for k in needed if k not in fixed]
    if unknown or missing:
        raise ValueError(
            f"law {law.name!r} has inputs {list(law.inputs)}: compute_optimal needs every input "
            f"other than N and D in fixed={{...}} (held fixed along C = 6ND); missing {missing}, "
            f"unknown {unknown}" + keyword_hint(unknown, keywords, "compute_optimal()")
        )
    out = {}
    for k in needed:
        arr = np.asarray(fixed[k], dtype=float)
        if arr.ndim > 1 or (arr.ndim == 1 and len(arr) not in (1, n_budgets)):
            raise ValueError(
                f"{k} must be a number or a sequence with one value per budget ({n_budgets}), "
                f"got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)) or (k in law.required_positive and np.any(arr <= 0)):
            raise ValueError(f"{k} must be finite (and > 0 for a positive input), got {arr}")
        out[k] = np.broadcast_to(arr, (n_budgets,)).copy()
    return out


@deprecated_args(renamed={"C": "compute"}, into="fixed")
@stackable
@groupable
def compute_optimal(
    fit: Fit,
    compute: Any,
    *,
    method: str = "auto",
    flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN,
    fixed: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Posterior of the compute-optimal model size and tokens for each budget.

    Minimises the law's expected loss along ``C = 6·N·D`` for every posterior draw and budget —
    in closed form when the law has one (Chinchilla: G = (αA/(βB))^(1/(α+β)),
    N* = G·(C/6)^a, D* = G⁻¹·(C/6)^b), numerically otherwise: a grid, golden-section and a
    final parabolic step in log N, vectorised over all draws and budgets at once (4000 draws ×
    100 budgets take well under a second; see ``benchmarks/bench_optimum.py``). Any law with
    inputs N and D works; its other inputs are held fixed at the values given in ``fixed`` —
    the unique-token budget ``U`` of ``data_constrained`` (D may exceed U by repeating data;
    the result then has ``epochs`` = D*/U), the training precision ``P`` of ``precision``.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law with inputs ``N`` and ``D`` (a stack mixes its members' draws).
    compute : float or sequence of float
        Training budgets in FLOPs.
    method : {"auto", "closed_form", "numeric"}
        ``"auto"`` uses the closed form when the law has one.
    flops_per_param_token : float
        FLOPs per parameter per token (6 for the usual dense-transformer count).
    fixed : mapping, optional
        The law's inputs other than N and D, each a number or one value per budget
        (e.g. ``fixed={"U": 25e9}`` for ``data_constrained``). Passing them as keywords
        (``U=25e9``) is deprecated.

    Returns
    -------
    xarray.Dataset
        ``N_opt``, ``D_opt``, ``tokens_per_param`` (D*/N*) and ``loss_opt`` over
        ``(chain, draw, compute)``; ``epochs`` (D*/U) when the law has an input ``U``. The fixed
        inputs are coordinates along ``compute``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> opt = bs.compute_optimal(fit, compute=[1e21, 5.88e23])
    >>> opt["tokens_per_param"].sizes["compute"]
    2
    >>> float(opt["tokens_per_param"].sel(compute=5.88e23).median()) > 1
    True

    For ``data_constrained`` the unique-token budget is held fixed:
    ``bs.compute_optimal(fit, compute=1e22, fixed={"U": 25e9})`` (see
    ``examples/datablations_refit.py``).
    """
    law = fit.law
    if not {"N", "D"} <= set(law.inputs):
        raise ValueError(f"law {law.name!r} has inputs {law.inputs}; compute_optimal needs N and D")
    k = flops_per_param_token
    if isinstance(k, bool) or not isinstance(k, int | float) or not (np.isfinite(k) and k > 0):
        raise ValueError(f"flops_per_param_token must be a finite number > 0, got {k!r}")
    C = _as_1d("compute", compute)
    extra = _fixed_inputs(
        law, len(C), _held_mapping("compute_optimal", fixed), _COMPUTE_OPTIMAL_KEYWORDS
    )
    q, dims, coords = _natural_draws(fit)
    if len(dims) != 2:
        raise ValueError("compute_optimal expects scalar parameters over (chain, draw)")
    qb = {k: v[..., None] for k, v in q.items()}
    if method not in ("auto", "closed_form", "numeric"):
        raise ValueError(f"method must be 'auto', 'closed_form' or 'numeric', got {method!r}")
    if method == "closed_form" and law.optimum is None:
        raise ValueError(f"law {law.name!r} has no closed-form optimum; use method='numeric'")
    if method == "closed_form" and not _closed_form_applies(law, flops_per_param_token, extra):
        raise ValueError(
            f"law {law.name!r}: the closed-form optimum assumes C = 6ND and inputs N, D only; "
            "use method='numeric'"
        )
    if method == "numeric":
        res = _numeric_optimum(law, qb, C, flops_per_param_token, extra)
        n_opt, d_opt = res["N"], res["D"]
    else:
        n_opt, d_opt = _optimum(law, qb, C, flops_per_param_token, extra)
    shape = np.broadcast_shapes(n_opt.shape, d_opt.shape, (1, 1, len(C)))
    n_opt, d_opt = np.broadcast_to(n_opt, shape), np.broadcast_to(d_opt, shape)
    loss = law.evaluate(qb, N=n_opt, D=d_opt, **extra)
    full = (*dims, "compute")
    coords = {**coords, "compute": C, **{k: ("compute", v) for k, v in extra.items()}}
    data = {
        "N_opt": (full, n_opt),
        "D_opt": (full, d_opt),
        "tokens_per_param": (full, d_opt / n_opt),
        "loss_opt": (full, loss),
    }
    if "U" in extra:
        data["epochs"] = (full, d_opt / extra["U"])
    ds = xr.Dataset(data, coords=coords)
    if "U" in extra:
        ds["epochs"].attrs = {"long_name": "epochs over the unique tokens D*/U"}
    ds["N_opt"].attrs = {"long_name": "compute-optimal parameters", "units": "parameters"}
    ds["D_opt"].attrs = {"long_name": "compute-optimal training tokens", "units": "tokens"}
    ds["tokens_per_param"].attrs = {"long_name": "tokens per parameter D*/N*"}
    ds["loss_opt"].attrs = {"long_name": "expected loss at the optimum", "units": "nats/token"}
    ds["compute"].attrs = {"long_name": "training compute", "units": "FLOPs"}
    return ds


# the keywords of compute_optimal (a misspelt one reaches fixed= as an unknown held input)
_COMPUTE_OPTIMAL_KEYWORDS = ("compute", "method", "flops_per_param_token", "fixed", "group")


def _structure_terms(
    fit: Fit,
    inputs: Mapping[str, np.ndarray],
    groups: Mapping[str, Any] | None,
    rng: np.random.Generator,
) -> np.ndarray | float:
    """Group offsets, extrapolation drift and scatter of new points, per draw:
    ``(chain, draw, point)``.

    Drawn in a fixed order (group offsets by grouping, then the drift's sign and size, then the
    scatter's independent normal per point) so the same seed gives the same draws.
    """
    structure = fit.structure
    if structure.empty:
        return 0.0
    import pandas as pd

    post = fit.posterior
    n_points = len(next(iter(inputs.values())))
    frame = pd.DataFrame({k: np.asarray(v) for k, v in inputs.items()})
    extra_groups = dict(groups or {})
    unknown = sorted(set(extra_groups) - {g.column for g in structure.groupings})
    if unknown:
        raise ValueError(
            f"groups: {unknown} are not groupings of this fit "
            f"({[g.column for g in structure.groupings] or 'none'})"
        )
    for g in structure.groupings:
        if g.column in extra_groups:
            values = np.atleast_1d(np.asarray(extra_groups[g.column], dtype=object))
            if values.ndim != 1 or len(values) not in (1, n_points):
                raise ValueError(
                    f"groups[{g.column!r}] has {values.size} values for {n_points} point(s): "
                    "give one value, or one per point"
                )
            if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
                raise ValueError(f"groups[{g.column!r}] has a missing (None/NaN) value")
            frame[g.column] = np.broadcast_to(values, (n_points,))
        elif g.column not in frame and not (g.column == "C" and {"N", "D"} <= set(frame)):
            frame[g.column] = "<new group>"
    draws = {
        n: post[n].transpose("chain", "draw", ...).to_numpy() for n in structure.parameter_names()
    }
    total = structure.offsets(draws, structure.new_codes(frame), rng)
    if structure.drift:
        dist = structure.drift_factor(inputs)
        drift = draws["drift"]
        sign = rng.standard_normal(drift.shape)
        total = total + (drift * sign)[..., None] * dist
    if structure.scatter:  # independent per point (after the drift: its draws are unchanged)
        dist = structure.drift_factor(inputs)
        scatter = draws["scatter"]
        total = total + scatter[..., None] * dist * rng.standard_normal((*scatter.shape, n_points))
    return total


@stackable
@groupable
def predict_loss(
    fit: Fit,
    *,
    kind: str = "mean",
    random_seed: int | None = None,
    groups: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> xr.DataArray:
    """Posterior draws of the loss of planned runs.

    Parameters
    ----------
    fit : Fit or StackedFit
    kind : {"mean", "predictive"}
        ``"mean"``: the law's value L(N, D) for each draw (parameter uncertainty only).
        ``"predictive"``: a new observed loss: the law's value, plus the fit's structured
        terms (:mod:`bayescale.structure`: the offset of the run's group — the fitted one for a
        group of the fit, a new draw for a new group — and the extrapolation drift beyond the
        fitted runs), plus the fitted noise (Student-t or Normal on log-loss).
    random_seed : int, optional
        Seed for the predictive noise, new group offsets and drift.
    groups : mapping, optional
        Values of grouping columns that are not inputs (e.g. ``{"experiment": [...]}``) for the
        predictive draws; points without one form one new group. Groups by ``N`` or ``C`` are
        read from the inputs.
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
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> loss = bs.predict_loss(fit, N=70e9, D=1.4e12, kind="predictive", random_seed=0)
    >>> loss.dims
    ('chain', 'draw')
    """
    if not isinstance(fit, Fit):
        raise TypeError(f"predict_loss needs a Fit (or a StackedFit), got {type(fit).__name__}")
    law = fit.law
    if kind not in ("mean", "predictive"):
        raise ValueError(f"kind must be 'mean' or 'predictive', got {kind!r}")
    check_seed(random_seed)
    if groups is not None:
        if not isinstance(groups, Mapping):
            raise TypeError(
                f"groups must be a mapping of grouping column to values, e.g. "
                f"{{'experiment': 'web'}}, got {groups!r}"
            )
        known = [g.column for g in fit.structure.groupings]
        unknown = sorted(set(groups) - set(known))
        if unknown:
            raise ValueError(
                f"groups: {unknown} are not groupings of this fit ({known or 'it has none'})"
            )
        if groups and kind != "predictive":
            raise ValueError(
                "groups= enters predictive draws only (kind='predictive'); kind='mean' is the "
                "law's own value, which no group offset changes"
            )
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
    arrays = {k: _as_1d(k, v, positive=k in law.required_positive) for k, v in inputs.items()}
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
        rng = make_rng(random_seed)
        n_points = max(sizes)
        full = {k: np.broadcast_to(v, (n_points,)) for k, v in arrays.items()}
        mu = mu + _structure_terms(fit, full, groups, rng)
        ext = {k: v[None, None, :] for k, v in extra.items()}
        values = fit.likelihood.inverse(fit.likelihood.sample(rng, mu, **noise, **ext), **ext)
    else:
        values = np.exp(mu)
    out = xr.DataArray(values, dims=(*dims, "point"), coords=coords, name=law.output)
    for k, v in arrays.items():
        out = out.assign_coords({k: ("point", np.broadcast_to(v, (max(sizes),)))})
    out.attrs = {"kind": kind}
    return out.isel(point=0, drop=True) if scalar else out


@stackable
def noise_draws(fit: Fit, *, random_seed: int | None = 0) -> xr.DataArray:
    """One draw of the fitted noise around zero per posterior draw, on the observed scale
    (the log output for a loss): the spread a run shows around the law. A
    :class:`~bayescale.StackedFit` mixes each member's draws from its own likelihood.

    Examples
    --------
    >>> import bayescale as bs
    >>> eps = noise_draws(bs.testing.pinned_fit(random_seed=0), random_seed=0)
    >>> eps.dims, bool(0.005 < float(abs(eps).median()) < 0.02)
    (('chain', 'draw'), True)
    """
    noise = {k: v.transpose("chain", "draw") for k, v in fit.params("noise").items()}
    if not noise:
        raise ValueError(
            f"the {fit.likelihood.name!r} likelihood has no noise parameters to draw from"
        )
    first = next(iter(noise.values()))
    flat = {k: v.to_numpy().reshape(-1) for k, v in noise.items()}
    rng = np.random.default_rng(random_seed)
    eps = fit.likelihood.sample(rng, np.zeros(first.size), **flat)
    return xr.DataArray(
        np.asarray(eps, dtype=float).reshape(first.shape),
        dims=("chain", "draw"),
        coords={d: first[d].to_numpy() for d in ("chain", "draw")},
        name="noise",
    )
