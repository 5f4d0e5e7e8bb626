"""Where a published fit sits in a posterior: :func:`compare_to_card` and its result
:class:`CardComparison` (tail probabilities, Mahalanobis χ², allocation difference).

Re-exported by :mod:`bayescale.decisions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._api import CI_PROB, check_number, deprecated_args, result_html
from ._decisions_common import _flat_draws
from .analysis import FLOPS_PER_PARAM_TOKEN, _fixed_inputs, _held_mapping, _optimum, compute_optimal
from .cards import Card, load_card
from .fit import Fit
from .law import ScalingLaw
from .pooling import groupable
from .stacking import StackedFit

__all__ = ["CardComparison", "compare_to_card"]


def _scipy_stats():
    """scipy.stats, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


# ---------------------------------------------------------------------- published fits
@dataclass
class CardComparison:
    """Where a published fit sits in a posterior (result of :func:`compare_to_card`).

    Attributes
    ----------
    card : Card
    table : DataFrame
        One row per compared parameter: card value, posterior median and 95% interval,
        ``quantile`` (posterior probability below the card's value), two-sided ``tail_prob``,
        ``z`` on the transformed scale, the ``scale`` (log or linear) used and a ``note``
        ("fixed" for a parameter without posterior spread: its ``z`` is NaN and it is left out
        of the joint comparison).
    mahalanobis2 : float
        Squared Mahalanobis distance of the card's point from the posterior mean, with the
        posterior covariance (pseudo-inverse), on the transformed scale.
    df : int
        Degrees of freedom of the joint comparison: the numerical rank of the posterior
        covariance of the compared parameters that vary (fewer than their number when some
        move together exactly, e.g. a shared exponent α = β).
    joint_tail_prob : float
        χ² tail probability of ``mahalanobis2`` with ``df`` degrees of freedom.
    empirical_tail_prob : float
        Fraction of posterior draws at least as far (in the same metric) from the mean; 0 means
        below 1/n_draws.
    allocation : DataFrame
        N*, D* and D*/N* at ``compute`` under the card and the posterior (median and central
        :data:`~bayescale.CI_PROB` interval).
    """

    card: Card
    table: pd.DataFrame
    mahalanobis2: float
    df: int
    joint_tail_prob: float
    empirical_tail_prob: float
    n_draws: int
    compute: float
    allocation: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The per-parameter comparison (``table``); ``str(result)`` is the text report."""
        return self.table.copy()

    def __str__(self) -> str:
        """A plain-text report."""
        lines = [
            f"{self.card.name} ({self.card.citation.split(',')[0]}) against the posterior "
            f"({self.n_draws} draws):",
            "",
            self.table.to_string(float_format=lambda v: f"{v:.4g}"),
            "",
            f"joint: Mahalanobis² = {self.mahalanobis2:.1f} (df {self.df}), χ² tail probability "
            f"{self.joint_tail_prob:.3g}; fraction of draws farther out: "
            + (
                f"{self.empirical_tail_prob:.3g}"
                if self.empirical_tail_prob != 0
                else f"0 (< {1 / self.n_draws:.1g})"
            ),
            "",
            f"allocation at C = {self.compute:.3g} FLOPs:",
            self.allocation.to_string(float_format=lambda v: f"{v:.4g}"),
        ]
        lines += self.notes
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<CardComparison {self.card.name}: Mahalanobis² {self.mahalanobis2:.1f} "
            f"(df {self.df}), joint tail probability {self.joint_tail_prob:.3g}>"
        )

    def _repr_html_(self) -> str:
        return result_html(str(self), self.summary())


def _log_scaled(law: ScalingLaw, name: str) -> bool:
    """Compare ``name`` on the log scale when the law samples it as a logarithm."""
    return any(p == f"log_{name}" or p.startswith(f"log_{name}_") for p in law.parameter_names)


@deprecated_args(into="fixed")
@groupable
def compare_to_card(
    fit: Fit,
    card: str | Card,
    *,
    compute: float = 5.88e23,
    params: Sequence[str] | None = None,
    fixed: Mapping[str, Any] | None = None,
    ci_prob: float = CI_PROB,
) -> CardComparison:
    """Where a published fit (a reference card) sits in the posterior.

    Per parameter: the posterior probability below the card's value and the two-sided tail
    probability. Jointly: the squared Mahalanobis distance of the card's point from the
    posterior mean under the posterior covariance, on the transformed scale the law is sampled
    on (logarithms of A, B, E; exponents as they are), with its χ² tail probability and the
    fraction of posterior draws lying farther out. And the compute-optimal allocation at
    ``compute`` under the card against its posterior.

    A :class:`~bayescale.StackedFit` of one law is compared through its mixed draws (the
    mixture of the members' posteriors, :meth:`StackedFit.params
    <bayescale.StackedFit.params>`).

    A pooled fit (``bs.fit(..., group=...)``) is compared group by group: every group's
    posterior against the card (a :class:`~bayescale.grouped.GroupedResult`, label →
    comparison, ``summary()`` on a ``group`` level), ``group="label"`` for one group, or
    ``group=bs.NEW_GROUP`` for a new group of the population (seeded by ``random_seed=``).

    Parameters
    ----------
    fit : Fit or StackedFit
    card : str or Card
        A card name (``"hoffmann2022"``) or a :class:`~bayescale.Card` of the same law.
    compute : float
        Budget for the allocation comparison (default: Chinchilla's 5.88e23 FLOPs).
    params : sequence of str, optional
        Natural parameters to compare (default: all the card gives).
    fixed : mapping, optional
        The law's inputs other than N and D, held fixed in the allocation comparison as in
        :func:`~bayescale.compute_optimal` (e.g. ``fixed={"U": 25e9}`` for
        ``data_constrained``).
    ci_prob : float
        Probability of the allocation table's central interval (default
        :data:`~bayescale.CI_PROB`).

    Returns
    -------
    CardComparison

    Examples
    --------
    >>> import bayescale as bs
    >>> fit = bs.testing.pinned_fit(random_seed=0)
    >>> res = bs.compare_to_card(fit, "hoffmann2022")
    >>> res.joint_tail_prob < 1e-6, res.df
    (True, 5)
    >>> bs.compare_to_card(fit, "besiroglu2024").joint_tail_prob > 0.05
    True
    >>> pooled = bs.testing.pinned_pooled_fit(random_seed=0)
    >>> new = bs.compare_to_card(pooled, "besiroglu2024", group=bs.NEW_GROUP, random_seed=0)
    >>> new.df
    5
    """
    if not (isinstance(ci_prob, int | float) and 0 < float(ci_prob) < 1):
        raise ValueError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}")
    if not isinstance(fit, Fit | StackedFit):
        raise TypeError(
            f"compare_to_card compares a fit (bs.fit, bs.Fit.load or bs.stack) with a card, got "
            f"{type(fit).__name__}"
        )
    law = fit.law
    compute = check_number(compute, "compute", example="5.88e23 FLOPs; one budget")
    fixed = _held_mapping("compare_to_card", fixed)
    unknown_inputs = sorted(set(fixed) - (set(law.inputs) - {"N", "D"}))
    if unknown_inputs:
        raise ValueError(
            f"compare_to_card: law {law.name!r} cannot hold {unknown_inputs} fixed "
            f"(its inputs are {list(law.inputs)})"
        )
    card = card if isinstance(card, Card) else load_card(card)
    if card.law != law.name:
        raise ValueError(f"card {card.name!r} is for law {card.law!r}, the fit is {law.name!r}")
    names = (
        list(params) if params is not None else [n for n in law.natural_names if n in card.params]
    )
    unknown = [n for n in names if n not in card.params or n not in law.natural_names]
    if unknown or not names:
        raise ValueError(
            f"cannot compare {unknown or names}: card {card.name!r} gives {sorted(card.params)}, "
            f"law {law.name!r} has natural parameters {list(law.natural_names)}"
        )
    q, _, _ = _flat_draws(fit, "compare_to_card")
    logged = {n: _log_scaled(law, n) for n in names}
    for n in names:
        if logged[n] and (card.params[n] <= 0 or np.any(q[n] <= 0)):
            raise ValueError(f"{n} must be positive to be compared on the log scale")
    x = np.column_stack([np.log(q[n]) if logged[n] else q[n] for n in names])
    point = np.array([np.log(card.params[n]) if logged[n] else card.params[n] for n in names])
    mean = x.mean(axis=0)
    sd = np.atleast_1d(np.std(x, axis=0, ddof=1))
    delta = point - mean
    # parameters without posterior spread (held fixed) carry no information on the card's
    # distance; they are reported but left out of the joint comparison
    varies = sd > 1e-12 * np.maximum(np.abs(mean), 1.0)
    notes: list[str] = []
    no_spread = [n for n, v in zip(names, varies, strict=True) if not v]
    if no_spread:
        notes.append(
            f"{', '.join(no_spread)} fixed in the posterior (no spread): left out of the joint "
            "comparison"
        )
    if varies.any():
        # the Mahalanobis distance on the correlation scale (invariant to each parameter's
        # scale); parameters that move together exactly (a shared exponent α = β) make the
        # correlation matrix singular, so the χ² degrees of freedom are its numerical rank
        z_draws = (x[:, varies] - mean[varies]) / sd[varies]
        z_point = delta[varies] / sd[varies]
        corr = np.atleast_2d(np.corrcoef(z_draws, rowvar=False))
        tol = 1e-10
        k = int(np.linalg.matrix_rank(corr, rtol=tol, hermitian=True))
        prec = np.linalg.pinv(corr, rtol=tol, hermitian=True)
        d2_draws = np.einsum("ij,jk,ik->i", z_draws, prec, z_draws)
        d2 = float(z_point @ prec @ z_point)
        if k < int(varies.sum()):
            notes.append(
                f"the posterior of the {int(varies.sum())} varying parameters has rank {k} "
                f"(some move together exactly): χ² with {k} degrees of freedom"
            )
    else:
        k, d2, d2_draws = 0, np.nan, np.full(x.shape[0], np.nan)
    rows = {}
    for i, n in enumerate(names):
        draws = q[n]
        below = float(np.mean(draws < card.params[n]))
        lo, med, hi = np.quantile(draws, [0.025, 0.5, 0.975])
        rows[n] = {
            "card": card.params[n],
            "median": med,
            "ci95_lo": lo,
            "ci95_hi": hi,
            "quantile": below,
            "tail_prob": 2 * min(below, 1 - below),
            "z": delta[i] / sd[i] if varies[i] else np.nan,
            "scale": "log" if logged[n] else "linear",
            "note": "" if varies[i] else "fixed",
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "parameter"

    # allocation at the chosen budget
    alloc_rows = {}
    if {"N", "D"} <= set(law.inputs) and set(law.natural_names) <= set(card.params):
        needed = [k for k in law.inputs if k not in ("N", "D")]
        if set(fixed) != set(needed):
            raise ValueError(
                f"compare_to_card: the allocation at compute={compute:.3g} under law "
                f"{law.name!r} holds its inputs {needed} fixed; pass them as fixed={{...}}, as "
                f"for compute_optimal (e.g. fixed={{'U': 25e9}} for data_constrained), got "
                f"{sorted(fixed)}"
            )
        post = compute_optimal(fit, compute=compute, fixed=fixed).isel(compute=0)
        held = _fixed_inputs(law, 1, fixed)
        cq = {n: np.asarray([card.params[n]], float) for n in law.natural_names}
        n_c, d_c = _optimum(law, cq, np.asarray([compute]), FLOPS_PER_PARAM_TOKEN, held)
        card_vals = {"N_opt": n_c[0], "D_opt": d_c[0], "tokens_per_param": d_c[0] / n_c[0]}
        for var, cv in card_vals.items():
            draws = post[var].to_numpy().ravel()
            lo, med, hi = np.quantile(draws, [(1 - ci_prob) / 2, 0.5, (1 + ci_prob) / 2])
            alloc_rows[var] = {
                "card": cv,
                "median": med,
                f"ci{100 * ci_prob:g}_lo": lo,
                f"ci{100 * ci_prob:g}_hi": hi,
                "card/median": cv / med,
                "quantile": float(np.mean(draws < cv)),
            }
    else:
        notes.append("allocation not compared: the card does not give every parameter of the law")
    allocation = pd.DataFrame.from_dict(alloc_rows, orient="index")
    return CardComparison(
        card=card,
        table=table,
        mahalanobis2=d2,
        df=k,
        joint_tail_prob=float(_scipy_stats().chi2.sf(d2, k)) if k > 0 else np.nan,
        empirical_tail_prob=float(np.mean(d2_draws >= d2)) if k > 0 else np.nan,
        n_draws=int(x.shape[0]),
        compute=float(compute),
        allocation=allocation,
        notes=notes,
    )
