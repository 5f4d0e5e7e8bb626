"""Held-out scoring of a fit, with or without groups: intervals and log predictive density.

:func:`score_holdout` predicts runs a fit has not seen (the models above a compute cutoff, say)
and scores each one: the median and central ``ci_prob`` interval of a new observation, whether
the observed value falls inside, and the log predictive density of the observed value,
``log (1/S) Σ_s p(y | θ_s)`` over the ``S`` posterior draws — the held-out counterpart of
ELPD-LOO, summed over runs to compare models on the same hold-out (higher is better).

For a fit with groups (``bs.fit(..., group="family", pool=...)``, :mod:`bayescale.pooling`) the
group of each held-out run is read from the runs: a group the fit has seen keeps its own
values; a group it has not seen is a new group of the population (``bs.NEW_GROUP``), one draw of
the new group's values per posterior draw, shared by every run of that group (so two models of
one new family move together), independent between new groups.

The density is that of the reported output ``y`` (an accuracy in [0, 1], a loss): the
likelihood's density of its observed variable times the Jacobian of the map from ``y`` (the Beta
likelihood's squeeze, the log of a loss); count likelihoods give the probability of the count.
For a fit with structured terms (:mod:`bayescale.structure`: the extrapolation drift of the
default model, group offsets) each draw's predictive is the likelihood convolved with a normal
shift: a fitted group's offset is known per draw, a new group's offset and the drift at the run's
distance beyond the fitted range are ``Normal(0, sd²)`` per draw. That one-dimensional integral is
taken by the trapezoid rule on a grid around both the shift's and the noise's centres
(checked against the closed form for Normal noise and scipy's adaptive quadrature for Student-t
noise, tails included, in ``tests/test_holdout_structure.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from ._api import CI_PROB, check_ci_prob, check_seed
from .analysis import predict_loss
from .data import prepare_data
from .fit import Fit
from .pooling import NEW_GROUP, group_view

__all__ = ["grouped_predictive_draws", "score_holdout"]

#: Nodes of each of the two grids the normal shift is integrated on (structured fits).
GRID_NODES = 161


def _log_jacobian(likelihood: Any, y: np.ndarray) -> np.ndarray:
    """log |d obs / d y| of the likelihood's map from the output to its observed variable."""
    if likelihood.name == "beta":
        from .likelihoods import SQUEEZE

        return np.full(y.shape, np.log1p(-2.0 * SQUEEZE))
    if likelihood.observed_prefix == "log_":
        return -np.log(y)
    return np.zeros(y.shape)  # counts: a probability, no Jacobian


def _view_seed(random_seed: int, k: int) -> int:
    """Seed of the ``k``-th new group's draws (independent streams per new group)."""
    ss = np.random.SeedSequence(random_seed, spawn_key=(k,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _structure_shift(view: Fit, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the structured terms' normal shift of each run, per draw: ``(S, n)``.

    A fitted group's offset is known per draw (the mean); a new group's offset (sd ``group_sd``)
    and the drift at the run's distance (sd ``drift · distance ** drift_power``) are the spread,
    with the scatter's ``scatter · distance ** drift_power`` (independent per run: each run's
    marginal shift is still one normal).
    """
    structure, post = view.structure, view.posterior
    n = len(rows)
    mean = np.zeros((view.n_draws, n))
    var = np.zeros((view.n_draws, n))
    if structure.groupings:
        frame = rows.copy()
        for g in structure.groupings:
            if g.column not in frame and not (g.column == "C" and {"N", "D"} <= set(frame)):
                frame[g.column] = "<new group>"
        codes = structure.new_codes(frame)
        for g in structure.groupings:
            sd = post[g.sd_name].transpose("chain", "draw").to_numpy().reshape(-1, 1)
            z = post[g.z_name].transpose("chain", "draw", ...).to_numpy()
            z = z.reshape(view.n_draws, -1)
            code = np.asarray(codes[g.index_name])
            seen = code >= 0
            mean[:, seen] += sd * z[:, code[seen]]
            var[:, ~seen] += sd**2
    if structure.drift:
        inputs = {k: rows[k].to_numpy(dtype=float) for k in view.law.inputs}
        drift = post["drift"].transpose("chain", "draw").to_numpy().reshape(-1, 1)
        var += (drift * structure.drift_factor(inputs)[None, :]) ** 2
    if structure.scatter:  # independent per run: its variance adds, the marginal stays normal
        inputs = {k: rows[k].to_numpy(dtype=float) for k in view.law.inputs}
        scatter = post["scatter"].transpose("chain", "draw").to_numpy().reshape(-1, 1)
        var += (scatter * structure.drift_factor(inputs)[None, :]) ** 2
    return mean, np.sqrt(var)


def _shift_grid() -> tuple[np.ndarray, np.ndarray]:
    """Standardised grids for the shift integral: ±12 sds of the normal, ±200 noise scales
    (the Student-t's peak and shoulders), both densest at their centre."""
    normal = 12.0 * np.sinh(np.linspace(-3.0, 3.0, GRID_NODES)) / np.sinh(3.0)
    noise = 200.0 * np.sinh(np.linspace(-6.0, 6.0, GRID_NODES)) / np.sinh(6.0)
    return normal, noise


def _log_density(
    lik: Any,
    obs: np.ndarray,
    mu: np.ndarray,
    noise: dict[str, np.ndarray],
    extra: dict[str, np.ndarray],
    shift: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """``log p(obs_i | draw s)`` per draw and run, ``(S, n)``, the normal shift integrated out.

    ``∫ p(obs | mu + δ) N(δ; mean, sd²) dδ`` by the trapezoid rule in log space on the union of
    two grids: one around the shift's mean scaled by ``sd``, and, for location-scale noise
    (Student-t, Normal), one around the noise's own centre ``obs − mu`` scaled by ``sigma``, so
    that the narrower of the two peaks is resolved and a run in either tail is integrated where
    its density lies.
    """
    if shift is None:
        return lik.logpdf(obs[None, :], mu, **noise, **{k: v[None, :] for k, v in extra.items()})
    mean, sd = shift
    g_normal, g_noise = _shift_grid()
    located = lik.name in ("normal", "studentt")
    out = np.empty(mu.shape)
    for i in range(mu.shape[1]):  # one run at a time: (S, nodes) stays small
        ex = {k: v[i] for k, v in extra.items()}
        spread = sd[:, i] > 0
        if (~spread).any():  # no shift to integrate (a fitted group inside the fitted range)
            nz = {k: v[~spread, 0] for k, v in noise.items()}
            out[~spread, i] = lik.logpdf(obs[i], mu[~spread, i] + mean[~spread, i], **nz, **ex)
        if not spread.any():
            continue
        m, s = mean[spread, i, None], sd[spread, i, None]
        nz = {k: v[spread] for k, v in noise.items()}
        nodes = [m + s * g_normal[None, :]]
        if located:
            nodes.append(obs[i] - mu[spread, i, None] + nz["sigma"] * g_noise[None, :])
        delta = np.sort(np.concatenate(nodes, axis=1), axis=1)
        logf = lik.logpdf(obs[i], mu[spread, i, None] + delta, **nz, **ex)
        logf = logf - 0.5 * ((delta - m) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)
        pair = np.logaddexp(logf[:, 1:], logf[:, :-1]) - np.log(2.0)
        width = np.log(np.maximum(np.diff(delta, axis=1), 1e-300))
        out[spread, i] = logsumexp(pair + width, axis=1)
    return out


def _group_parts(fit: Fit, runs: pd.DataFrame, seed: int) -> tuple[np.ndarray, list, list]:
    """Each run's group label (text), whether the fit saw it, and per label ``(rows, view,
    seed of its predictive draws)``: a seen group's :func:`group_view`, an unseen one's new
    group (its own stream, shared by the label's runs)."""
    pooling = fit.pooling
    labels = runs[pooling.column].astype(str).to_numpy()
    known = {str(v) for v in pooling.labels}
    by_label = {str(v): v for v in pooling.labels}
    parts = []
    for k, label in enumerate(pd.unique(labels)):
        where = np.flatnonzero(labels == label)
        if label in known:
            view = group_view(fit, by_label[label])
        else:
            view = group_view(fit, NEW_GROUP, random_seed=_view_seed(seed, k))
        parts.append((where, view, _view_seed(seed, 1_000_000 + k)))
    return labels, [v in known for v in labels], parts


def grouped_predictive_draws(
    fit: Fit,
    runs: pd.DataFrame,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    random_seed: int,
) -> xr.DataArray:
    """Predictive draws ``(chain, draw, point)`` of ``runs`` under a pooled fit, each run in its
    own group (its group column): a group the fit has seen with that group's values, an unseen
    one as a new group of the population — one draw of its values per posterior draw, shared
    by every run of that group, independent between new groups (as :func:`score_holdout`).
    ``inputs`` (default: the law's input columns of ``runs``) are the values predicted at; the
    runs' columns of the fit's structured group offsets (``groups=``) are passed on.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(40, random_seed=0)
    >>> runs["corpus"] = ["a", "b"] * 20
    >>> fit = bs.fit("chinchilla", runs, group="corpus", draws=60, tune=60, chains=1,
    ...              random_seed=0, progressbar=False, warn=False)
    >>> new = runs.iloc[:4].assign(corpus=["a", "a", "z", "z"])
    >>> grouped_predictive_draws(fit, new, random_seed=0).sizes["point"]
    4
    """
    law = fit.law
    if fit.pooling is None:
        raise ValueError("grouped_predictive_draws needs a fit with groups (bs.fit(..., group=))")
    if fit.pooling.column not in runs.columns:
        raise ValueError(
            f"the runs have no group column {fit.pooling.column!r} (the fit's group=); "
            f"columns: {[str(c) for c in runs.columns]}"
        )
    if inputs is None:
        inputs = {k: runs[k].to_numpy(dtype=float) for k in law.inputs}
    _, _, parts = _group_parts(fit, runs, int(random_seed))
    out = None
    for where, view, s in parts:
        part_inputs = {k: np.asarray(v)[where] for k, v in inputs.items()}
        groups = {
            g.column: runs[g.column].to_numpy()[where]
            for g in fit.structure.groupings
            if g.column in runs.columns and g.column not in part_inputs
        }
        draws = predict_loss(view, kind="predictive", random_seed=s, groups=groups, **part_inputs)
        if "point" not in draws.dims:
            draws = draws.expand_dims(point=1, axis=-1)
        draws = draws.transpose("chain", "draw", "point")
        if out is None:
            out = np.full((draws.sizes["chain"], draws.sizes["draw"], len(runs)), np.nan)
        out[..., where] = draws.to_numpy()
    return xr.DataArray(out, dims=("chain", "draw", "point"), name=law.output)


def _score(view: Fit, rows: pd.DataFrame, ci_prob: float, seed: int) -> dict[str, np.ndarray]:
    law, lik = view.law, view.likelihood
    inputs = {k: rows[k].to_numpy(dtype=float) for k in law.inputs}
    extra = {k: rows[k].to_numpy(dtype=float) for k in lik.extra_columns}
    y = rows[law.output].to_numpy(dtype=float)
    mean = predict_loss(view, kind="mean", **inputs).transpose("chain", "draw", "point")
    mu = np.log(mean.to_numpy().reshape(-1, len(rows)))
    noise = {k: v.to_numpy().reshape(-1, 1) for k, v in view.params("noise").items()}
    obs = lik.transform(y, **extra)
    shift = None if view.structure.empty else _structure_shift(view, rows)
    logp = _log_density(lik, obs, mu, noise, extra, shift)
    lpd = logsumexp(logp, axis=0) - np.log(logp.shape[0]) + _log_jacobian(lik, y)
    groups = {
        g.column: rows[g.column].to_numpy()
        for g in view.structure.groupings
        if g.column in rows and g.column not in law.inputs
    }
    draws = predict_loss(
        view, kind="predictive", random_seed=seed, groups=groups or None, **inputs, **extra
    )
    draws = draws.transpose("chain", "draw", "point").to_numpy().reshape(-1, len(rows))
    if lik.output_domain == "unit":
        draws = np.clip(draws, 0.0, 1.0)
    lo, med, hi = np.quantile(draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2], axis=0)
    return {"median": med, "lo": lo, "hi": hi, "log_density": lpd}


def score_holdout(
    fit: Fit,
    runs: pd.DataFrame,
    *,
    ci_prob: float = CI_PROB,
    random_seed: int | None = None,
) -> pd.DataFrame:
    """Predict held-out runs and score each: interval, coverage, log predictive density.

    Parameters
    ----------
    fit : Fit
        A fit of the law (with or without ``group=``, with or without structured terms).
    runs : DataFrame
        Held-out runs: the law's inputs, its output column, the likelihood's extra columns
        (``n_items``) and, for a fit with groups, the group column (a grouping column of
        structured offsets that is absent makes every run one new group).
    ci_prob : float
        Probability of the central predictive interval (``lo``, ``hi``, ``inside``).
    random_seed : int, optional
        Seed of the predictive draws and of new groups' values (default: the fit's seed).

    Returns
    -------
    DataFrame
        One row per run (same index): the inputs, ``observed``, ``median``, ``lo``, ``hi``,
        ``inside``, ``log_density`` (of the observed output under the posterior predictive) and,
        for a fit with groups, ``group`` and ``seen`` (False: scored as a new group).
        ``attrs``: ``ci_prob``, ``coverage``, ``lpd`` (sum of ``log_density``).

    Raises
    ------
    ValueError
        A missing column, or ``ci_prob`` outside (0, 1).

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    >>> held = fit.data.iloc[-3:]
    >>> s = bs.score_holdout(fit, held, ci_prob=0.9, random_seed=0)
    >>> list(s.columns)
    ['C', 'observed', 'median', 'lo', 'hi', 'inside', 'log_density']
    >>> bool(s["hi"].ge(s["lo"]).all()), s.attrs["ci_prob"]
    (True, 0.9)
    """
    if hasattr(fit, "weights") and hasattr(fit, "fits"):  # a StackedFit
        raise TypeError(
            "score_holdout scores one fit's draws; for a stack score each member "
            "(stack.fits[name]) or backtest the stack: bs.backtest(stack, runs, split=...)"
        )
    if not isinstance(fit, Fit):
        raise TypeError(f"score_holdout needs a bayescale.Fit, got {type(fit).__name__}")
    ci_prob = check_ci_prob(ci_prob)  # the one check: type, range, NaN, numpy scalars
    check_seed(random_seed)
    if not isinstance(runs, pd.DataFrame) or runs.empty:
        raise ValueError("runs must be a non-empty DataFrame of held-out runs")
    law, lik, pooling = fit.law, fit.likelihood, fit.pooling
    needed = [*law.inputs, law.output, *lik.extra_columns]
    if pooling is not None:
        needed.append(pooling.column)
    missing = [c for c in needed if c not in runs.columns]
    if missing:
        raise ValueError(
            f"runs has no column(s) {missing}; available: {[str(c) for c in runs.columns]}"
        )
    if pooling is not None and runs[pooling.column].isna().any():
        rows = list(runs.index[runs[pooling.column].isna().to_numpy()][:5])
        raise ValueError(
            f"runs: the group column {pooling.column!r} is missing in rows {rows}; give each "
            "run its group (a label the fit has not seen is scored as a new group)"
        )
    # the runs pass the checks a fit's runs pass (names the column and rows: a missing, text,
    # boolean, infinite or out-of-domain input or output), before anything is predicted
    prepare_data(law, runs[needed], likelihood=lik, warn=False)
    seed = int(random_seed if random_seed is not None else (fit.random_seed or 0))
    out = runs[list(law.inputs)].copy()
    out["observed"] = runs[law.output].to_numpy(dtype=float)
    cols = ("median", "lo", "hi", "log_density")
    values = {c: np.full(len(runs), np.nan) for c in cols}
    if pooling is None:
        parts = [(np.arange(len(runs)), fit, seed)]
    else:
        labels, seen, parts = _group_parts(fit, runs, seed)
        out["group"] = labels
        out["seen"] = seen
    for where, view, s in parts:
        scored = _score(view, runs.iloc[where], float(ci_prob), s)
        for c in cols:
            values[c][where] = scored[c]
    for c in ("median", "lo", "hi"):
        out[c] = values[c]
    out["inside"] = (out["observed"] >= out["lo"]) & (out["observed"] <= out["hi"])
    out["log_density"] = values["log_density"]
    if pooling is not None:
        out = out[[*law.inputs, "group", "seen", "observed", "median", "lo", "hi", "inside",
                   "log_density"]]  # fmt: skip
    out.attrs.update(
        ci_prob=float(ci_prob),
        coverage=float(out["inside"].mean()),
        lpd=float(out["log_density"].sum()),
    )
    return out
