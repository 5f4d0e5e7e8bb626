"""Checks that make a fitted law's answers trustworthy.

* :func:`backtest` — fit on the runs below a compute (or size) cutoff and score the predictions of
  the runs above it: coverage of the 50/80/95% predictive intervals, their width, relative error,
  PIT values and CRPS; rolling cutoffs give one row per origin.
* :func:`compare` — ELPD-LOO comparison of several laws fitted to the same runs (ArviZ's
  ``compare``), with Pareto-k problems spelled out in plain words.
* :func:`posterior_predictive_check` and :func:`prior_predictive` — predictive draws at the runs
  with summary numbers (fraction of observed runs inside the predictive band, PIT uniformity);
  the prior version needs no fit and works on a design without losses.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, check_count, check_seed, deprecated_args, result_html
from .analysis import predict_loss
from .data import PreparedData, prepare_data
from .fit import Fit
from .fit import fit as fit_law
from .law import ScalingLaw, get_law
from .likelihoods import Likelihood, get_likelihood
from .model import build_model, observed_name
from .priors import Prior, merge_priors
from .stacking import StackedFit, stackable, template_fit
from .structure import Structure, resolve_structure

__all__ = [
    "BacktestResult",
    "CalibrationWarning",
    "PredictiveCheck",
    "backtest",
    "compare",
    "crps_from_draws",
    "posterior_predictive_check",
    "prior_predictive",
]

DEFAULT_CI_PROBS = (0.5, 0.8, CI_PROB)
DEFAULT_PROBS = DEFAULT_CI_PROBS  # old name


# ---------------------------------------------------------------------- scoring draws


def _rel_error(predicted: Any, observed: Any) -> np.ndarray:
    """(predicted − observed)/observed, NaN where the observation is 0 (e.g. zero accuracy)."""
    observed = np.asarray(observed, dtype=float)
    safe = np.where(observed != 0, observed, np.nan)
    return (np.asarray(predicted, dtype=float) - observed) / safe


def _scipy_stats():
    """scipy.stats, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


def _pct(prob: float) -> str:
    return f"{100 * prob:g}"


def crps_from_draws(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each column of ``draws`` (shape ``(S, M)``).

    Energy form, CRPS = E|X − y| − ½·E|X − X'|, with E|X − X'| from the sorted draws in
    O(S log S): E|X − X'| = 2/S² · Σ_i (2i − S − 1)·x_(i).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((20000, 1))
    >>> exact = (np.sqrt(2) - 1) / np.sqrt(np.pi)  # CRPS of N(0, 1) at 0
    >>> bool(abs(crps_from_draws(x, np.array([0.0]))[0] - exact) < 0.01)
    True
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    s = draws.shape[0]
    first = np.mean(np.abs(draws - observed[None, :]), axis=0)
    ordered = np.sort(draws, axis=0)
    weights = (2 * np.arange(1, s + 1) - s - 1)[:, None]
    spread = 2.0 * np.sum(weights * ordered, axis=0) / s**2
    return first - 0.5 * spread


def _pit(draws: np.ndarray, obs: np.ndarray, axis: int = 0) -> np.ndarray:
    """Probability integral transform of ``obs`` under ``draws``, ties split in half (mid-rank).

    PIT = P(X < y) + ½·P(X = y), so a discrete predictive (binomial counts, where many draws
    equal the observation) still gives PIT values centred on ½ rather than biased low.

    Examples
    --------
    >>> import numpy as np
    >>> float(_pit(np.array([[1.0], [2.0], [2.0], [3.0]]), np.array([2.0]))[0])
    0.5
    """
    draws = np.asarray(draws, dtype=float)
    obs = np.expand_dims(np.asarray(obs, dtype=float), axis)
    return np.mean(draws < obs, axis=axis) + 0.5 * np.mean(draws == obs, axis=axis)


def _score(draws: np.ndarray, observed: np.ndarray, probs: Sequence[float]) -> dict[str, Any]:
    """Median, central intervals, inside flags, relative error, PIT and CRPS per column.

    Non-finite draws (overflowed prior draws, say) are left out of the median and the intervals
    (NaN where a column has no finite draw); the PIT counts every draw, +inf above any
    observation. A NaN observation is inside no interval.
    """
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    qs = [0.5, *(q for p in probs for q in ((1 - p) / 2, (1 + p) / 2))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        masked = np.where(np.isfinite(draws), draws, np.nan)
        quantiles = np.nanquantile(masked, qs, axis=0)
    out: dict[str, Any] = {"observed": observed, "median": quantiles[0]}
    for i, p in enumerate(probs):
        lo, hi = quantiles[1 + 2 * i], quantiles[2 + 2 * i]
        out[f"lo{_pct(p)}"] = lo
        out[f"hi{_pct(p)}"] = hi
        out[f"inside{_pct(p)}"] = (observed >= lo) & (observed <= hi)
    out["rel_error"] = _rel_error(out["median"], observed)
    out["pit"] = _pit(draws, observed, axis=0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # inf draws give NaN
        out["crps"] = crps_from_draws(draws, observed)
        if np.all(observed > 0):
            # on log(output): scale-free (comparable across datasets) and finite for the
            # heavy-tailed Student-t predictive, whose exp() has no mean
            out["crps_log"] = crps_from_draws(np.log(draws), np.log(observed))
    return out


def _ks_uniform(pit: Any) -> float:
    """Kolmogorov–Smirnov p-value of PIT values against the uniform distribution (NaN below 2)."""
    pit = np.asarray(pit, dtype=float)
    return float(_scipy_stats().kstest(pit, "uniform").pvalue) if pit.size > 1 else np.nan


def _metrics(table: pd.DataFrame, probs: Sequence[float]) -> dict[str, float]:
    m: dict[str, float] = {"n_test": len(table)}
    for p in probs:
        m[f"coverage_{_pct(p)}"] = float(table[f"inside{_pct(p)}"].mean())
    for p in probs:
        m[f"width_{_pct(p)}"] = float((table[f"hi{_pct(p)}"] - table[f"lo{_pct(p)}"]).mean())
    m["median_abs_rel_error"] = float(table["rel_error"].abs().median())
    m["mean_rel_error"] = float(table["rel_error"].mean())
    m["mean_crps"] = float(table["crps"].mean())
    if "crps_log" in table:
        m["mean_crps_log"] = float(table["crps_log"].mean())
    m["pit_ks_pvalue"] = _ks_uniform(table["pit"])
    return m


def _run_inputs(fit: Fit) -> dict[str, np.ndarray]:
    const = fit.idata["constant_data"].to_dataset()
    names = [*fit.law.inputs, *fit.likelihood.extra_columns]
    return {k: const[k].to_numpy() for k in names}


@stackable
def _predictive_draws(
    fit: Fit,
    inputs: Mapping[str, np.ndarray],
    *,
    random_seed: int | None,
    frame: pd.DataFrame | None = None,
) -> xr.DataArray:
    """Predictive draws at ``inputs``; ``frame`` holds the runs' other grouping columns (a
    stack: each member with its own groups and seed)."""
    seed = random_seed
    groups = {}
    if frame is not None:
        for g in fit.structure.groupings:
            if g.column in frame.columns and g.column not in inputs:
                groups[g.column] = frame[g.column].to_numpy()
    out = predict_loss(fit, kind="predictive", random_seed=seed, groups=groups, **dict(inputs))
    if "point" not in out.dims:
        out = out.expand_dims(point=1, axis=-1)
    return out


# ---------------------------------------------------------------------- backtest
@dataclass
class BacktestResult:
    """Held-out predictions of a backtest (result of :func:`backtest`).

    Attributes
    ----------
    split : str
        Column the cutoffs apply to (``"C"``, ``"N"``, ...).
    cutoffs : list of float
    table : DataFrame
        One row per held-out run and cutoff: ``cutoff``, ``run`` (the data's index label), the
        split column, ``observed``, predictive ``median``, ``loXX``/``hiXX`` central intervals,
        ``insideXX`` flags, ``rel_error`` = (median − observed)/observed, ``pit`` (fraction of
        predictive draws below the observed value, ties counted half) and ``crps``.
    metrics : DataFrame
        One row per cutoff: ``n_train``, ``n_test``, ``coverage_XX``, mean ``width_XX``,
        ``median_abs_rel_error``, ``mean_rel_error``, ``mean_crps``, ``pit_ks_pvalue``.
    overall : Series
        The same figures pooled over every held-out prediction.
    fits : dict
        The fit of each cutoff (a :class:`~bayescale.StackedFit` when a stack was backtested).
    """

    split: str
    cutoffs: list[float]
    ci_probs: tuple[float, ...]
    table: pd.DataFrame
    metrics: pd.DataFrame
    overall: pd.Series
    fits: dict[float, Fit | StackedFit] = field(repr=False, default_factory=dict)

    @property
    def calibration(self) -> pd.DataFrame:
        """Coverage against nominal per interval, pooled over every held-out prediction.

        Columns: ``nominal``, ``covered`` (runs inside), ``n``, ``coverage`` and ``p_below``,
        the binomial probability of covering this few runs or fewer if the intervals were
        calibrated. Held-out runs share the posterior, so their misses are correlated and this
        p-value is a flag, not an exact test. ``verdict`` says ``ok``, ``too narrow`` (p_below <
        0.01) or ``too wide`` (the same test from above).
        """
        return calibration_table(self.table, self.ci_probs)

    @property
    def probs(self) -> tuple[float, ...]:
        """Deprecated name of :attr:`ci_probs`."""
        warnings.warn(
            "BacktestResult.probs is deprecated, use ci_probs (deprecated in bayescale 1.0; "
            "the old form will be removed in 1.1)",
            FutureWarning,
            stacklevel=2,
        )
        return self.ci_probs

    def summary(self) -> pd.DataFrame:
        """Coverage, width, error and CRPS per cutoff (``metrics``); ``str(result)`` is the text
        report."""
        return self.metrics.copy()

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())

    def __str__(self) -> str:
        """A plain-text report of coverage, width, error and CRPS per cutoff."""
        lines = [f"backtest: fit on {self.split} < cutoff, predict {self.split} >= cutoff"]
        for cutoff, row in self.metrics.iterrows():
            cov = ", ".join(f"{_pct(p)}%: {row[f'coverage_{_pct(p)}']:.0%}" for p in self.ci_probs)
            lines.append(
                f"  cutoff {cutoff:.3g}: {int(row['n_train'])} runs fitted, "
                f"{int(row['n_test'])} held out; coverage {cov}; median |relative error| "
                f"{row['median_abs_rel_error']:.2%}; mean CRPS {row['mean_crps']:.4g}"
            )
        if len(self.metrics) > 1:
            o = self.overall
            cov = ", ".join(f"{_pct(p)}%: {o[f'coverage_{_pct(p)}']:.0%}" for p in self.ci_probs)
            lines.append(
                f"  pooled: {int(o['n_test'])} predictions; coverage {cov}; "
                f"median |relative error| {o['median_abs_rel_error']:.2%}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<BacktestResult {self.split} cutoffs {self.cutoffs}>\n{self}"


def _split_values(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return pd.to_numeric(frame[column], errors="raise")
    if column == "C" and {"N", "D"} <= set(frame.columns):
        return 6.0 * frame["N"] * frame["D"]
    raise ValueError(
        f"split column {column!r} is not in the data (columns: {list(frame.columns)})"
        + ("; C can also be computed from N and D" if column == "C" else "")
    )


@deprecated_args(renamed={"probs": "ci_probs"})
def backtest(
    law: str | ScalingLaw | StackedFit | Sequence[Any] | Mapping[str, Any],
    data: pd.DataFrame,
    split: Mapping[str, Any],
    *,
    ci_probs: Sequence[float] = DEFAULT_CI_PROBS,
    random_seed: int = 0,
    client: Any = None,
    stack: str | Mapping[str, float] | None = None,
    **fit_kwargs: Any,
) -> BacktestResult:
    """Fit on the runs below a cutoff and score the predictions of the runs above it.

    A stack is backtested by refitting every member at each cutoff and stacking again
    (:mod:`bayescale.stacking_backtest`): pass a :class:`~bayescale.StackedFit` (members
    refitted with their own settings) or several laws (a list, or a mapping name → law or
    ``(law, fit_kwargs)``); ``fits`` then holds the stack of each cutoff.

    Parameters
    ----------
    law : str, ScalingLaw, StackedFit, list or mapping
    data : DataFrame
        The runs, with the law's inputs and output (and the split column).
    split : mapping
        One entry ``{column: cutoff}``, e.g. ``{"C": 1e21}`` (compute; computed as 6ND when the
        data has no ``C`` column) or ``{"N": 1e9}``. Runs with ``column < cutoff`` are fitted,
        runs with ``column >= cutoff`` are predicted. A list of cutoffs gives a rolling backtest:
        one fit per cutoff, each predicting every run at or above it.
    ci_probs : sequence of float
        Central predictive intervals scored (default 50%, 80% and :data:`~bayescale.CI_PROB`).
    random_seed : int
        Seed of the fits (cutoff ``i`` is fitted with ``random_seed + i``) and of the predictive
        draws.
    client : distributed.Client, optional
        Fit the cutoffs of a rolling backtest as tasks of this Dask cluster. Without it several
        cutoffs are fitted in parallel local processes (:func:`bayescale.fit_many`; its
        ``processes=`` is taken from ``processes`` here). The results do not depend on either.
    stack : {"stacking", "pseudo-BMA", "BB-pseudo-BMA"} or mapping, optional
        How a stack's members are weighted at each cutoff: LOO weights on the cutoff's training
        runs (default for several laws; a StackedFit keeps its own method, and given weights),
        or fixed weights name → weight.
    **fit_kwargs
        Passed to :func:`bayescale.fit` (``draws=``, ``tune=``, ``priors=``, ``likelihood=``,
        ``columns=``...).

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(n=60, random_seed=4)
    >>> bt = bs.backtest("chinchilla", runs, split={"C": 1e21}, draws=200, tune=200,
    ...                  chains=2, warn=False)
    >>> sorted(bt.metrics.columns)[:3]
    ['coverage_50', 'coverage_80', 'coverage_95']
    >>> bool(bt.overall["coverage_95"] >= 0.7)
    True

    A stack of two likelihoods, refitted and restacked at the cutoff (run by
    tests/test_stacking_backtest.py):

    >>> bt2 = bs.backtest(["chinchilla", ("chinchilla", {"likelihood": "normal"})], runs,
    ...                   split={"C": 1e21}, draws=200, tune=200, chains=2,
    ...                   warn=False)  # doctest: +SKIP
    >>> bt2.fits[1e21].names  # doctest: +SKIP
    ['chinchilla@1:studentt', 'chinchilla@1:normal']
    """
    from .stacking_backtest import fit_stack_cutoffs, stack_members

    members = stack_members(law, stack)
    if members is not None:
        first_law, first_kwargs = next(iter(members[0].values()))
        law = first_law
        fit_kwargs_first = first_kwargs
    else:
        law = get_law(law)
        fit_kwargs_first = {}
    if not isinstance(split, Mapping) or len(split) != 1:
        raise ValueError(
            "split must be one {column: cutoff} entry, e.g. {'C': 1e21} or {'N': 1e9}; "
            "give a list of cutoffs for a rolling backtest"
        )
    if isinstance(ci_probs, str | int | float) or not len(ci_probs):
        raise TypeError(f"ci_probs must be a non-empty list of probabilities, got {ci_probs!r}")
    probs = tuple(check_ci_prob(p, "ci_probs") for p in ci_probs)
    column, raw = next(iter(split.items()))
    cutoffs = sorted(float(c) for c in np.atleast_1d(np.asarray(raw, dtype=float)))
    frame = data.copy()
    columns = fit_kwargs.pop("columns", None)
    if columns:
        frame = frame.rename(columns={v: k for k, v in columns.items()})
    values = _split_values(frame, column)
    fit_kwargs.setdefault("progressbar", False)
    choice = fit_kwargs.get("likelihood", fit_kwargs_first.get("likelihood"))
    likelihood = get_likelihood(choice if choice is not None else law.default_likelihood)
    splits = []
    for cutoff in cutoffs:
        train_mask = (values < cutoff).to_numpy()
        train, test = frame[train_mask], frame[~train_mask]
        if len(test) == 0:
            raise ValueError(f"no runs have {column} >= {cutoff:g}: nothing to predict")
        if len(train) == 0:
            raise ValueError(f"no runs have {column} < {cutoff:g}: nothing to fit")
        try:
            held_out = prepare_data(law, test, likelihood=likelihood)
        except ValueError as err:
            raise ValueError(
                f"the {len(test)} held-out runs with {column} >= {cutoff:g} cannot be scored: {err}"
            ) from err
        splits.append((cutoff, train_mask, train, test, held_out))
    if members is not None:
        fitted = fit_stack_cutoffs(*members, column, splits, random_seed, client, fit_kwargs)
    else:
        fitted = _fit_cutoffs(law, column, splits, random_seed, client, fit_kwargs)
    rows, metric_rows, fits = [], {}, {}
    for i, (cutoff, train_mask, train, test, held_out) in enumerate(splits):
        f = fits[cutoff] = fitted[i]
        inputs = {**held_out.inputs, **held_out.extra}
        draws = _predictive_draws(f, inputs, random_seed=random_seed + 1000 + i, frame=test)
        flat = draws.to_numpy().reshape(-1, len(test))
        observed = held_out.y
        scored = _score(flat, observed, probs)
        part = pd.DataFrame(
            {"cutoff": cutoff, "run": test.index, column: values[~train_mask].to_numpy()}
            | {k: test[k].to_numpy() for k in law.inputs if k != column}
            | scored
        )
        rows.append(part)
        metric_rows[cutoff] = {"n_train": len(train), **_metrics(part, probs)}
    table = pd.concat(rows, ignore_index=True)
    metrics = pd.DataFrame.from_dict(metric_rows, orient="index")
    metrics.index.name = "cutoff"
    overall = pd.Series(_metrics(table, probs), name="pooled")
    result = BacktestResult(column, cutoffs, probs, table, metrics, overall, fits)
    _warn_calibration(result.calibration, law.name if members is None else "the stack")
    return result


class CalibrationWarning(UserWarning):
    """Held-out runs fall outside the predictive intervals far more often than nominal."""


def calibration_table(table: pd.DataFrame, ci_probs: Sequence[float]) -> pd.DataFrame:
    """Coverage against nominal per interval (see :attr:`BacktestResult.calibration`).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"inside95": [True] * 14 + [False] * 6})
    >>> row = calibration_table(t, [0.95]).iloc[0]
    >>> float(row["coverage"]), row["verdict"]
    (0.7, 'too narrow')
    """
    binom = _scipy_stats().binom
    rows = []
    for p in ci_probs:
        inside = np.asarray(table[f"inside{_pct(p)}"], dtype=bool)
        n, k = inside.size, int(inside.sum())
        p_below = float(binom.cdf(k, n, p)) if n else np.nan
        p_above = float(binom.sf(k - 1, n, p)) if n else np.nan
        verdict = "too narrow" if p_below < 0.01 else "too wide" if p_above < 0.01 else "ok"
        rows.append(
            {
                "nominal": p,
                "covered": k,
                "n": n,
                "coverage": k / n if n else np.nan,
                "p_below": p_below,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows).set_index("nominal")


def _warn_calibration(calibration: pd.DataFrame, name: str) -> None:
    narrow = calibration[calibration["verdict"] == "too narrow"]
    if len(narrow):
        parts = [
            f"{100 * p:g}% intervals cover {row['coverage']:.0%} of {row['n']} "
            f"(p = {row['p_below']:.2g})"
            for p, row in narrow.iterrows()
        ]
        warnings.warn(
            f"{name}: predictive intervals are too narrow on the held-out runs: "
            + "; ".join(parts)
            + ". Do not trust them beyond the data: keep drift=True, consider groups= for "
            "runs that share a residual, or compare likelihoods",
            CalibrationWarning,
            stacklevel=3,
        )


def _fit_cutoffs(
    law: ScalingLaw,
    column: str,
    splits: list[tuple],
    random_seed: int,
    client: Any,
    fit_kwargs: dict[str, Any],
) -> list[Fit]:
    """The fit of each cutoff's training runs (cutoff ``i`` with ``random_seed + i``): one
    cutoff directly, several as a batch (:func:`bayescale.fit_many`), in the same order."""

    def failed(train: pd.DataFrame, cutoff: float, err: ValueError) -> ValueError:
        return ValueError(f"fitting the {len(train)} runs with {column} < {cutoff:g} failed: {err}")

    if len(splits) == 1 and client is None:
        cutoff, _, train, _, _ = splits[0]
        try:
            return [fit_law(law, train, random_seed=random_seed, **fit_kwargs)]
        except ValueError as err:
            raise failed(train, cutoff, err) from err
    from .batch import FitJob, fit_many

    kwargs = dict(fit_kwargs)
    progressbar = bool(kwargs.pop("progressbar", False))
    processes = kwargs.pop("processes", None)
    jobs = [
        FitJob(law, train, {**kwargs, "random_seed": random_seed + i}, f"{column} < {cutoff:g}")
        for i, (cutoff, _, train, _, _) in enumerate(splits)
    ]
    batch = fit_many(jobs, client=client, processes=processes, progressbar=progressbar)
    for (cutoff, _, train, _, _), result in zip(splits, batch, strict=True):
        if isinstance(result.error, ValueError):
            raise failed(train, cutoff, result.error) from result.error
        if result.error is not None:
            raise result.error
    return batch.fits


# ---------------------------------------------------------------------- model comparison
def _same_runs(fits: Mapping[str, Fit]) -> None:
    ref_name, ref = next(iter(fits.items()))
    ref_obs = ref.idata["observed_data"].to_dataset()
    for name, f in fits.items():
        obs = f.idata["observed_data"].to_dataset()
        if list(obs.data_vars) != list(ref_obs.data_vars):
            raise ValueError(
                f"{name!r} observes {list(obs.data_vars)}, {ref_name!r} observes "
                f"{list(ref_obs.data_vars)}: ELPD is only comparable on the same observations"
            )
        var = next(iter(obs.data_vars))
        a, b = obs[var].to_numpy(), ref_obs[var].to_numpy()
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-12, atol=0):
            what = (
                f"{a.size} vs {b.size} observations"
                if a.shape != b.shape
                else f"the same number of runs ({a.size}) but different observed values"
            )
            raise ValueError(
                f"{name!r} and {ref_name!r} were fitted to different runs ({what}): compare "
                "needs the same runs"
            )


def compare(
    fits: Mapping[str, Fit] | Sequence[Fit],
    *,
    method: str = "stacking",
    warn: bool = True,
) -> pd.DataFrame:
    """Rank laws fitted to the same runs by their expected log predictive density (PSIS-LOO).

    Uses ``arviz_stats.loo`` on each fit's pointwise log-likelihood and ``arviz_stats.compare``.
    Runs whose Pareto k exceeds ArviZ's threshold make the LOO estimate unreliable; each such
    problem is reported in plain words (as a ``UserWarning`` and in ``attrs["warnings"]``).

    Parameters
    ----------
    fits : mapping of name → Fit, or sequence of Fit
        Fits to the same runs (names default to the law names).
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How ArviZ computes the model weights.
    warn : bool
        Emit the Pareto-k messages as warnings.

    Returns
    -------
    DataFrame
        One row per law, best first: ``rank``, ``elpd``, ``se``, ``elpd_diff`` (this law's ELPD
        minus the best law's, so ≤ 0) and its standard error ``dse``, ``p`` (effective number of
        parameters), ``weight``, plus ``n_high_k`` (runs with Pareto k above the threshold) and
        ``max_k``. ``attrs["warnings"]`` lists the problems found, ``attrs["loo"]`` holds each
        law's ``ELPDData``.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(n=50, random_seed=5)
    >>> kw = dict(draws=200, tune=200, chains=2, random_seed=5, progressbar=False, warn=False)
    >>> a = bs.fit("chinchilla", runs, **kw)
    >>> b = bs.fit("chinchilla", runs, likelihood="normal", **kw)
    >>> table = bs.compare({"studentt": a, "normal": b}, warn=False)
    >>> list(table.columns[:4])
    ['rank', 'elpd', 'se', 'elpd_diff']
    """
    import arviz_stats as azs

    if isinstance(fits, Mapping):
        named = dict(fits)
    else:
        named = {}
        for f in fits:
            if isinstance(f, StackedFit):
                named["stack"] = f  # refused below, with the reason
                break
            name, k = f.law.name, 2
            while name in named:
                name, k = f"{f.law.name}_{k}", k + 1
            named[name] = f
    for name, f in named.items():
        if isinstance(f, StackedFit):
            raise TypeError(
                f"{name!r} is a StackedFit: compare ranks single fits by ELPD-LOO; the members' "
                "ELPD and weights are in stack.summary() (a stack's own LOO score would reuse "
                "the runs its weights were fitted on)"
            )
        if not isinstance(f, Fit):
            raise TypeError(f"{name!r} is not a bayescale.Fit but {type(f).__name__}")
    if len(named) < 2:
        raise ValueError("compare needs at least two fits")
    _same_runs(named)
    loos, messages = {}, []
    extra: dict[str, dict[str, float]] = {}
    for name, f in named.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = azs.loo(f.idata, pointwise=True)
        loos[name] = res
        k = np.asarray(res.pareto_k).ravel()
        runs = np.asarray(f.idata["observed_data"]["run"].to_numpy())
        good = float(res.good_k)
        bad = k > good
        extra[name] = {"n_high_k": int(bad.sum()), "max_k": float(np.nanmax(k))}
        if bad.any():
            very = int((k > 1).sum())
            shown = ", ".join(str(r) for r in runs[bad][:8]) + (" ..." if bad.sum() > 8 else "")
            messages.append(
                f"{name}: {int(bad.sum())} of {k.size} runs have Pareto k above {good:.2f}"
                + (f" ({very} above 1)" if very else "")
                + f" (runs {shown}). Leaving one of these runs out changes this law's "
                "posterior too much for importance sampling to estimate, so their ELPD terms "
                "and the comparison are not reliable; check those runs, or refit without each "
                "of them (exact LOO) or use k-fold cross-validation before trusting the ranking."
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.compare(loos, method=method, round_to="none")
    table = table.join(pd.DataFrame.from_dict(extra, orient="index"))
    keep = ["rank", "elpd", "se", "elpd_diff", "dse", "p", "weight", "n_high_k", "max_k"]
    table = table[[c for c in keep if c in table.columns] + [c for c in table if c not in keep]]
    table.attrs["warnings"] = messages
    table.attrs["loo"] = loos
    if warn:
        for msg in messages:
            warnings.warn(msg, UserWarning, stacklevel=2)
    return table


# ---------------------------------------------------------------------- predictive checks
@dataclass
class PredictiveCheck:
    """Predictive draws at the runs with summary numbers.

    Attributes
    ----------
    kind : {"posterior", "prior"}
    draws : xarray.DataArray
        Predicted output over ``(chain, draw, run)``.
    table : DataFrame
        Per run: inputs, ``observed`` (NaN without observations), ``median``, ``lo``/``hi`` of
        the central ``ci_prob`` band, ``inside``, ``pit``.
    metrics : Series
        ``n_runs``, ``ci_prob``, ``frac_inside`` (observed runs inside the band), ``n_outside``,
        ``frac_inside_50``, ``pit_ks_pvalue``, ``median_abs_rel_error``, ``frac_nonfinite``
        (predictive draws that are not finite), ``q01``/``median``/``q99`` of all draws.
    params : xarray.Dataset, optional
        Prior draws of the parameters (prior checks only).
    """

    kind: str
    draws: xr.DataArray
    table: pd.DataFrame
    metrics: pd.Series
    params: xr.Dataset | None = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """``metrics`` as a one-row table (index: ``kind``); ``str(check)`` is the text report."""
        return self.metrics.to_frame(self.kind).T

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())

    def __str__(self) -> str:
        """A plain-text report."""
        m = self.metrics
        lines = [f"{self.kind} predictive check on {int(m['n_runs'])} runs:"]
        lines.append(
            f"  predicted output: median {m['median']:.4g}, 1–99% range "
            f"[{m['q01']:.4g}, {m['q99']:.4g}], non-finite draws {m['frac_nonfinite']:.2%}"
        )
        if np.isfinite(m["frac_inside"]):
            lines.append(
                f"  observed inside the {m['ci_prob']:.0%} band: {m['frac_inside']:.1%} "
                f"({int(m['n_outside'])} outside); inside the 50% band: {m['frac_inside_50']:.1%}"
            )
            lines.append(
                f"  PIT uniformity (KS) p = {m['pit_ks_pvalue']:.3g}; median |relative error| "
                f"of the predictive median {m['median_abs_rel_error']:.2%}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PredictiveCheck {self.kind}>\n{self}"


def _check(
    kind: str,
    draws: xr.DataArray,
    inputs: Mapping[str, np.ndarray],
    observed: np.ndarray | None,
    prob: float,
    params: xr.Dataset | None = None,
) -> PredictiveCheck:
    values = draws.transpose("chain", "draw", "run").to_numpy()
    flat = values.reshape(-1, values.shape[-1])
    finite = np.isfinite(flat)
    has_obs = observed is not None
    obs = np.full(flat.shape[1], np.nan) if observed is None else np.asarray(observed, float)
    scored = _score(flat, obs, (prob, 0.5))
    band, half = _pct(prob), _pct(0.5)
    table = pd.DataFrame(
        {k: np.asarray(v) for k, v in inputs.items()}, index=draws["run"].to_numpy()
    )
    table.index.name = "run"
    table["observed"] = obs
    table["median"], table["lo"], table["hi"] = (
        scored["median"],
        scored[f"lo{band}"],
        scored[f"hi{band}"],
    )
    table["inside"] = scored[f"inside{band}"]
    table["pit"] = scored["pit"] if has_obs else np.nan
    all_finite = flat[finite]
    metrics = {
        "n_runs": flat.shape[1],
        "ci_prob": prob,
        "frac_inside": float(table["inside"].mean()) if has_obs else np.nan,
        "n_outside": int((~table["inside"]).sum()) if has_obs else np.nan,
        "frac_inside_50": float(np.mean(scored[f"inside{half}"])) if has_obs else np.nan,
        "pit_ks_pvalue": _ks_uniform(table["pit"]) if has_obs else np.nan,
        "median_abs_rel_error": (
            float(np.nanmedian(np.abs(scored["rel_error"]))) if has_obs else np.nan
        ),
        "frac_nonfinite": float(1 - finite.mean()),
        "q01": float(np.quantile(all_finite, 0.01)) if all_finite.size else np.nan,
        "median": float(np.median(all_finite)) if all_finite.size else np.nan,
        "q99": float(np.quantile(all_finite, 0.99)) if all_finite.size else np.nan,
    }
    return PredictiveCheck(kind, draws, table, pd.Series(metrics, name=kind), params)


@deprecated_args(renamed={"prob": "ci_prob"})
def posterior_predictive_check(
    fit: Fit, *, ci_prob: float = CI_PROB, random_seed: int | None = None
) -> PredictiveCheck:
    """Posterior predictive draws at the fitted runs and how the observed runs fall in them.

    A :class:`~bayescale.StackedFit` is checked with the mixture's predictive draws (each
    member's own, mixed by weight).

    Parameters
    ----------
    fit : Fit or StackedFit
    ci_prob : float
        Central band used for ``frac_inside`` (default :data:`~bayescale.CI_PROB`).
    random_seed : int, optional
        Seed of the predictive noise.

    Returns
    -------
    PredictiveCheck
        ``metrics["frac_inside"]`` near ``ci_prob`` means calibrated bands; much lower means the
        noise model is too narrow (or the law misses a trend), much higher too wide. The PIT
        here is in-sample, so a well-fitted law gives values bunched towards the middle.

    Examples
    --------
    >>> import bayescale as bs
    >>> check = bs.posterior_predictive_check(bs.testing.pinned_fit(random_seed=0), random_seed=0)
    >>> check.draws.dims
    ('chain', 'draw', 'run')
    >>> bool(0.8 < check.metrics["frac_inside"] <= 1.0)
    True
    """
    check_ci_prob(ci_prob)
    ref = template_fit(fit, "posterior_predictive_check")  # a stack: its first member's runs
    inputs = _run_inputs(ref)
    draws = _predictive_draws(fit, inputs, random_seed=random_seed)
    runs = ref.idata["constant_data"]["run"].to_numpy()
    draws = draws.rename(point="run").drop_vars(list(inputs), errors="ignore")
    draws = draws.assign_coords(run=runs)
    observed = ref.idata["constant_data"][ref.law.output].to_numpy()
    law_inputs = {k: v for k, v in inputs.items() if k in ref.law.inputs}
    return _check("posterior", draws, law_inputs, observed, ci_prob)


def _prior_samples(
    law: ScalingLaw,
    frame: pd.DataFrame,
    priors: Mapping[str, Prior] | None,
    lik: Likelihood,
    draws: int,
    random_seed: int | None,
    *,
    groups: Any = None,
    drift: bool = True,
) -> tuple[xr.Dataset, np.ndarray, PreparedData, dict[str, Prior], Structure]:
    """Prior draws of the parameters and of the observed variable at ``frame``'s inputs.

    Returns the prior parameter draws (``(chain=1, draw)``), the predicted output (shape
    ``(draws, runs)``, on the output's scale), the prepared runs, the merged priors and the
    structure (group offsets by ``groups`` are part of the simulation, as :func:`fit` builds
    them; the drift has no effect inside the design's range).
    """
    import logging

    import pymc as pm

    from .fit import _group_frame

    if law.output not in frame.columns:
        placeholder = 0.5 if lik.output_domain == "unit" else 1.0
        frame = frame.assign(**{law.output: placeholder})
    prepared = prepare_data(law, frame, likelihood=lik)
    loss_like = lik.output_domain == "positive"
    structure, codes = resolve_structure(
        groups if loss_like else None,
        bool(drift) and loss_like,
        _group_frame(prepared.frame, frame, None, groups),
        law.inputs,
        law.required_positive,
    )
    all_priors = merge_priors(
        {**law.default_priors, **lik.noise_priors, **structure.default_priors()}, priors
    )
    reference = law.compute_reference(prepared.inputs)
    model = build_model(law, prepared, all_priors, lik, reference, structure=structure, codes=codes)
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        idata = pm.sample_prior_predictive(draws=draws, model=model, random_seed=random_seed)
    finally:
        logger.setLevel(level)
    obs = observed_name(law, lik)
    sim = idata["prior_predictive"][obs].transpose("chain", "draw", "run").to_numpy()
    sim = sim.reshape(-1, sim.shape[-1])
    extra = {k: np.asarray(v)[None, :] for k, v in prepared.extra.items()}
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = np.asarray(lik.inverse(sim, **extra), dtype=float)
    seed = (
        int(np.random.default_rng(random_seed).integers(2**31))
        if random_seed is None
        else random_seed
    )
    prior = structure.with_prior_only(idata["prior"].to_dataset(), all_priors, seed)
    return prior, out, prepared, all_priors, structure


@deprecated_args(renamed={"prob": "ci_prob"})
def prior_predictive(
    law: str | ScalingLaw,
    data: pd.DataFrame,
    *,
    priors: Mapping[str, Prior] | None = None,
    likelihood: str | Likelihood | None = None,
    draws: int = 1000,
    ci_prob: float = CI_PROB,
    random_seed: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> PredictiveCheck:
    """Prior predictive draws at the runs' inputs: what the priors say before any fit.

    ``data`` needs the law's inputs; when it also has the output column the observed runs are
    placed in the prior predictive band (``frac_inside``). ``frac_nonfinite`` and the 1–99%
    range of the draws show whether the priors allow absurd losses.

    Parameters
    ----------
    law : str or ScalingLaw
    data : DataFrame
        Runs or a design (inputs only).
    priors : mapping, optional
        Overrides of the default priors, as for :func:`bayescale.fit`.
    likelihood : str or Likelihood, optional
        Observation model (default: the law's).
    draws : int
        Number of prior draws.
    ci_prob : float
        Central band used for ``frac_inside`` (default :data:`~bayescale.CI_PROB`).
    random_seed : int, optional
    columns : mapping, optional
        Canonical name → column in ``data``.

    Returns
    -------
    PredictiveCheck
        With ``params``: the prior draws of the sampled, natural and derived parameters.

    Examples
    --------
    >>> import bayescale as bs
    >>> design = bs.testing.chinchilla_design(30, random_seed=0)
    >>> check = bs.prior_predictive("chinchilla", design, draws=200, random_seed=0)
    >>> check.draws.shape
    (1, 200, 30)
    >>> bool(check.metrics["frac_nonfinite"] == 0)
    True
    """
    law = get_law(law)
    lik = get_likelihood(likelihood if likelihood is not None else law.default_likelihood)
    check_ci_prob(ci_prob)
    draws, random_seed = check_count(draws, "draws"), check_seed(random_seed)
    frame = data.rename(columns={v: k for k, v in (columns or {}).items()})
    has_output = law.output in frame.columns
    params, out, prepared, _, _ = _prior_samples(law, frame, priors, lik, draws, random_seed)
    inputs = prepared.inputs
    da = xr.DataArray(
        out[None, :, :],
        dims=("chain", "draw", "run"),
        coords={"chain": [0], "draw": np.arange(draws), "run": np.asarray(prepared.frame.index)},
        name=law.output,
    )
    observed = np.asarray(prepared.y, dtype=float) if has_output else None
    return _check("prior", da, inputs, observed, ci_prob, params)
