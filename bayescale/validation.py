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
from .data import PreparedData, prepare_data
from .fit import Fit
from .law import ScalingLaw, get_law
from .likelihoods import Likelihood, get_likelihood
from .model import build_model, observed_name
from .priors import Prior, merge_priors
from .stacking import StackedFit, template_fit
from .structure import Structure, resolve_structure
from .validation_backtest import (  # noqa: F401  (re-exported)
    BacktestResult,
    CalibrationWarning,
    _fit_cutoffs,
    _split_values,
    _warn_calibration,
    backtest,
    calibration_table,
)
from .validation_scores import (  # noqa: F401  (re-exported)
    DEFAULT_CI_PROBS,
    DEFAULT_PROBS,
    _ks_uniform,
    _metrics,
    _pct,
    _pit,
    _predictive_draws,
    _rel_error,
    _run_inputs,
    _scipy_stats,
    _score,
    crps_from_draws,
)

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
    if isinstance(fits, Mapping):
        items = list(fits.values())
    elif isinstance(fits, str | bytes | Fit) or not hasattr(fits, "__iter__"):
        items = None
    else:
        fits = items = list(fits)
    if items is None or any(not isinstance(f, Fit | StackedFit) for f in items):
        raise TypeError(
            "compare takes fits: a mapping of name to Fit or a list of Fits (bs.fit(...) or "
            f"bs.Fit.load(path)), got {type(fits).__name__}: {fits!r}"[:300]
        )
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
    groups : DataFrame, optional
        A pooled fit's coverage per group: ``n_runs``, ``frac_inside``, ``n_outside``,
        ``median_abs_rel_error`` (``table`` then has a ``group`` column).
    """

    kind: str
    draws: xr.DataArray
    table: pd.DataFrame
    metrics: pd.Series
    params: xr.Dataset | None = field(default=None, repr=False)
    groups: pd.DataFrame | None = field(default=None, repr=False)

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
        if self.groups is not None:
            lines += ["  per group:", self.groups.to_string(float_format=lambda v: f"{v:.3g}")]
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
    fit: Fit, *, ci_prob: float = CI_PROB, random_seed: int | None = None, group: Any = None
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
        Seed of the predictive noise (and of new groups' draws).
    group : label or bs.NEW_GROUP, optional
        A pooled fit (``bs.fit(..., group=...)``) predicts every run with its own group's
        parameters and adds ``groups``, the coverage per group. ``group="label"`` checks that
        group's runs; ``group=bs.NEW_GROUP`` predicts each group's runs as a new group of the
        population (one independent new group per fitted group): does the between-group
        spread cover the groups it was fitted to?

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
    >>> pooled = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> bs.posterior_predictive_check(pooled, random_seed=0).groups["n_runs"].tolist()
    [20, 20, 20]
    """
    check_ci_prob(ci_prob)
    if getattr(fit, "pooling", None) is not None:
        from .validation_groups import pooled_check

        return pooled_check(fit, ci_prob, check_seed(random_seed), group)
    if group is not None:
        raise ValueError(
            f"group={group!r}: this fit has no groups (fit with bs.fit(..., group=...))"
        )
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
    scatter: bool = False,
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
        scatter=bool(scatter) and loss_like,
    )
    all_priors = merge_priors(
        {**law.default_priors, **lik.noise_priors, **structure.default_priors()}, priors
    )
    improper = [n for n, p in all_priors.items() if p.dist in ("Flat", "HalfFlat")]
    if improper:  # nothing can be drawn from them (PyMC would fail deep inside)
        dists = ", ".join(f"{n}={all_priors[n]!r}" for n in improper)
        usual = {**law.default_priors, **lik.noise_priors}.get(improper[0])
        raise ValueError(
            f"improper priors ({dists}): prior draws, and so prior predictive checks and SBC, "
            f"need proper priors; give each a proper one, e.g. {improper[0]}={usual!r}"
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
