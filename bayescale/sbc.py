"""Simulation-based calibration (Talts et al. 2018, arXiv:1804.06788) for any registered law.

If the sampler and the model are right, the rank of a parameter's true value among posterior
draws — true value drawn from the prior, data simulated from it, posterior fitted to that data —
is uniform. :func:`sbc` repeats this ``n_sims`` times and tests the ranks of every sampled
parameter (law and noise) for uniformity. It is exposed as ``bayescale.testing.sbc``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._api import deprecated_args, result_html
from .data import DataWarning
from .fit import RHAT_MAX
from .fit import fit as fit_law
from .law import ScalingLaw, get_law
from .likelihoods import Likelihood, get_likelihood
from .priors import Prior
from .progress import JobProgress

__all__ = ["SBCResult", "rank_uniformity", "sbc"]


@dataclass
class SBCResult:
    """Ranks and uniformity tests of a simulation-based calibration (result of :func:`sbc`).

    Attributes
    ----------
    law : str
        ``name@version`` of the law.
    ranks : DataFrame
        One row per used simulation, one column per sampled parameter (vector parameters as
        ``name[i]``): the number of thinned posterior draws below the true value, 0…L.
    n_thin : int
        L, the number of posterior draws each true value is ranked among.
    tests : DataFrame
        Per parameter: ``n``, ``bins``, ``chi2``, ``chi2_pvalue`` (binned ranks against the
        uniform distribution) and ``ks_pvalue`` (Kolmogorov–Smirnov on randomised fractional
        ranks).
    n_sims : int
        Simulations requested.
    rejected : list of str
        One reason per simulated data set that was not fitted (non-finite or out-of-range
        outputs, or refused by ``accept``).
    failed : list of str
        One message per fit that raised an error.
    diagnostics : DataFrame
        Per used simulation: divergences, largest R-hat, smallest bulk ESS of the fit.
    seconds : float
        Wall time.
    """

    law: str
    ranks: pd.DataFrame
    n_thin: int
    tests: pd.DataFrame
    n_sims: int
    rejected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0

    @property
    def pvalues(self) -> pd.Series:
        """χ² uniformity p-value of each parameter."""
        return self.tests["chi2_pvalue"]

    @property
    def n_used(self) -> int:
        """Simulations whose ranks entered the tests."""
        return len(self.ranks)

    def summary(self) -> pd.DataFrame:
        """The uniformity tests per parameter (``tests``); ``str(result)`` is the text report."""
        return self.tests.copy()

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())

    def __str__(self) -> str:
        """A plain-text report."""
        lines = [
            f"SBC of {self.law}: {self.n_sims} simulations, {self.n_used} used, "
            f"{len(self.rejected)} rejected data sets, {len(self.failed)} failed fits; "
            f"ranks among L = {self.n_thin} draws ({self.seconds:.0f} s)",
            self.tests.to_string(float_format=lambda v: f"{v:.3g}"),
        ]
        if len(self.diagnostics):
            d = self.diagnostics
            lines.append(
                f"fits with divergences: {int((d['divergences'] > 0).sum())}; "
                f"with R-hat > {RHAT_MAX}: {int((d['max_r_hat'] > RHAT_MAX).sum())}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SBCResult {self.law}>\n{self}"


def _scipy_stats():
    """scipy.stats, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


def rank_uniformity(ranks: np.ndarray, n_thin: int, bins: int | None = None, seed: int = 0) -> dict:
    """χ² and Kolmogorov–Smirnov tests that integer ranks are uniform on 0…``n_thin``.

    Bins split the ``n_thin + 1`` rank values as evenly as possible; expected counts follow
    the number of rank values in each bin. By default the number of bins is the largest of
    2…20 that leaves at least 5 expected ranks per bin.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).integers(0, 100, size=500)
    >>> res = rank_uniformity(r, n_thin=99)
    >>> res["bins"], bool(res["chi2_pvalue"] > 0.01)
    (20, True)
    """
    ranks = np.asarray(ranks, dtype=int)
    n = ranks.size
    values = n_thin + 1
    if bins is None:
        bins = int(np.clip(n // 5, 2, 20))
    bins = int(min(bins, values))
    edges = np.floor(np.arange(values) * bins / values).astype(int)  # bin of each rank value
    expected = np.bincount(edges, minlength=bins) / values * n
    observed = np.bincount(edges[np.clip(ranks, 0, n_thin)], minlength=bins)
    chi2 = float(np.sum((observed - expected) ** 2 / expected)) if n else np.nan
    rng = np.random.default_rng(seed)
    frac = (ranks + rng.uniform(size=n)) / values
    return {
        "n": n,
        "bins": bins,
        "chi2": chi2,
        "chi2_pvalue": float(_scipy_stats().chi2.sf(chi2, bins - 1)) if n else np.nan,
        "ks_pvalue": float(_scipy_stats().kstest(frac, "uniform").pvalue) if n else np.nan,
    }


# one bar over the jobs (also fit_many's): HTML in a kernel, stderr in a terminal
_Progress = JobProgress


def _true_values(prior: Any, names: list[str], i: int) -> dict[str, np.ndarray]:
    return {n: np.asarray(prior[n].isel(chain=0, draw=i).to_numpy(), dtype=float) for n in names}


def _moved_drift(value: np.ndarray, simulated: Prior, fitted: Prior) -> np.ndarray:
    """The true drift (or scatter) of a simulation under the prior its fit used.

    The drift's prior median depends on the runs (``Structure.adapt_drift``), so the joint
    model draws it after the runs: ``drift | runs ~ LogNormal(log m(runs), s)``. A draw of the
    simulation's ``LogNormal(μ, s)`` (independent of the runs) moved by its quantile,
    ``exp(log m + (log value − μ))``, is a draw of exactly that.
    """
    if simulated == fitted:
        return value
    if simulated.dist != "LogNormal" or fitted.dist != "LogNormal":
        raise ValueError(f"cannot move a drift drawn from {simulated} to {fitted}")
    z = (np.log(value) - simulated.params["mu"]) / simulated.params["sigma"]
    return np.exp(fitted.params["mu"] + fitted.params["sigma"] * z)


@deprecated_args(renamed={"seed": "random_seed"}, positional=("n_sims",))
def sbc(
    law: str | ScalingLaw,
    design: pd.DataFrame,
    *,
    n_sims: int = 100,
    priors: Mapping[str, Prior] | None = None,
    likelihood: str | Likelihood | None = None,
    draws: int = 250,
    tune: int = 250,
    chains: int = 2,
    n_thin: int = 99,
    bins: int | None = None,
    random_seed: int = 0,
    accept: Callable[[pd.DataFrame], bool] | None = None,
    progressbar: bool = True,
    **fit_kwargs: Any,
) -> SBCResult:
    """Simulation-based calibration of a law on a design (Talts et al. 2018).

    For each simulation: draw every sampled parameter from the prior (PyMC's prior predictive
    on the model built at ``design``), simulate the outputs from the law plus the likelihood's
    noise, fit with NUTS, and record the rank of each true value among ``n_thin`` posterior
    draws thinned evenly from the chains. Ranks of a calibrated model are uniform on
    0…``n_thin``; each parameter gets a χ² test on binned ranks and a KS test.

    Simulated data sets whose outputs are not finite or fall outside the likelihood's domain
    (e.g. losses overflowing to infinity under extreme prior draws), or that ``accept`` refuses,
    are *rejected*: not fitted, counted and listed with the reason in ``result.rejected``.
    Rejecting on the simulated data alone leaves the ranks uniform, because the posterior of a
    kept data set does not depend on which other data sets were kept. Fits that raise are
    counted in ``result.failed``. Neither is silently dropped.

    Parameters
    ----------
    law : str or ScalingLaw
    design : DataFrame
        The law's inputs (and any extra columns the likelihood needs), one row per run.
    n_sims : int
        Number of simulations (≥ 100 for a meaningful test; fewer for smoke tests).
    priors, likelihood
        As for :func:`bayescale.fit`; simulation and fit use the same priors.
    draws, tune, chains : int
        Size of each fit.
    n_thin : int
        L, the number of posterior draws each true value is ranked among (at most
        ``chains·draws``).
    bins : int, optional
        Bins of the χ² test (default: up to 20, at least 5 expected ranks per bin).
    random_seed : int
        Seed of the prior draws, the noise and the fits.
    accept : callable, optional
        ``accept(simulated_runs) -> bool``; return False to reject a data set.
    progressbar : bool
        Show a progress bar over the simulations.
    **fit_kwargs
        Further arguments of :func:`bayescale.fit` (e.g. ``target_accept``).

    Returns
    -------
    SBCResult

    Examples
    --------
    >>> import bayescale as bs
    >>> design = bs.testing.chinchilla_design(30, random_seed=0)
    >>> res = bs.testing.sbc("chinchilla", design, n_sims=3, draws=100, tune=150,
    ...                      n_thin=49, progressbar=False)
    >>> res.ranks.shape[1], int(res.ranks.to_numpy().max()) <= 49
    (8, True)
    """
    from .validation import _prior_samples

    law = get_law(law)
    lik = get_likelihood(likelihood if likelihood is not None else law.default_likelihood)
    if not isinstance(n_sims, int | np.integer) or n_sims < 1:
        raise ValueError(f"n_sims must be a positive integer, got {n_sims!r}")
    if not 1 <= n_thin <= draws * chains:
        raise ValueError(f"n_thin must lie in 1…draws·chains = {draws * chains}, got {n_thin}")
    missing = [c for c in (*law.inputs, *lik.extra_columns) if c not in design.columns]
    if missing:
        raise ValueError(f"the design lacks the columns {missing} that law {law.name!r} needs")
    start = time.perf_counter()
    seeds = np.random.SeedSequence(random_seed).generate_state(n_sims + 1)
    frame = design.drop(columns=[law.output], errors="ignore")
    prior, sims, prepared, all_priors, structure = _prior_samples(
        law,
        frame,
        priors,
        lik,
        n_sims,
        int(seeds[-1]),
        groups=fit_kwargs.get("groups"),
        drift=fit_kwargs.get("drift", True),
        scatter=fit_kwargs.get("scatter", False),
    )
    sampled = [*law.parameter_names, *lik.noise_priors, *structure.parameter_names()]
    free = [n for n in sampled if n not in all_priors or not all_priors[n].is_fixed]
    base = prepared.frame.copy()
    thin_idx = np.round(np.linspace(0, draws * chains - 1, n_thin)).astype(int)

    rank_rows: dict[int, dict[str, int]] = {}
    diag_rows: dict[int, dict[str, float]] = {}
    rejected: list[str] = []
    failed: list[str] = []
    bar = _Progress(n_sims, f"SBC {law.name}", progressbar)
    fit_kwargs = {"progressbar": False, "warn": False, **fit_kwargs}
    try:
        for i in range(n_sims):
            y = sims[i]
            domain_ok = np.isfinite(y) & ~lik.outside_domain(y)
            data = base.assign(**{law.output: y})
            for g in structure.groupings:  # grouping columns the fit must see again
                if g.column not in data.columns and g.column in design.columns:
                    data[g.column] = design.loc[data.index, g.column].to_numpy()
            if not domain_ok.all():
                rejected.append(f"sim {i}: {int((~domain_ok).sum())} outputs not finite/in range")
            elif accept is not None and not accept(data):
                rejected.append(f"sim {i}: refused by accept()")
            else:
                try:
                    with warnings.catch_warnings():  # prior draws may be implausible by design
                        warnings.simplefilter("ignore", DataWarning)
                        f = fit_law(
                            law,
                            data,
                            priors=priors,
                            likelihood=lik,
                            draws=draws,
                            tune=tune,
                            chains=chains,
                            random_seed=int(seeds[i] % (2**31)),
                            **fit_kwargs,
                        )
                except Exception as err:  # a failed fit is counted, not fatal
                    failed.append(f"sim {i}: {type(err).__name__}: {err}")
                else:
                    truth = _true_values(prior, free, i)
                    for name in ("drift", "scatter"):  # priors set by the runs
                        if name in truth:
                            truth[name] = _moved_drift(
                                truth[name], all_priors[name], f.priors[name]
                            )
                    post = f.posterior
                    row: dict[str, int] = {}
                    for name in free:
                        values = post[name].transpose("chain", "draw", ...).to_numpy()
                        flat = values.reshape(chains * draws, -1)[thin_idx]
                        true = truth[name].reshape(-1)
                        counts = (flat < true[None, :]).sum(axis=0)
                        if true.size == 1:
                            row[name] = int(counts[0])
                        else:
                            row.update({f"{name}[{j}]": int(c) for j, c in enumerate(counts)})
                    rank_rows[i] = row
                    diag = f.diagnostics()
                    diag_rows[i] = {
                        "divergences": diag["divergences"],
                        "max_r_hat": diag["max_r_hat"],
                        "min_ess_bulk": diag["min_ess_bulk"],
                    }
            bar.advance(f"rejected {len(rejected)} failed {len(failed)}")
    finally:
        bar.close()
    ranks = pd.DataFrame.from_dict(rank_rows, orient="index")
    ranks.index.name = "sim"
    tests = pd.DataFrame(
        {
            col: rank_uniformity(ranks[col].to_numpy(), n_thin, bins, seed=random_seed)
            for col in ranks.columns
        }
    ).T
    if len(tests):
        tests = tests.astype({"n": int, "bins": int})
    tests.index.name = "parameter"
    return SBCResult(
        law=law.key,
        ranks=ranks,
        n_thin=n_thin,
        tests=tests,
        n_sims=int(n_sims),
        rejected=rejected,
        failed=failed,
        diagnostics=pd.DataFrame.from_dict(diag_rows, orient="index"),
        seconds=time.perf_counter() - start,
    )
