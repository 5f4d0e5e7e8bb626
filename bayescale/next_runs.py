"""Which run to do next: the expected shrinkage of a target's posterior per FLOP (preposterior).

For a candidate run (N, D) the question is how much narrower the posterior of a target quantity
(N*(C) at a budget, the loss of a planned run, the compute needed for a loss) would be once the
run's loss is known. The answer is an expectation over the loss the run could show:

1. simulate its loss from the posterior predictive (:func:`bayescale.predict_loss` with
   ``kind="predictive"``: the law, the extrapolation drift and the fitted noise), ``n_outcomes``
   times per candidate;
2. for each simulated loss, reweight the existing posterior draws by that loss's likelihood
   under each draw (the fit's own numpy log-density, :mod:`bayescale.likelihoods`) —
   Pareto-smoothed importance sampling (PSIS, Vehtari et al. 2024) through ``arviz_stats``;
3. where the Pareto k of the weights is high (the one run moves the posterior further than
   reweighting can follow), refit with the run added (:func:`bayescale.fit_many`, one batch);
4. the interval width and sd of the target under each updated posterior, averaged over the
   simulated losses, against today's.

The refit uses the likelihood of the new run without the drift term (as a refit does: the drift
is a prior-only widening of predictions beyond the fitted runs), while the simulated losses
include it, so a run far beyond today's runs is simulated as uncertain as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from ._api import CI_PROB, check_ci_prob, check_count, check_flag, check_number, check_seed
from .analysis import FLOPS_PER_PARAM_TOKEN, _as_1d, predict_loss
from .fit import Fit
from .next_runs_weights import (  # noqa: F401  (re-exported: bayescale.next_runs.<name>)
    _spread,
    psis_log_weights,
    weighted_quantiles,
)
from .stacking import StackedFit, stackable, template_fit
from .xp import numpy_ns

__all__ = ["NextRunsResult", "next_runs"]

#: Pareto k above which importance weights are not trusted (Vehtari et al. 2024, for S ≥ 2000
#: draws the threshold min(1 − 1/log10 S, 0.7) is 0.7)
K_THRESHOLD = 0.7

TARGETS = ("N_opt", "loss", "compute_for_loss")


# ------------------------------------------------------------------ targets
@dataclass(frozen=True)
class _Target:
    """A target quantity: a function of a fit's draws, flat over (chain, draw)."""

    kind: str
    value: float
    N: float | None = None
    D: float | None = None

    @property
    def label(self) -> str:
        from .display import human

        if self.kind == "N_opt":
            return f"N*(C) at {human(self.value, 'C')}"
        if self.kind == "loss":
            return f"loss of N={human(self.N, 'N')}, D={human(self.D, 'D')}"
        return f"compute for loss {self.value:g}"

    def __call__(self, fit: Fit) -> np.ndarray:
        if self.kind == "N_opt":
            from .analysis import compute_optimal

            out = compute_optimal(fit, self.value)["N_opt"].isel(compute=0)
        elif self.kind == "loss":
            out = predict_loss(fit, N=self.N, D=self.D, kind="mean")
        else:
            from .decisions import compute_for_loss

            out = compute_for_loss(fit, self.value)["C_needed"].isel(target_loss=0)
        return np.asarray(out.transpose("chain", "draw").to_numpy(), dtype=float).reshape(-1)


def _resolve_target(target: str, compute: Any, N: Any, D: Any, target_loss: Any) -> _Target:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {list(TARGETS)}, got {target!r}")
    if target == "N_opt":
        if compute is None:
            raise ValueError("target='N_opt' needs compute= (the budget in FLOPs)")
        return _Target("N_opt", float(_as_1d("compute", compute)[0]))
    if target == "loss":
        if N is None or D is None:
            raise ValueError("target='loss' needs the planned run: N= and D=")
        n, d = float(_as_1d("N", N)[0]), float(_as_1d("D", D)[0])
        return _Target("loss", FLOPS_PER_PARAM_TOKEN * n * d, N=n, D=d)
    if target_loss is None:
        raise ValueError("target='compute_for_loss' needs target_loss=")
    return _Target("compute_for_loss", float(_as_1d("target_loss", target_loss)[0]))


def _candidates(candidates: Any, group_column: str | None = None) -> pd.DataFrame:
    """Candidates as a DataFrame with columns N, D (a DataFrame, a mapping or an (n, 2) array),
    and ``group`` when they have a column ``group`` (or ``group_column``, a pooled fit's)."""
    if isinstance(candidates, pd.DataFrame | Mapping):
        frame = pd.DataFrame(candidates)
        missing = [c for c in ("N", "D") if c not in frame.columns]
        if missing:
            raise ValueError(f"candidates: missing the column(s) {missing} (runs need N and D)")
        named = [c for c in ("group", group_column) if c is not None and c in frame.columns]
        if len(set(named)) == 2:
            a, b = frame[named[0]].astype(str), frame[named[1]].astype(str)
            if not a.equals(b):
                raise ValueError(
                    f"candidates: the columns {named[0]!r} and {named[1]!r} both name groups "
                    "and disagree; keep one"
                )
        if named:
            out = _candidates(frame[["N", "D"]])
            out["group"] = frame[named[0]].to_numpy()
            return out
        frame = frame[["N", "D"]]
    else:
        try:
            arr = np.asarray(candidates, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                "candidates must be a DataFrame with columns N, D or an array of shape (n, 2) "
                f"of numbers, got {candidates!r}"
            ) from None
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                f"candidates must be a DataFrame with columns N, D or an array of shape (n, 2), "
                f"got shape {arr.shape}"
            )
        frame = pd.DataFrame(arr, columns=["N", "D"])
    if len(frame) == 0:
        raise ValueError("candidates: no runs given")
    n = _as_1d("candidates['N']", frame["N"])  # text such as '1e9' is refused, not read
    d = _as_1d("candidates['D']", frame["D"])
    return pd.DataFrame({"N": n, "D": d})


def _flat(fit: Fit, kind: str) -> dict[str, np.ndarray]:
    return {
        k: np.asarray(v.transpose("chain", "draw").to_numpy(), dtype=float).reshape(-1)
        for k, v in fit.params(kind).items()
    }


def new_run_loglik(fit: Fit | StackedFit, N: Any, D: Any, loss: Any) -> np.ndarray:
    """Log-likelihood of observing ``loss`` at runs (N, D) under each posterior draw.

    ``N``, ``D`` are 1-D (J runs), ``loss`` is ``(J, K)`` (K outcomes per run); the result is
    ``(J, K, S)`` over the S draws, flat over (chain, draw) — the fit's own numpy log-density on
    the law's log mean (no drift, no group offset: what a refit's likelihood of the run is). A
    :class:`~bayescale.StackedFit` gives it over its mixed draws, each draw under its own
    member's law and likelihood.

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=20)
    >>> new_run_loglik(fit, [1e9], [2e10], [[2.5, 2.6]]).shape
    (1, 2, 80)
    """
    ll = _loglik_draws(fit, N, D, loss).transpose("run", "outcome", "chain", "draw").to_numpy()
    return ll.reshape(*ll.shape[:2], -1)


@stackable
def _loglik_draws(fit: Fit, N: Any, D: Any, loss: Any) -> xr.DataArray:
    """:func:`new_run_loglik` of one fit as a DataArray over (chain, draw, run, outcome)."""
    law, lik = fit.law, fit.likelihood
    q = _flat(fit, "natural")
    noise = _flat(fit, "noise")
    n = np.asarray(N, dtype=float)[:, None]
    d = np.asarray(D, dtype=float)[:, None]
    mu = law.log_mean({k: v[None, :] for k, v in q.items()}, numpy_ns, N=n, D=d)  # (J, S)
    obs = lik.transform(np.asarray(loss, dtype=float))  # (J, K)
    ll = lik.logpdf(obs[..., None], mu[:, None, :], **{k: v for k, v in noise.items()})
    post = fit.posterior
    shape = (post.sizes["chain"], post.sizes["draw"], *ll.shape[:2])
    return xr.DataArray(np.moveaxis(ll, -1, 0).reshape(shape), dims=_LL_DIMS)


_LL_DIMS = ("chain", "draw", "run", "outcome")


def _refit_stack(
    stack: StackedFit,
    runs: list[dict[str, float]],
    loglik: list[np.ndarray],
    spec: Any,
    ci_prob: float,
    *,
    seeds: list[int],
    fit_kwargs: Mapping[str, Any] | None,
    processes: int | None,
) -> list[tuple[float, float]]:
    """Width and sd of the target once each run is added to a stack: every member refitted
    with the run, the weights updated by each member's predictive density of it,
    ``w_k · p_k(y)``, with ``p_k(y)`` the mean likelihood over member k's draws (``loglik[k]``,
    one value per run), as the reweighting does."""
    refits = [
        refit_with_runs(m, runs, None, seeds=seeds, fit_kwargs=fit_kwargs, processes=processes)
        for m in stack.fits.values()
    ]
    log_w = np.log(stack.weights.to_numpy())[:, None] + np.stack(loglik)  # (members, runs)
    out = []
    for i in range(len(runs)):
        w = np.exp(log_w[:, i] - log_w[:, i].max())
        weights = dict(zip(stack.names, w / w.sum(), strict=True))
        mixed = StackedFit({n: r[i] for n, r in zip(stack.names, refits, strict=True)}, weights)
        v = spec(mixed)
        width, sd = _spread(v, np.ones((1, v.size)), ci_prob)
        out.append((float(width[0]), float(sd[0])))
    return out


def _refit_kwargs(fit: Fit, fit_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """``bs.fit``'s keywords that refit ``fit`` on other runs (a backtest's cutoffs, a stack's
    members, next_runs' refits): its priors, likelihood, structure, pooling, draws, chains,
    sampler and the sampler settings it recorded (warm-up, ``target_accept``, ...; a fit saved
    before they were recorded gets ``bs.fit``'s default warm-up); ``fit_kwargs`` override."""
    import json

    post = fit.posterior
    recorded = fit._idata.attrs.get("bayescale_sampler_options")  # not idata: no log-lik
    options = json.loads(recorded) if recorded else {}
    if "sampler" in (fit_kwargs or {}) and fit_kwargs["sampler"] != fit.sampler:
        options = {}  # another sampler: the recorded options were this sampler's
    kwargs: dict[str, Any] = {
        "priors": dict(fit.priors),
        "likelihood": fit.likelihood.name,
        "drift": bool(fit.structure.drift),
        "scatter": bool(fit.structure.scatter),
        "draws": int(post.sizes["draw"]),
        "chains": int(post.sizes["chain"]),
        "warn": False,
        **options,
    }
    from .sampling import BACKENDS

    if isinstance(fit.sampler, str) and fit.sampler.lower() in BACKENDS:
        kwargs["sampler"] = fit.sampler  # not "pinned" (bs.testing's fits from given draws)
    groups = [g.column for g in fit.structure.groupings]
    if groups:
        kwargs["groups"] = groups
    if fit.pooling is not None:  # a pooled fit refits pooled: its column, modes and forms
        kwargs["group"] = fit.pooling.column
        kwargs["pool"] = fit.pooling.spec()
    kwargs.update(fit_kwargs or {})
    return kwargs


def refit_with_runs(
    fit: Fit,
    runs: list[dict[str, float]],
    reduce: Any,
    *,
    seeds: list[int],
    fit_kwargs: Mapping[str, Any] | None = None,
    processes: int | None = None,
) -> list[Any]:
    """``reduce(refit)`` of the fit refitted once per added run (one :func:`fit_many` batch)."""
    from .batch import FitJob, fit_many

    kwargs = _refit_kwargs(fit, fit_kwargs)
    base = fit.data
    jobs = []
    for run, seed in zip(runs, seeds, strict=True):
        row = pd.DataFrame([{**{c: np.nan for c in base.columns}, **run}])[list(base.columns)]
        jobs.append(
            FitJob(
                fit.law,
                pd.concat([base, row], ignore_index=True),
                {**kwargs, "random_seed": int(seed)},
            )
        )
    batch = fit_many(jobs, processes=processes, progressbar=False, reduce=reduce)
    batch.raise_on_failure()
    return batch.values


# ------------------------------------------------------------------ the result
@dataclass
class NextRunsResult:
    """What :func:`next_runs` found: one row per candidate, and every simulated outcome.

    ``summary()`` ranks the candidates by expected shrinkage of the target's interval width per
    FLOP; ``outcomes`` holds each simulated loss with its Pareto k, whether it was refitted, and
    the target's width and sd after it; ``plot()`` draws expected shrinkage against FLOPs.
    """

    candidates: pd.DataFrame
    outcomes: pd.DataFrame
    target: str
    target_label: str
    ci_prob: float
    width_now: float
    sd_now: float
    attrs: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Candidates ranked by ``shrinkage_per_flop`` (rank 1 = best).

        Columns: ``N``, ``D``, ``compute`` (6ND), ``width_now``, ``width_expected``,
        ``shrinkage`` (1 − expected width / today's), ``shrinkage_se`` (over the simulated
        outcomes), ``sd_now``/``sd_expected`` (sd of the log target), ``sd_shrinkage``,
        ``shrinkage_per_flop``, ``max_pareto_k``, ``n_refit``, ``rank``.
        """
        return self.candidates.sort_values("rank").reset_index(drop=True)

    @property
    def best(self) -> pd.Series:
        """The top-ranked candidate's row."""
        return self.summary().iloc[0]

    def plot(self, *, ax: Any = None, label_best: bool = True) -> tuple[Any, Any]:
        """Expected shrinkage of the target's interval width against the candidate's FLOPs.

        Examples
        --------
        >>> import bayescale as bs
        >>> fit = bs.testing.pinned_fit(random_seed=0, draws=100)
        >>> res = bs.next_runs(fit, [[1e8, 2e9], [4e8, 8e9]], target="N_opt", compute=1e23,
        ...                    n_outcomes=4, random_seed=0, refit=False)
        >>> fig, ax = res.plot()
        """
        from .next_runs_plot import plot_next_runs

        return plot_next_runs(self, ax=ax, label_best=label_best)

    def _repr_html_(self) -> str:
        from ._api import result_html

        return result_html(repr(self), self.summary())

    def __repr__(self) -> str:
        from .display import human

        b = self.best
        return (
            f"<NextRunsResult: {len(self.candidates)} candidates for {self.target_label}; best "
            f"N={human(b['N'], 'N')}, D={human(b['D'], 'D')} ({human(b['compute'], 'C')}), "
            f"expected shrinkage {100 * b['shrinkage']:.1f}%>"
        )


def next_runs(
    fit: Fit,
    candidates: Any,
    *,
    target: str = "N_opt",
    compute: Any = None,
    N: Any = None,
    D: Any = None,
    target_loss: Any = None,
    ci_prob: float = CI_PROB,
    n_outcomes: int = 16,
    refit: bool = True,
    k_threshold: float = K_THRESHOLD,
    fit_kwargs: Mapping[str, Any] | None = None,
    processes: int | None = None,
    random_seed: int | None = None,
    group: Any = None,
) -> NextRunsResult:
    """Rank candidate runs by the expected shrinkage of a target's posterior spread per FLOP.

    A :class:`~bayescale.StackedFit` (members of laws of N and D) is treated as the mixture it
    is: its mixed draws (target, simulated losses and log-likelihoods each from the draw's own
    member) are reweighted by the outcome's likelihood, which updates each member's draws and
    the members' weights together — member ``k``'s total weight becomes proportional to
    ``w_k · p_k(y)``, its predictive density of the outcome (the Bayesian update of a mixture;
    the stacking weights are not re-optimised). Refitted outcomes refit every member with the
    run and mix them with those updated weights.

    A pooled fit (``bs.fit(..., group=...)``) plans per group. A candidate run belongs to a
    group (its ``group`` column, or the column the fit was grouped by; default the target's
    group): its loss is simulated from that group's predictive and the joint posterior draws
    are reweighted by that group's likelihood of it, so a run in one group also moves the
    population and, through it, the others. The target is ``group``'s (a fitted label or
    ``bs.NEW_GROUP``, "a corpus we have not trained on yet"; one new group per call, shared by
    the target and the candidates labelled ``bs.NEW_GROUP``). Without ``group`` every group
    is planned for with candidates in that group (a :class:`~bayescale.grouped.GroupedResult`).
    Refits add the run to its group (a new group's run under a fresh label) and refit the
    pooled model.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D.
    candidates : DataFrame, mapping or array
        The runs one could do next: columns ``N`` and ``D`` (or an ``(n, 2)`` array).
    target : {"N_opt", "loss", "compute_for_loss"}
        ``"N_opt"``: the compute-optimal size at ``compute``; ``"loss"``: the expected loss of
        the planned run ``N``, ``D``; ``"compute_for_loss"``: the compute needed to reach
        ``target_loss`` on the frontier.
    compute, N, D, target_loss : float
        What defines the target (see ``target``).
    ci_prob : float
        Probability of the central interval whose width is measured.
    n_outcomes : int
        Simulated losses per candidate (16–32 is usual).
    refit : bool
        Refit (NUTS, through :func:`bayescale.fit_many`) the outcomes whose importance weights
        have Pareto k above ``k_threshold``; with False they keep their reweighted estimate and
        are counted in ``n_unreliable``.
    k_threshold : float
        Pareto k above which the importance weights are not trusted (0.7).
    fit_kwargs : mapping, optional
        Options of the refits (default: the fit's draws, chains, priors, likelihood, drift).
    processes : int, optional
        Local processes for the refits (:func:`bayescale.fit_many`).
    random_seed : int, optional
        Seeds the simulated outcomes and the refits (and a new group's draws).
    group : label, list of labels or bs.NEW_GROUP, optional
        A pooled fit's group whose target is planned for (see above).

    Returns
    -------
    NextRunsResult

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=100)
    >>> res = bs.next_runs(fit, {"N": [1e8, 4e8], "D": [2e9, 8e9]}, target="N_opt",
    ...                    compute=1e23, n_outcomes=4, random_seed=0, refit=False)
    >>> list(res.summary()["rank"])
    [1, 2]
    >>> pooled = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> cands = {"N": [1e8, 4e8], "D": [2e9, 8e9], "group": ["a", bs.NEW_GROUP]}
    >>> res = bs.next_runs(pooled, cands, target="N_opt", compute=1e23, n_outcomes=4,
    ...                    random_seed=0, refit=False, group=bs.NEW_GROUP)
    >>> res.summary()["group"].tolist()  # a run in the new corpus tells more about it
    ['<new group>', 'a']
    """
    if not isinstance(fit, Fit | StackedFit):
        raise TypeError(f"next_runs needs a Fit or a StackedFit, got {type(fit).__name__}")
    law = template_fit(fit, "next_runs").law
    if set(law.inputs) != {"N", "D"}:
        raise ValueError(
            f"next_runs needs a law of N and D only; {law.name!r} has {list(law.inputs)}"
        )
    ci_prob, random_seed = check_ci_prob(ci_prob), check_seed(random_seed)
    n_outcomes, refit = check_count(n_outcomes, "n_outcomes", 2), check_flag(refit, "refit")
    k_threshold = check_number(k_threshold, "k_threshold", low=None, example="0.7")
    spec = _resolve_target(target, compute, N, D, target_loss)
    pooling = getattr(fit, "pooling", None)
    cands = _candidates(candidates, pooling.column if pooling is not None else None)
    options = dict(
        target=target, compute=compute, N=N, D=D, target_loss=target_loss, ci_prob=ci_prob,
        n_outcomes=n_outcomes, refit=refit, k_threshold=k_threshold, fit_kwargs=fit_kwargs,
        processes=processes, random_seed=random_seed,
    )  # fmt: skip
    if pooling is None and (group is not None or "group" in cands):
        raise ValueError(
            "next_runs: group= and a candidates' group column need a pooled fit "
            "(bs.fit(..., group=...)); this fit has no groups"
        )
    if pooling is not None:
        from .next_runs_groups import pooled_parts

        parts = pooled_parts(fit, cands, group, random_seed, options, next_runs)
        if not isinstance(parts, tuple):
            return parts  # every group, one result each
    else:
        parts = (fit, lambda n, d, seed: predict_loss(fit, N=n, D=d, kind="predictive",
                 random_seed=seed), lambda n, d, y: new_run_loglik(fit, n, d, y), None)  # fmt: skip
    target_fit, predictive, loglik, refit_pooled = parts
    values = spec(target_fit)
    n_draws = values.size
    if n_outcomes > n_draws:
        raise ValueError(f"n_outcomes={n_outcomes} exceeds the fit's {n_draws} draws")
    ok = np.isfinite(values) & (values > 0)
    if not ok.all():
        raise ValueError(
            f"the target {spec.label} is not finite and positive in {int((~ok).sum())} of "
            f"{n_draws} draws (e.g. a loss below the irreducible floor); choose another target"
        )
    uniform = np.ones(n_draws)
    width_now, sd_now = (float(x[0]) for x in _spread(values, uniform[None, :], ci_prob))

    ss = np.random.SeedSequence(random_seed)
    pred_seed, pick_seed, refit_seed = (int(s.generate_state(1)[0]) for s in ss.spawn(3))
    n, d = cands["N"].to_numpy(), cands["D"].to_numpy()
    pred = predictive(n, d, pred_seed)
    pred = np.asarray(pred.transpose("chain", "draw", "point").to_numpy()).reshape(n_draws, -1)
    rng = np.random.default_rng(pick_seed)
    picks = np.stack([rng.choice(n_draws, size=n_outcomes, replace=False) for _ in range(len(n))])
    y = np.take_along_axis(pred.T, picks, axis=1)  # (J, K)

    lw, khat = psis_log_weights(loglik(n, d, y))  # (J, K, S), (J, K)
    width, sd = _spread(values, np.exp(lw), ci_prob)
    refitted = np.zeros(y.shape, dtype=bool)
    high = khat > k_threshold
    if refit and high.any():
        where = np.argwhere(high)
        seeds = np.random.SeedSequence(refit_seed).generate_state(len(where)).tolist()
        runs = [{"N": n[j], "D": d[j], law.output: y[j, k]} for j, k in where]

        def reduce(f: Fit) -> tuple[float, float]:
            v = spec(f)
            w, s = _spread(v, np.ones((1, v.size)), ci_prob)
            return float(w[0]), float(s[0])

        if refit_pooled is not None:
            refits = refit_pooled(where, y, seeds, spec, ci_prob)
        elif isinstance(fit, StackedFit):
            member_ll = [  # log of each member's mean likelihood of each added run
                logsumexp(new_run_loglik(m, n, d, y)[where[:, 0], where[:, 1]], axis=-1)
                - np.log(m.n_draws)
                for m in fit.fits.values()
            ]
            kw = {"seeds": seeds, "fit_kwargs": fit_kwargs, "processes": processes}
            refits = _refit_stack(fit, runs, member_ll, spec, ci_prob, **kw)
        else:
            refits = refit_with_runs(
                fit, runs, reduce, seeds=seeds, fit_kwargs=fit_kwargs, processes=processes
            )
        for (j, k), (w, s) in zip(where, refits, strict=True):
            width[j, k], sd[j, k], refitted[j, k] = w, s, True

    flops = FLOPS_PER_PARAM_TOKEN * n * d
    shrink = 1.0 - width / width_now
    table = cands.copy()
    table["compute"] = flops
    table["width_now"] = width_now
    table["width_expected"] = width.mean(axis=1)
    table["shrinkage"] = shrink.mean(axis=1)
    table["shrinkage_se"] = shrink.std(axis=1, ddof=1) / np.sqrt(n_outcomes)
    table["sd_now"] = sd_now
    table["sd_expected"] = sd.mean(axis=1)
    table["sd_shrinkage"] = 1.0 - table["sd_expected"] / sd_now
    table["shrinkage_per_flop"] = table["shrinkage"] / flops
    table["max_pareto_k"] = khat.max(axis=1)
    table["n_refit"] = refitted.sum(axis=1)
    table["n_unreliable"] = (high & ~refitted).sum(axis=1)
    order = np.argsort(-table["shrinkage_per_flop"].to_numpy(), kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    table["rank"] = rank
    outcomes = pd.DataFrame(
        {
            "candidate": np.repeat(np.arange(len(n)), n_outcomes),
            "outcome": np.tile(np.arange(n_outcomes), len(n)),
            law.output: y.ravel(),
            "pareto_k": khat.ravel(),
            "refit": refitted.ravel(),
            "width": width.ravel(),
            "sd": sd.ravel(),
        }
    )
    return NextRunsResult(
        candidates=table,
        outcomes=outcomes,
        target=spec.kind,
        target_label=spec.label,
        ci_prob=float(ci_prob),
        width_now=width_now,
        sd_now=sd_now,
        attrs={
            "random_seed": random_seed,
            "n_outcomes": n_outcomes,
            "k_threshold": k_threshold,
            "refit": refit,
        },
    )


def candidate_grid(
    fit: Fit,
    *,
    compute: Any = None,
    tokens_per_param: Any = (5.0, 10.0, 20.0, 40.0, 80.0),
) -> pd.DataFrame:
    """A default grid of pilot runs: at each budget, one run per tokens-per-parameter ratio.

    Default budgets: the fit's largest run's compute × (1, 3, 10).

    Examples
    --------
    >>> import bayescale as bs
    >>> grid = candidate_grid(bs.testing.pinned_fit(random_seed=0, draws=10), compute=[1e20])
    >>> len(grid), round(float(grid["D"][2] / grid["N"][2]))
    (5, 20)
    """
    if compute is None:
        c_max = float((FLOPS_PER_PARAM_TOKEN * fit.data["N"] * fit.data["D"]).max())
        compute = [c_max, 3 * c_max, 10 * c_max]
    c = _as_1d("compute", compute)
    r = _as_1d("tokens_per_param", tokens_per_param)
    cc, rr = np.meshgrid(c, r, indexing="ij")
    n = np.sqrt(cc / (FLOPS_PER_PARAM_TOKEN * rr))
    return pd.DataFrame({"N": n.ravel(), "D": (rr * n).ravel(), "compute": cc.ravel()})
