"""``bs.plan``: the one-page answer to "what should I train with this budget, and what next?".

One object gathers what the analysis layer already answers: the recommended N and D
(:func:`bayescale.compute_optimal`, or :func:`bayescale.inference_optimal` when inference
demand is given), the predicted loss of that run with its predictive interval
(:func:`bayescale.predict_loss`), the deadweight compute of rules of thumb
(:mod:`bayescale.misallocation`) and the best next pilot run (:func:`bayescale.next_runs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._api import CI_PROB, check_ci_prob, check_number, check_seed, check_values
from .analysis import FLOPS_PER_PARAM_TOKEN, compute_optimal, predict_loss
from .fit import Fit
from .next_runs import NextRunsResult, candidate_grid, next_runs
from .pooling import NEW_GROUP, group_view
from .stacking import StackedFit

__all__ = ["Plan", "plan"]

#: rules of thumb checked by default: D = 20·N (Hoffmann et al. 2022, the "Chinchilla rule")
#: and a 100× over-trained ratio
DEFAULT_RULES = (20.0, 100.0)


def _interval(values: Any, ci_prob: float) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (np.nan, np.nan, np.nan)
    lo, mid, hi = np.quantile(v, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
    return float(mid), float(lo), float(hi)


@dataclass
class Plan:
    """The plan for one budget (see :func:`plan`): ``summary()``, ``rules``, ``next_runs``,
    ``to_markdown()``, ``plot()`` and an HTML view in notebooks."""

    fit: Fit | StackedFit
    compute: float
    N: float
    D: float
    ci_prob: float
    table: pd.DataFrame
    rules: pd.DataFrame
    next_runs: NextRunsResult
    inference_tokens: float | None = None
    price_per_flop: float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    #: a pooled fit's group planned for (a label or ``bs.NEW_GROUP``), None without groups
    group: Any = None
    #: the fit whose draws the plan read: ``fit`` itself, or its view of ``group``
    view: Any = None

    @property
    def analysed(self) -> Fit | StackedFit:
        """The fit the numbers come from: the group's view for a pooled fit, else ``fit``."""
        return self.fit if self.view is None else self.view

    def summary(self) -> pd.DataFrame:
        """One row per quantity: ``median``, ``lo``, ``hi`` (the ``ci_prob`` interval) and a
        ``note``. Quantities: recommended ``N``, ``D``, ``tokens_per_param``, ``C_train``,
        the law's ``loss`` at the run and the ``loss_predictive`` of an observed run."""
        return self.table.copy()

    @property
    def best_pilot(self) -> pd.Series:
        """The top-ranked next pilot run (a row of ``next_runs.summary()``)."""
        return self.next_runs.best

    def to_markdown(self) -> str:
        """The one-page plan as Markdown (numbers for people, :mod:`bayescale.display`)."""
        from .display import flops, human, interval

        pct = f"{100 * self.ci_prob:g}%"
        fitted = (
            f"Law `{self.fit.law.name}`"
            if isinstance(self.fit, Fit)
            else "Stack of " + ", ".join(f"`{n}` ({w:.2f})" for n, w in self.fit.weights.items())
        )
        lines = [f"# Plan for {flops(self.compute)}", ""]
        pooled = ""
        if isinstance(self.fit, Fit) and self.fit.pooling is not None:
            pooling = self.fit.pooling
            which = (
                "a new group of the population (a corpus we have not trained on yet)"
                if self.group == NEW_GROUP
                else f"group {self.group!r} ({len(self.analysed.data)} runs)"
            )
            pooled = (
                f" Pooled over {pooling.grouping.size} groups of {pooling.column!r}; "
                f"this plan is for {which}."
            )
        mode = (
            "compute-optimal"
            if self.inference_tokens is None
            else f"cheapest training + inference for {human(self.inference_tokens, 'D')} "
            "of inference at the compute-optimal run's loss"
        )
        lines += [
            f"{fitted} fitted to {len(self.fit.data)} runs; {mode}.{pooled}",
            "",
            f"**Train N = {human(self.N, 'N')} on D = {human(self.D, 'D')}** "
            f"({self.D / self.N:.3g} tokens per parameter, "
            f"{flops(FLOPS_PER_PARAM_TOKEN * self.N * self.D)}).",
            "",
            f"| quantity | median [{pct} interval] | note |",
            "|---|---|---|",
        ]
        for name, row in self.table.iterrows():
            unit = name if name in ("N", "D") else ("C" if name == "C_train" else None)
            lines.append(
                f"| {name} | {interval(row['median'], row['lo'], row['hi'], unit)} | "
                f"{row['note']} |"
            )
        lines += [
            "",
            "## Rules of thumb at this budget",
            "",
            "| rule | N | D | deadweight compute | P(within 5% of optimal compute) |"
            + (" deadweight cost |" if self.price_per_flop is not None else ""),
            "|---|---|---|---|---|" + ("---|" if self.price_per_flop is not None else ""),
        ]
        for _, r in self.rules.iterrows():
            dead = interval(
                r["deadweight_fraction"] * 100,
                r["deadweight_fraction_lo"] * 100,
                r["deadweight_fraction_hi"] * 100,
            )
            cells = [
                r["rule"],
                human(r["N"], "N"),
                human(r["D"], "D"),
                f"{dead} %",
                f"{r['p_within_compute']:.2f}",
            ]
            if self.price_per_flop is not None:
                cells.append(human(r["deadweight_cost"]))
            lines.append("| " + " | ".join(cells) + " |")
        b = self.best_pilot
        nr = self.next_runs
        lines += [
            "",
            "## Best next pilot run",
            "",
            f"Target: {nr.target_label} ({100 * nr.ci_prob:g}% width today "
            f"{human(nr.width_now, 'N' if nr.target == 'N_opt' else None)}).",
            "",
            f"Run N = {human(b['N'], 'N')} on D = {human(b['D'], 'D')} "
            f"({flops(b['compute'])}): expected shrinkage of the width "
            f"{100 * b['shrinkage']:.1f}% (± {200 * b['shrinkage_se']:.1f}), of the sd "
            f"{100 * b['sd_shrinkage']:.1f}%; the best of {len(nr.candidates)} "
            "candidates per FLOP.",
            "",
        ]
        if int(nr.candidates["n_unreliable"].sum()):
            lines += [
                f"{int(nr.candidates['n_unreliable'].sum())} simulated outcomes had "
                "Pareto k > 0.7 and were not refitted (next_runs(refit=True) refits them).",
                "",
            ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ._api import result_html

        return result_html(self.to_markdown(), self.summary())

    def __repr__(self) -> str:
        from .display import flops, human

        which = "" if self.group is None else f" (group {self.group!r})"
        return (
            f"<Plan for {flops(self.compute)}{which}: N={human(self.N, 'N')}, "
            f"D={human(self.D, 'D')}>"
        )

    def plot(self, *, ax: Any = None) -> tuple[Any, Any]:
        """N*(C) around the budget with the recommended run, and the next runs' expected
        shrinkage per candidate (two panels; ``ax`` a pair of axes)."""
        from .next_runs_plot import plot_plan

        return plot_plan(self, ax=ax)


def plan(
    fit: Fit,
    *,
    compute: float,
    inference_tokens: float | None = None,
    price_per_flop: float | None = None,
    ci_prob: float = CI_PROB,
    rules: Sequence[float] = DEFAULT_RULES,
    candidates: Any = None,
    n_outcomes: int = 16,
    refit: bool = False,
    random_seed: int | None = None,
    group: Any = None,
) -> Plan:
    """The plan for a training budget: what to train, what it will reach, what to run next.

    Parameters
    ----------
    fit : Fit or StackedFit
        A fitted law of N and D.
    compute : float
        The training budget in FLOPs.
    inference_tokens : float, optional
        Lifetime inference tokens: the recommendation becomes Sardana & Frankle's cheapest
        training + inference run (:func:`bayescale.inference_optimal`) reaching the
        compute-optimal run's median loss.
    price_per_flop : float, optional
        Adds the money value of the rules' deadweight compute.
    ci_prob : float
        Probability of every interval.
    rules : sequence of float
        Tokens-per-parameter rules checked (default 20 and 100).
    candidates : DataFrame, optional
        Pilot runs for :func:`bayescale.next_runs` (default :func:`candidate_grid`: the fit's
        largest compute × 1, 3, 10 at 5–80 tokens per parameter).
    n_outcomes : int
        Simulated outcomes per pilot candidate.
    refit : bool
        Refit high-Pareto-k outcomes in ``next_runs`` (NUTS; off by default for speed).
    random_seed : int, optional
        Seed of the predictive draws and the pilot simulations (and a new group's draws; None:
        fresh entropy).
    group : label, list of labels or bs.NEW_GROUP, optional
        For a pooled fit (``bs.fit(..., group=...)``): plan for one fitted group, or for
        ``bs.NEW_GROUP`` — a corpus we have not trained on yet, drawn from the population
        (one new group for every number of the plan, pilot runs included). Default: every
        group, a :class:`~bayescale.grouped.GroupedResult` (label → :class:`Plan`). The
        pilot candidates belong to the planned group (:func:`~bayescale.next_runs`).

    Returns
    -------
    Plan

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0, draws=100)
    >>> p = bs.plan(fit, compute=1e24, n_outcomes=4)
    >>> bool(p.summary().loc["N", "median"] > 1e10)
    True
    >>> pooled = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> new = bs.plan(pooled, compute=1e24, n_outcomes=4, group=bs.NEW_GROUP)
    >>> "a new group of the population" in new.to_markdown()
    True
    """
    from .decisions import inference_optimal
    from .misallocation import misallocation_cost, rule_of_thumb_check

    if not isinstance(fit, Fit | StackedFit):
        raise TypeError(f"plan needs a Fit or a StackedFit, got {type(fit).__name__}")
    c = check_number(compute, "compute", example="1e23 FLOPs; one budget per plan")
    inference_tokens = check_number(inference_tokens, "inference_tokens", low_open=False, none=True)
    price_per_flop = check_number(price_per_flop, "price_per_flop", low_open=False, none=True)
    ci_prob = check_ci_prob(ci_prob)
    random_seed = check_seed(random_seed)
    check_values("rules", rules)
    pooled = getattr(fit, "pooling", None) is not None
    if not pooled and group is not None:
        raise ValueError(
            f"group={group!r}: this fit has no groups (fit with bs.fit(..., group=...))"
        )
    options = dict(
        compute=c, inference_tokens=inference_tokens, price_per_flop=price_per_flop,
        ci_prob=ci_prob, rules=rules, candidates=candidates, n_outcomes=n_outcomes,
        refit=refit, random_seed=random_seed,
    )  # fmt: skip
    if pooled and (group is None or not (isinstance(group, str) or np.ndim(group) == 0)):
        from .grouped import combine, group_labels

        labels, _ = group_labels(fit, group=group)
        return combine([plan(fit, **options, group=g) for g in labels], labels)
    if pooled:
        from .grouped import group_labels
        from .next_runs_groups import _new_group_seed

        group_labels(fit, group=group)  # a label of the fit, or NEW_GROUP
        # the same new group as next_runs' (one new group for the whole plan)
        view = group_view(fit, group, random_seed=_new_group_seed(random_seed))
        whole, fit = fit, view
    opt = compute_optimal(fit, c).isel(compute=0)
    n_draws, d_draws = opt["N_opt"].to_numpy(), opt["D_opt"].to_numpy()
    notes = {"N": "compute-optimal N*(C)", "D": "compute-optimal D*(C)"}
    if inference_tokens is not None:
        target = float(np.median(opt["loss_opt"].to_numpy()))
        inf = inference_optimal(fit, target, inference_tokens).isel(
            target_loss=0, inference_tokens=0
        )
        n_draws, d_draws = inf["N_opt"].to_numpy(), inf["D_opt"].to_numpy()
        notes = {k: f"training + inference optimum at loss {target:.4g}" for k in ("N", "D")}
    n_rec, d_rec = float(np.nanmedian(n_draws)), float(np.nanmedian(d_draws))
    mean = predict_loss(fit, N=n_rec, D=d_rec, kind="mean").to_numpy()
    pred = predict_loss(fit, N=n_rec, D=d_rec, kind="predictive", random_seed=random_seed)
    rows = {
        "N": (*_interval(n_draws, ci_prob), notes["N"]),
        "D": (*_interval(d_draws, ci_prob), notes["D"]),
        "tokens_per_param": (*_interval(d_draws / n_draws, ci_prob), "D/N"),
        "C_train": (*_interval(FLOPS_PER_PARAM_TOKEN * n_draws * d_draws, ci_prob), "6ND"),
        "loss": (*_interval(mean, ci_prob), "law's loss at the recommended (N, D)"),
        "loss_predictive": (
            *_interval(pred.to_numpy(), ci_prob),
            "an observed run's loss (noise and drift)",
        ),
    }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["median", "lo", "hi", "note"])
    table.index.name = "quantity"

    rule_rows = []
    for r in rules:
        n_r = float(np.sqrt(c / (FLOPS_PER_PARAM_TOKEN * r)))
        cost = misallocation_cost(fit, N=n_r, D=r * n_r, price_per_flop=price_per_flop)
        check = rule_of_thumb_check(fit, compute=c, tokens_per_param=r)
        mid, lo, hi = _interval(cost["deadweight_fraction"].to_numpy(), ci_prob)
        row = {
            "rule": f"D = {r:g}·N",
            "tokens_per_param": r,
            "N": n_r,
            "D": r * n_r,
            "deadweight_fraction": mid,
            "deadweight_fraction_lo": lo,
            "deadweight_fraction_hi": hi,
            "deadweight_flops": float(np.nanmedian(cost["deadweight_flops"].to_numpy())),
            "p_within_compute": float(check["p_within_compute"].to_numpy()[0]),
            "p_within_loss": float(check["p_within_loss"].to_numpy()[0]),
        }
        if price_per_flop is not None:
            row["deadweight_cost"] = float(np.nanmedian(cost["deadweight_cost"].to_numpy()))
        rule_rows.append(row)
    grid = candidate_grid(fit) if candidates is None else candidates
    nr = next_runs(
        whole if pooled else fit,
        grid,
        target="N_opt",
        compute=c,
        ci_prob=ci_prob,
        n_outcomes=n_outcomes,
        refit=refit,
        random_seed=random_seed,
        **({"group": group} if pooled else {}),
    )
    return Plan(
        group=group,
        view=fit if pooled else None,
        fit=whole if pooled else fit,
        compute=c,
        N=n_rec,
        D=d_rec,
        ci_prob=float(ci_prob),
        table=table,
        rules=pd.DataFrame(rule_rows),
        next_runs=nr,
        inference_tokens=inference_tokens,
        price_per_flop=price_per_flop,
    )
