"""Emergent abilities as posterior distributions: thresholds, loss→accuracy chains, metric choice.

Every function is a vectorised function of posterior draws (no sampling):

* :func:`emergence_threshold` — draws of the scale at which an ``emergence`` fit's expected
  accuracy crosses a level (absolute, or a fraction of the way from floor to ceiling), with
  P(emerged by scale X). Draws whose curve never reaches the level are kept, as +inf.
* :func:`threshold_summary` — median and central interval of those draws, and the share that
  never reaches the level.
* :func:`predict_accuracy` — accuracy draws of any accuracy law at new inputs.
* :func:`chain` — forecast the accuracy of a planned run from a loss fit and a ``downstream``
  fit, pairing posterior draws of both (or from their posterior means, ``method="plugin"``).
* :func:`exact_match`, :func:`per_token`, :func:`metric_choice` — Schaeffer et al. (2023): an
  exact-match metric over L tokens turns a smooth per-token accuracy p(X) into p(X)^L, a much
  sharper curve; :func:`metric_choice` gives both thresholds and transition widths from one fit.
* :func:`task_runs` — one task column of a benchmark table as runs for an accuracy law.
* :func:`pinned_emergence_fit` — an ``emergence`` fit pinned near known values (no MCMC), for
  documentation and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_number, deprecated_args, make_rng
from .analysis import predict_loss
from .emergence_chain import _flat_params, chain  # noqa: F401  (moved; old import paths kept)
from .fit import Fit
from .pooling import groupable
from .stacking import stackable
from .xp import numpy_ns

__all__ = [
    "chain",
    "emergence_threshold",
    "exact_match",
    "metric_choice",
    "per_token",
    "pinned_emergence_fit",
    "predict_accuracy",
    "task_runs",
    "threshold_summary",
]

_BOUNDS = ("T", "k", "floor", "ceiling")


def _emergence_params(fit: Fit) -> dict[str, xr.DataArray]:
    if fit.law.name != "emergence":
        raise ValueError(f"this function needs a fit of the 'emergence' law, got {fit.law.key!r}")
    params = fit.params("natural")
    return {k: params[k].transpose("chain", "draw") for k in _BOUNDS}


def _check_unit(name: str, value: float, *, open_low: bool = True) -> float:
    return check_number(value, name, high=1.0, low_open=open_low)


def _crossing(T: Any, k: Any, floor: Any, ceiling: Any, level: Any) -> np.ndarray:
    """log10 X at which floor + (ceiling − floor)·σ(k(log10 X − T)) equals ``level``.

    +inf where the level is at or above the ceiling (never reached), −inf where it is at or
    below the floor (reached at every scale).
    """
    T, k, floor, ceiling, level = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (T, k, floor, ceiling, level))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (level - floor) / (ceiling - floor)
        inside = (u > 0.0) & (u < 1.0)
        uc = np.where(inside, u, 0.5)
        x = T + (np.log(uc) - np.log1p(-uc)) / k
    return np.where(inside, x, np.where(u >= 1.0, np.inf, -np.inf))


def _recount_threshold(ds: xr.Dataset) -> xr.Dataset:
    """``p_emerged`` and the never-reached counts of an :func:`emergence_threshold` result,
    recomputed from its draws (after they were mixed over a stack)."""
    log10_x = ds["log10_threshold"].to_numpy().reshape(-1)
    if "p_emerged" in ds:
        emerged = log10_x[:, None] <= np.log10(ds["scale"].to_numpy())[None, :]
        ds["p_emerged"] = ds["p_emerged"].copy(data=emerged.mean(axis=0))
    n = int(log10_x.size)
    never = int((log10_x == np.inf).sum())
    ds.attrs.update(
        {"n_draws": n, "n_never_reached": never, "p_never_reached": never / n if n else np.nan}
    )
    return ds


@deprecated_args(positional=("level",))
@stackable(finish=_recount_threshold)
@groupable
def emergence_threshold(
    fit: Fit,
    *,
    level: float = 0.5,
    relative: bool = False,
    by: Any = None,
) -> xr.Dataset:
    """Posterior draws of the scale at which the expected accuracy crosses ``level``.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fit of the ``emergence`` law (a stack of them mixes their draws). For a fit with
        groups (``bs.fit(..., group="family", pool=...)``): ``group="label"`` gives one group's
        threshold, ``group=bs.NEW_GROUP`` a new group's (seeded by ``random_seed``), and no
        ``group`` every group's along a ``group`` dimension.
    level : float
        Accuracy level in (0, 1): an absolute accuracy, or with ``relative=True`` the fraction
        of the way from the floor (chance) to the ceiling (``relative=True, level=0.5`` gives the
        midpoint T).
    relative : bool
        Interpret ``level`` relative to each draw's floor and ceiling.
    by : float or sequence of float, optional
        Scales (in units of the law's input, e.g. FLOPs) at which to report P(emerged by X).

    Returns
    -------
    xarray.Dataset
        ``threshold`` (scale, in units of X) and ``log10_threshold`` over ``(chain, draw)``;
        ``reached`` (bool): whether the draw's curve reaches the level at a finite scale. Draws
        whose ceiling is at or below an absolute level never reach it: their threshold is +inf
        (kept, so that quantiles and probabilities count them); draws whose floor is at or above
        it have reached it at every scale (threshold 0, log10 −inf). With ``by``: ``p_emerged``
        over ``scale``, the posterior probability that the threshold is at or below each scale
        (never-reached draws count as not emerged). ``attrs`` hold ``level``, ``relative``,
        ``x``, ``n_draws``, ``n_never_reached`` and ``p_never_reached``.

    Raises
    ------
    ValueError
        A fit of another law, or a level outside (0, 1).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.emergence.pinned_emergence_fit(random_seed=0)  # T = 22, k = 2, floor 0, ceil 0.9
    >>> thr = bs.emergence_threshold(fit, level=0.45, by=[1e21, 1e23])
    >>> round(float(thr["log10_threshold"].median()), 1)
    22.0
    >>> thr["p_emerged"].values.round(2).tolist()
    [0.0, 1.0]
    >>> bs.emergence_threshold(fit, level=0.95).attrs["p_never_reached"]  # above the ceiling
    1.0
    """
    p = _emergence_params(fit)
    level = _check_unit("level", level)
    if relative:
        absolute = p["floor"] + level * (p["ceiling"] - p["floor"])
    else:
        absolute = xr.full_like(p["T"], level)
    log10_x = _crossing(p["T"], p["k"], p["floor"], p["ceiling"], absolute)
    return _threshold_dataset(fit, p["T"], log10_x, by, level=level, relative=relative)


def _threshold_dataset(
    fit: Fit, template: xr.DataArray, log10_x: np.ndarray, by: Any, **attrs: Any
) -> xr.Dataset:
    dims = ("chain", "draw")
    coords = {d: template[d].to_numpy() for d in dims}
    with np.errstate(over="ignore"):
        scale = np.power(10.0, log10_x)
    reached = log10_x < np.inf
    ds = xr.Dataset(
        {
            "threshold": (dims, scale),
            "log10_threshold": (dims, log10_x),
            "reached": (dims, reached),
        },
        coords=coords,
    )
    x = fit.law.inputs[0]
    if by is not None:
        grid = np.atleast_1d(np.asarray(by, dtype=float))
        if grid.ndim != 1 or not np.all(np.isfinite(grid) & (grid > 0)):
            raise ValueError(f"by must be positive finite scales, got {by!r}")
        emerged = log10_x.reshape(-1)[:, None] <= np.log10(grid)[None, :]
        ds["p_emerged"] = (("scale",), emerged.mean(axis=0))
        ds = ds.assign_coords(scale=grid)
        ds["p_emerged"].attrs = {"long_name": f"P(emerged by {x})"}
    n = int(log10_x.size)
    never = int((~reached).sum())
    ds["threshold"].attrs = {"long_name": f"emergence threshold in {x}", "units": x}
    ds.attrs.update(
        {
            **attrs,
            "x": x,
            "n_draws": n,
            "n_never_reached": never,
            "p_never_reached": never / n if n else float("nan"),
        }
    )
    return ds


@deprecated_args(renamed={"prob": "ci_prob"}, positional=("ci_prob",))
def threshold_summary(threshold: xr.Dataset, *, ci_prob: float = CI_PROB) -> dict[str, float]:
    """Median and central ``ci_prob`` interval of a threshold posterior, never-reached draws
    counted.

    Quantiles are taken over all draws with never-reached draws at +inf, so a bound is ``inf``
    when more than that share of the posterior never reaches the level.

    Returns
    -------
    dict
        ``median``, ``lo``, ``hi`` (in units of X), ``log10_median``, ``log10_lo``,
        ``log10_hi`` and ``p_never_reached``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    >>> s = bs.emergence.threshold_summary(bs.emergence_threshold(fit, level=0.45))
    >>> round(s["log10_median"], 1), s["p_never_reached"]
    (22.0, 0.0)
    """
    ci_prob = _check_unit("ci_prob", ci_prob)
    values = np.sort(np.asarray(threshold["log10_threshold"]).ravel())
    qs = np.quantile(values, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], method="inverted_cdf")
    lo, mid, hi = (float(v) for v in qs)
    with np.errstate(over="ignore"):
        return {
            "median": float(10.0**mid),
            "lo": float(10.0**lo),
            "hi": float(10.0**hi),
            "log10_median": mid,
            "log10_lo": lo,
            "log10_hi": hi,
            "p_never_reached": float(
                threshold.attrs.get("p_never_reached", np.mean(values == np.inf))
            ),
        }


@groupable
def predict_accuracy(
    fit: Fit, *, kind: str = "mean", random_seed: int | None = None, **inputs: Any
) -> xr.DataArray:
    """Posterior draws of the accuracy at new inputs (:func:`~bayescale.predict_loss` for
    accuracy laws, capped at 1).

    ``kind="mean"`` gives the expected accuracy of each draw; ``"predictive"`` a new observed
    accuracy (count likelihoods need ``n_items=``). A fit with groups answers per group, for
    ``group="label"`` or for a new group (``group=bs.NEW_GROUP``), as ``predict_loss`` does.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    >>> acc = bs.predict_accuracy(fit, C=[1e21, 1e22, 1e23])
    >>> acc.median(("chain", "draw")).values.round(2).tolist()
    [0.11, 0.45, 0.79]
    """
    lik = getattr(fit, "likelihood", None)
    if lik is not None and lik.output_domain == "positive":
        raise ValueError(
            f"predict_accuracy needs a fit of an accuracy law (emergence, downstream, ...); "
            f"law {fit.law.name!r} predicts {fit.law.output!r} (use bs.predict_loss)"
        )
    out = predict_loss(fit, kind=kind, random_seed=random_seed, **inputs)
    return out.clip(max=1.0)


# ---------------------------------------------------------------------- metric choice
def _length(length: Any) -> int:
    if isinstance(length, bool) or int(length) != length or int(length) < 1:
        raise ValueError(f"length must be a positive whole number of tokens, got {length!r}")
    return int(length)


def _unit_array(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if not np.all((arr >= 0.0) & (arr <= 1.0)):
        raise ValueError(f"{name} must lie in [0, 1]")
    return arr


def exact_match(per_token_accuracy: Any, length: int) -> Any:
    """Exact-match accuracy of an answer of ``length`` tokens, each right with the given
    probability independently: p^L (Schaeffer et al. 2023).

    Examples
    --------
    >>> import bayescale as bs
    >>> bs.emergence.exact_match([0.5, 0.9, 0.99], length=10).round(3).tolist()
    [0.001, 0.349, 0.904]
    """
    return np.power(_unit_array("per_token_accuracy", per_token_accuracy), _length(length))


def per_token(exact_match_accuracy: Any, length: int) -> Any:
    """The per-token accuracy implied by an exact-match accuracy over ``length`` tokens: a^(1/L).

    Examples
    --------
    >>> import bayescale as bs
    >>> round(float(bs.emergence.per_token(0.349, length=10)), 3)
    0.9
    """
    return np.power(
        _unit_array("exact_match_accuracy", exact_match_accuracy), 1.0 / _length(length)
    )


def metric_choice(
    per_token_fit: Fit,
    length: int,
    *,
    level: float = 0.5,
    relative: bool = True,
    x: Any = None,
) -> xr.Dataset:
    """The same capability seen through two metrics: per-token accuracy and exact match.

    From a fit of the ``emergence`` law to per-token accuracy p(X), the exact-match accuracy over
    ``length`` tokens is p(X)^L. For each posterior draw this returns the threshold of both
    curves at ``level`` and the width (decades of X) over which each moves from 10% to 90% of
    the way from its floor to its ceiling. The exact-match curve sits at its floor over the
    scales where the per-token accuracy already climbs steadily, crosses the level later, and
    rises over fewer decades: an apparent "emergence" produced by the metric, not by an abrupt
    change in the model.

    Parameters
    ----------
    per_token_fit : Fit
        An ``emergence`` fit to per-token accuracy.
    length : int
        Answer length in tokens.
    level : float
        Level of the thresholds; relative to each curve's own floor and ceiling when
        ``relative`` (default), else an absolute accuracy for both curves.
    relative : bool
    x : array-like, optional
        Scales at which to return both expected-accuracy curves.

    Returns
    -------
    xarray.Dataset
        ``per_token_threshold``, ``exact_match_threshold`` (log10 X; +inf if never reached),
        ``per_token_width``, ``exact_match_width`` (decades) over ``(chain, draw)``; with ``x``,
        ``per_token_accuracy`` and ``exact_match_accuracy`` over ``(chain, draw, x)``.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.emergence.pinned_emergence_fit(random_seed=0, truth={"T": 21.0, "k": 0.8,
    ...     "floor": 0.0, "ceiling": 0.98})
    >>> mc = bs.emergence.metric_choice(fit, length=8)
    >>> med = mc.median()
    >>> [round(float(med[v]), 1) for v in ("per_token_threshold", "exact_match_threshold")]
    [21.0, 24.0]
    >>> [round(float(med[v]), 1) for v in ("per_token_width", "exact_match_width")]
    [5.5, 4.0]
    """
    L = _length(length)
    level = _check_unit("level", level)
    p = _emergence_params(per_token_fit)
    T, k, f, c = (p[n].to_numpy() for n in _BOUNDS)
    fe, ce = f**L, c**L

    def exact_crossing(r: float) -> np.ndarray:
        a = fe + r * (ce - fe) if relative else np.full_like(T, r)
        with np.errstate(divide="ignore"):
            return _crossing(T, k, f, c, np.power(a, 1.0 / L))

    pt_level = f + level * (c - f) if relative else np.full_like(T, level)
    # the law's derived 10–90% width, in decades
    width = per_token_fit.law.derived_params(dict(zip(_BOUNDS, (T, k, f, c), strict=True)))["width"]
    dims = ("chain", "draw")
    ds = xr.Dataset(
        {
            "per_token_threshold": (dims, _crossing(T, k, f, c, pt_level)),
            "exact_match_threshold": (dims, exact_crossing(level)),
            "per_token_width": (dims, width),
            "exact_match_width": (
                dims,
                _crossing(T, k, f, c, np.power(fe + 0.9 * (ce - fe), 1.0 / L))
                - _crossing(T, k, f, c, np.power(fe + 0.1 * (ce - fe), 1.0 / L)),
            ),
        },
        coords={d: p["T"][d].to_numpy() for d in dims},
    )
    if x is not None:
        grid = np.atleast_1d(np.asarray(x, dtype=float))
        acc = np.exp(
            per_token_fit.law.log_mean(
                {n: v[..., None] for n, v in zip(_BOUNDS, (T, k, f, c), strict=True)},
                numpy_ns,
                **{per_token_fit.law.inputs[0]: grid},
            )
        )
        ds = ds.assign_coords(x=grid)
        ds["per_token_accuracy"] = ((*dims, "x"), acc)
        ds["exact_match_accuracy"] = ((*dims, "x"), acc**L)
    ds.attrs = {"length": L, "level": level, "relative": relative}
    return ds


# ---------------------------------------------------------------------- data helpers
def task_runs(
    data: pd.DataFrame,
    column: str,
    *,
    x: str = "C",
    scale: float = 1.0,
    output: str = "accuracy",
) -> pd.DataFrame:
    """One task column of a benchmark table as runs for an accuracy law.

    Keeps the rows where both ``x`` and ``column`` are known, divides the scores by ``scale``
    (e.g. 100 for a 0–100 score) and names the result ``output``. The number of rows dropped
    for a missing scale or a missing score is in ``attrs["dropped"]``.

    Raises
    ------
    ValueError
        A missing column, or a task column with no known value at a known scale.

    Examples
    --------
    >>> import pandas as pd, bayescale as bs
    >>> t = pd.DataFrame({"C": [1e20, None, 1e22], "task": [0.1, 0.2, None]})
    >>> runs = bs.emergence.task_runs(t, "task")
    >>> runs.to_dict("list"), runs.attrs["dropped"]
    ({'C': [1e+20], 'accuracy': [0.1]}, {'missing C': 1, 'missing task': 1})
    """
    for name in (x, column):
        if name not in data.columns:
            raise ValueError(f"no column {name!r}; available: {[str(c) for c in data.columns]}")
    xs = pd.to_numeric(data[x], errors="coerce")
    ys = pd.to_numeric(data[column], errors="coerce")
    if ys.isna().all():
        raise ValueError(f"task column {column!r} has no values (all {len(ys)} are missing)")
    known_x = xs.notna()
    keep = known_x & ys.notna()
    if not keep.any():
        raise ValueError(f"task column {column!r} has no values at a known {x!r}")
    out = pd.DataFrame({x: xs[keep], output: ys[keep] / float(scale)})
    out.attrs["dropped"] = {
        f"missing {x}": int((~known_x).sum()),
        f"missing {column}": int((known_x & ys.isna()).sum()),
    }
    return out


@deprecated_args(renamed={"seed": "random_seed"})
def pinned_emergence_fit(
    random_seed: int = 0,
    *,
    truth: Mapping[str, float] | None = None,
    law: str = "emergence",
    chains: int = 2,
    draws: int = 200,
    rel_sd: float = 0.01,
) -> Fit:
    """A fit of an accuracy law whose posterior is pinned near ``truth`` (no MCMC).

    ``law="emergence"``: accuracy against compute C with the floor of ``truth`` held fixed
    (default truth T = 22, k = 2, floor 0, ceiling 0.9); ``law="downstream"``: the exponential
    form against loss with floor 0.25 (default truth eps = 0.75, gamma = 3, L0 = 1.6). Runs are
    simulated with the binomial likelihood (``n_items`` = 500) and each sampled parameter gets
    Gaussian jitter of relative size ``rel_sd``.

    Examples
    --------
    >>> import bayescale as bs
    >>> f = bs.emergence.pinned_emergence_fit(random_seed=0)
    >>> round(float(f.posterior["T"].mean()), 1)
    22.0
    """
    from .law import get_law
    from .testing import fit_from_draws, simulate

    rng = make_rng(random_seed)
    if law == "emergence":
        truth = dict(truth or {"T": 22.0, "k": 2.0, "floor": 0.0, "ceiling": 0.9})
        model = get_law("emergence", x="C", floor=float(truth["floor"]))
        design = pd.DataFrame({"C": np.logspace(19, 25, 24), "n_items": 500.0})
    elif law == "downstream":
        model = get_law("downstream", form="exponential", floor=0.25)
        truth = dict(truth or {"eps": 0.75, "gamma": 3.0, "L0": 1.6})
        truth["k"] = truth["eps"] * np.exp(truth["gamma"] * truth["L0"])
        design = pd.DataFrame({"loss": np.linspace(1.9, 3.5, 24), "n_items": 500.0})
    else:
        raise ValueError(f"law must be 'emergence' or 'downstream', got {law!r}")
    runs = simulate(model, truth, design, likelihood="binomial", random_seed=random_seed)

    def jittered(ref: Mapping[str, float]) -> dict[str, np.ndarray]:
        if law == "emergence":
            f = truth["floor"]
            centre = {
                "T_offset": truth["T"] - ref["log10X_ref"],
                "k": truth["k"],
                "ceiling_frac": (truth["ceiling"] - f) / (1.0 - f),
            }
        else:
            centre = {"gamma": truth["gamma"], "delta": ref["L_min"] - truth["L0"]}
        values = {
            n: v + rel_sd * max(abs(v), 0.1) * rng.standard_normal((chains, draws))
            for n, v in centre.items()
            if n in model.parameter_names
        }
        if "ceiling_frac" in values:
            values["ceiling_frac"] = values["ceiling_frac"].clip(1e-6, 1.0 - 1e-9)
        return values

    return fit_from_draws(model, runs, jittered, likelihood="binomial", random_seed=random_seed)
