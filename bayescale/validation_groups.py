""":func:`~bayescale.posterior_predictive_check` of a pooled fit: each run predicted with its
own group's parameters, and the coverage per group.

Every fitted run is predicted from the posterior draws of its group (``group_view``), noise
included; the check over all runs is the ordinary one, and ``check.groups`` holds one row per
group: runs, fraction inside the ``ci_prob`` band, runs outside, median
absolute relative error of the predictive median. ``group="label"`` checks that group's runs
alone; ``group=bs.NEW_GROUP`` predicts each group's runs as if the group were new (one new
group per fitted group, drawn independently, shared by its runs, as
:func:`~bayescale.score_holdout` scores an unseen group): how well the population's spread
covers the groups it was fitted to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .pooling import NEW_GROUP, group_view, match_label

__all__ = ["pooled_check"]


def pooled_check(fit: Any, ci_prob: float, random_seed: int | None, group: Any) -> Any:
    """The :class:`~bayescale.PredictiveCheck` of a pooled fit (see the module docstring)."""
    from .validation import _check
    from .validation_scores import _predictive_draws, _run_inputs

    pooling = fit.pooling
    # a stack of pooled fits: the runs and their groups from its first pooled member (stacked
    # fits are fits to the same runs); each group's draws are the mixture of the members' views
    ref = (
        fit
        if not hasattr(fit, "fits")
        else next(f for f in fit.fits.values() if getattr(f, "pooling", None) is not None)
    )
    const = ref.idata["constant_data"].to_dataset()
    inputs = _run_inputs(ref)
    runs = const["run"].to_numpy()
    codes = ref.group_codes()[ref.pooling.index_name]
    observed = const[ref.law.output].to_numpy()
    labels = list(pooling.labels)
    if group is None or group == NEW_GROUP:
        chosen = list(range(len(labels)))
    elif isinstance(group, str) or np.ndim(group) == 0:
        chosen = [labels.index(match_label(pooling, group))]
    else:
        raise ValueError(f"group={group!r}: give one label or bs.NEW_GROUP")
    ss = np.random.SeedSequence(random_seed)
    seeds = ss.generate_state(2 * len(labels), dtype=np.uint64).reshape(len(labels), 2)
    parts, where = [], []
    frame = ref.data.loc[runs] if set(runs) <= set(ref.data.index) else None
    for c in chosen:
        idx = np.flatnonzero(codes == c)
        if idx.size == 0:
            continue
        new_seed, noise_seed = (int(s) for s in seeds[c])
        view = group_view(fit, NEW_GROUP if group == NEW_GROUP else labels[c], random_seed=new_seed)
        sub = {k: v[idx] for k, v in inputs.items()}
        part = _predictive_draws(
            view,
            sub,
            random_seed=noise_seed,
            frame=None if frame is None else frame.iloc[idx],
        )
        parts.append(part.transpose("chain", "draw", "point"))
        where.append(idx)
    idx = np.concatenate(where)
    order = np.argsort(idx, kind="stable")
    draws = xr.concat(parts, dim="point").isel(point=order)
    idx = idx[order]
    draws = draws.rename(point="run").drop_vars(list(inputs), errors="ignore")
    draws = draws.assign_coords(run=runs[idx])
    law_inputs = {k: v[idx] for k, v in inputs.items() if k in ref.law.inputs}
    check = _check("posterior", draws, law_inputs, observed[idx], ci_prob)
    check.table["group"] = [labels[c] for c in codes[idx]]
    check.groups = _group_table(check.table, labels)
    return check


def _group_table(table: pd.DataFrame, labels: list[Any]) -> pd.DataFrame:
    """One row per group of a checked table: runs, coverage of the band (from the per-run
    ``inside`` flags), runs outside, median |relative error| of the predictive median."""
    rows = {}
    for label, t in table.groupby("group", sort=False):
        rel = np.abs(t["median"] / t["observed"] - 1.0)
        rows[label] = {
            "n_runs": len(t),
            "frac_inside": float(t["inside"].mean()),
            "n_outside": int((~t["inside"]).sum()),
            "median_abs_rel_error": float(np.nanmedian(rel)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out = out.loc[[g for g in labels if g in out.index]]
    out.index.name = "group"
    return out
