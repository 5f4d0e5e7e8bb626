"""``backtest`` (re-exported by :mod:`bayescale.validation`): fit below a cutoff, score the runs
above it (coverage, PIT, CRPS), rolling cutoffs, stacks through
:mod:`bayescale.stacking_backtest`;
``BacktestResult``, the pooled calibration table and ``CalibrationWarning``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._api import check_ci_prob, deprecated_args, resolve_seed, result_html
from .data import prepare_data
from .fit import Fit
from .fit import fit as fit_law
from .law import ScalingLaw, get_law
from .likelihoods import get_likelihood
from .stacking import StackedFit

# ---------------------------------------------------------------------- backtest
from .validation_scores import (
    DEFAULT_CI_PROBS,
    _metrics,
    _pct,
    _predictive_draws,
    _scipy_stats,
    _score,
)


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
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            rows = [(lab, frame[column].iloc[i]) for i, lab in enumerate(frame.index) if bad[i]]
            raise ValueError(
                f"split column {column!r} must hold numbers; {int(bad.sum())} row(s) do not: "
                + ", ".join(f"{lab!r} ({v!r})" for lab, v in rows[:8])
            )
        return values
    if column == "C" and {"N", "D"} <= set(frame.columns):
        return 6.0 * frame["N"] * frame["D"]
    raise ValueError(
        f"split column {column!r} is not in the data (columns: {list(frame.columns)})"
        + ("; C can also be computed from N and D" if column == "C" else "")
    )


@deprecated_args(renamed={"probs": "ci_probs"})
def backtest(
    law: str | ScalingLaw | Fit | StackedFit | Sequence[Any] | Mapping[str, Any],
    data: pd.DataFrame,
    split: Mapping[str, Any],
    *,
    ci_probs: Sequence[float] = DEFAULT_CI_PROBS,
    random_seed: int | None = None,
    client: Any = None,
    stack: str | Mapping[str, float] | None = None,
    **fit_kwargs: Any,
) -> BacktestResult:
    """Fit on the runs below a cutoff and score the predictions of the runs above it.

    A stack is backtested by refitting every member at each cutoff and stacking again
    (:mod:`bayescale.stacking_backtest`): pass a :class:`~bayescale.StackedFit` (members
    refitted with their own settings) or several laws (a list, or a mapping name → law or
    ``(law, fit_kwargs)``); ``fits`` then holds the stack of each cutoff.

    Pooled fits (:mod:`bayescale.pooling`): ``group=`` and ``pool=`` (in ``fit_kwargs``) fit
    every cutoff pooled, or pass a saved :class:`~bayescale.Fit` to refit it at each cutoff with
    its own law, likelihood, priors, group column and pool spec (centred or non-centred forms
    kept; ``"partial_auto"`` chosen again on the cutoff's runs; options given here win). Each
    held-out run is predicted in its own group: a group fitted below the cutoff with its values,
    a group unseen there as a new group of the population (one draw of its values per posterior
    draw, shared by its runs); the table gains ``group`` and ``seen``. A stack's pooled members
    are refitted pooled.

    Parameters
    ----------
    law : str, ScalingLaw, Fit, StackedFit, list or mapping
    data : DataFrame
        The runs, with the law's inputs and output (and the split column).
    split : mapping
        One entry ``{column: cutoff}``, e.g. ``{"C": 1e21}`` (compute; computed as 6ND when the
        data has no ``C`` column) or ``{"N": 1e9}``. Runs with ``column < cutoff`` are fitted,
        runs with ``column >= cutoff`` are predicted. A list of cutoffs gives a rolling backtest:
        one fit per cutoff, each predicting every run at or above it.
    ci_probs : sequence of float
        Central predictive intervals scored (default 50%, 80% and :data:`~bayescale.CI_PROB`).
    random_seed : int, optional
        Seed of the fits (cutoff ``i`` is fitted with ``(random_seed + i) % 2**64``) and of the
        predictive draws; None draws one from fresh entropy.
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

    if isinstance(law, Fit):  # refitted with its own settings (a pooled fit: its groups, pool)
        from .next_runs import _refit_kwargs

        if stack is not None:
            raise ValueError("stack= needs several members: a StackedFit or a list of laws")
        fit_kwargs = {**_refit_kwargs(law, None), **fit_kwargs}
        law = law.law
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
    # one number for every cutoff's fit (seed + i) and predictions (seed + 1000 + i)
    random_seed = resolve_seed(random_seed)
    column, raw = next(iter(split.items()))
    cutoffs = sorted(float(c) for c in np.atleast_1d(np.asarray(raw, dtype=float)))
    frame = data.copy()
    columns = fit_kwargs.pop("columns", None)
    if columns:
        frame = frame.rename(columns={v: k for k, v in columns.items()})
    fit_kwargs.setdefault("progressbar", False)
    choice = fit_kwargs.get("likelihood", fit_kwargs_first.get("likelihood"))
    likelihood = get_likelihood(choice if choice is not None else law.default_likelihood)
    # every run's inputs checked before the split (C = 6ND of a text N would break); the
    # output is checked per part below, naming the held-out runs
    prepare_data(law, frame, require_output=False, likelihood=likelihood)
    values = _split_values(frame, column)
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
        draws = _predictive_draws(
            f, inputs, random_seed=(random_seed + 1000 + i) % 2**64, frame=test
        )
        flat = draws.to_numpy().reshape(-1, len(test))
        observed = held_out.y
        scored = _score(flat, observed, probs)
        part = pd.DataFrame(
            {"cutoff": cutoff, "run": test.index, column: values[~train_mask].to_numpy()}
            | {k: test[k].to_numpy() for k in law.inputs if k != column}
            | _group_columns(f, test)
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


def _group_columns(fit: Fit | StackedFit, test: pd.DataFrame) -> dict[str, Any]:
    """``group`` and ``seen`` (the cutoff's fit has the group) of each held-out run, for a
    pooled fit (or a stack's first pooled member); nothing otherwise."""
    fits = fit.fits.values() if isinstance(fit, StackedFit) else [fit]
    pooling = next((f.pooling for f in fits if f.pooling is not None), None)
    if pooling is None:
        return {}
    labels = test[pooling.column].astype(str).to_numpy()
    known = {str(v) for v in pooling.labels}
    return {"group": labels, "seen": np.array([v in known for v in labels])}


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
        FitJob(
            law,
            train,
            {**kwargs, "random_seed": (random_seed + i) % 2**64},
            f"{column} < {cutoff:g}",
        )
        for i, (cutoff, _, train, _, _) in enumerate(splits)
    ]
    batch = fit_many(jobs, client=client, processes=processes, progressbar=progressbar)
    for (cutoff, _, train, _, _), result in zip(splits, batch, strict=True):
        if isinstance(result.error, ValueError):
            raise failed(train, cutoff, result.error) from result.error
        if result.error is not None:
            raise result.error
    return batch.fits
