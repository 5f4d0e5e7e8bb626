""":func:`~bayescale.next_runs` on a pooled fit: candidate runs that belong to groups.

A pooled posterior's draws are joint draws of the population and of every group's values. A
candidate run in group ``g`` is simulated from ``g``'s posterior predictive, and the joint draws
are reweighted by ``g``'s likelihood of the simulated loss (importance sampling of the joint
posterior: the weight of a draw is the new run's likelihood under that draw's values of ``g``).
The target is then read from the same reweighted draws in the target's group: its own group
learns most, the others through the population (``mu``, ``tau``) they share.

A new group (:data:`~bayescale.NEW_GROUP`) is one draw of ``z ~ Normal(0, 1)`` per posterior
draw (the augmented posterior of population and new group), shared by the target and every
candidate labelled ``NEW_GROUP`` in one call: the weights are the likelihood under that new
group's values, so "one pilot run on a corpus we have not trained on" narrows N*(C) of that
corpus. A refit adds the run to its group (the new group under a fresh label, :data:`NEW_LABEL`)
and refits the pooled model with the fit's pooling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .analysis import predict_loss
from .pooling import NEW_GROUP, group_view, match_label

__all__ = ["NEW_LABEL", "pooled_parts"]

#: The label a new group's run takes in a refit (a fresh group of the pooled model).
NEW_LABEL = "new group (planned run)"
#: Spawn key of the stream that seeds the new group's draws in next_runs.
_STREAM = 0x67726F


def _new_group_seed(random_seed: int | None) -> int | None:
    if random_seed is None:
        return None
    ss = np.random.SeedSequence(int(random_seed), spawn_key=(_STREAM,))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def _check_label(fit: Any, label: Any, where: str) -> Any:
    try:
        return match_label(fit.pooling, label)
    except ValueError:
        raise ValueError(
            f"{where}={label!r} is not a group of this fit ({list(fit.pooling.labels)}); "
            "use bs.NEW_GROUP for a new group"
        ) from None


def pooled_parts(
    fit: Any,
    cands: pd.DataFrame,
    group: Any,
    random_seed: int | None,
    options: Mapping[str, Any],
    next_runs: Callable[..., Any],
) -> Any:
    """The pieces :func:`~bayescale.next_runs` needs for a pooled fit — ``(target fit,
    predictive(n, d, seed), loglik(n, d, y), refit(where, y, seeds, spec, ci_prob))`` — or,
    without a single target group, the per-group results (a ``GroupedResult``)."""
    single = group is not None and (isinstance(group, str) or np.ndim(group) == 0)
    if not single:
        if "group" in cands:
            raise ValueError(
                "next_runs: the candidates name their groups; name the target's group too "
                "(group='label' or group=bs.NEW_GROUP)"
            )
        labels = list(fit.pooling.labels) if group is None else list(group)
        if not labels:
            raise ValueError(f"group={group!r}: give a label, a list of labels or bs.NEW_GROUP")
        from .grouped import combine

        parts = [next_runs(fit, cands, **options, group=label) for label in labels]
        return combine(parts, labels)
    target = _check_label(fit, group, "group")
    labels = (
        [_check_label(fit, g, "candidates' group") for g in cands["group"]]
        if "group" in cands
        else [target] * len(cands)
    )
    cands["group"] = labels
    seed = _new_group_seed(random_seed)
    views = {g: group_view(fit, g, random_seed=seed) for g in dict.fromkeys([target, *labels])}
    blocks = {g: np.flatnonzero([x == g for x in labels]) for g in dict.fromkeys(labels)}

    def predictive(n: np.ndarray, d: np.ndarray, pred_seed: int) -> xr.DataArray:
        parts, order = [], []
        for i, (g, idx) in enumerate(blocks.items()):
            s = pred_seed if len(blocks) == 1 else _child(pred_seed, i)
            out = predict_loss(views[g], N=n[idx], D=d[idx], kind="predictive", random_seed=s)
            parts.append(out.transpose("chain", "draw", "point"))
            order.append(idx)
        joined = xr.concat(parts, dim="point")
        return joined.isel(point=np.argsort(np.concatenate(order), kind="stable"))

    def loglik(n: np.ndarray, d: np.ndarray, y: np.ndarray) -> np.ndarray:
        from .next_runs import new_run_loglik

        out = None
        for g, idx in blocks.items():
            ll = new_run_loglik(views[g], n[idx], d[idx], y[idx])
            if out is None:
                out = np.empty((len(labels), *ll.shape[1:]))
            out[idx] = ll
        return out

    def refit(where: np.ndarray, y: np.ndarray, seeds: list, spec: Any, ci_prob: float) -> list:
        return _refit(fit, cands, target, where, y, seeds, spec, ci_prob, options, seed)

    return views[target], predictive, loglik, refit


def _child(seed: int, i: int) -> int:
    return int(np.random.SeedSequence(int(seed), spawn_key=(i,)).generate_state(1)[0])


def _refit(
    fit: Any,
    cands: pd.DataFrame,
    target: Any,
    where: np.ndarray,
    y: np.ndarray,
    seeds: list,
    spec: Any,
    ci_prob: float,
    options: Mapping[str, Any],
    new_seed: int | None,
) -> list[tuple[float, float]]:
    """Width and sd of the target after refitting the pooled model with each run added to its
    group (a new group's run under :data:`NEW_LABEL`)."""
    from .next_runs import _spread, refit_with_runs

    if hasattr(fit, "fits"):  # a StackedFit of pooled fits
        raise ValueError(
            "next_runs on a stack of pooled fits: some outcomes need a refit (Pareto k above "
            "k_threshold), and refitting a pooled stack's members is not supported; pass "
            "refit=False (importance weights only) or plan with each member (stack.fits[name])"
        )
    column = fit.pooling.column
    pool = fit.pooling.spec()  # modes and forms (partial_auto chosen again on the new runs)
    fit_kwargs = {"group": column, "pool": pool, **dict(options.get("fit_kwargs") or {})}
    runs, targets = [], []
    for j, k in where:
        g = cands["group"].iloc[j]
        runs.append(
            {
                "N": float(cands["N"].iloc[j]),
                "D": float(cands["D"].iloc[j]),
                fit.law.output: float(y[j, k]),
                column: NEW_LABEL if g == NEW_GROUP else g,
            }
        )
        # the target's group in the refit: the new group's fresh label when the run is in it
        targets.append(NEW_LABEL if target == NEW_GROUP and g == NEW_GROUP else target)
    out: list[Any] = [None] * len(runs)
    for tgt in dict.fromkeys(targets):  # one fit_many batch per target group
        idx = [i for i, t in enumerate(targets) if t == tgt]

        def reduce(f: Any, tgt: Any = tgt) -> tuple[float, float]:
            v = spec(group_view(f, tgt, random_seed=new_seed))
            w, s = _spread(v, np.ones((1, v.size)), ci_prob)
            return float(w[0]), float(s[0])

        values = refit_with_runs(
            fit,
            [runs[i] for i in idx],
            reduce,
            seeds=[seeds[i] for i in idx],
            fit_kwargs=fit_kwargs,
            processes=options.get("processes"),
        )
        for i, value in zip(idx, values, strict=True):
            out[i] = value
    return out
