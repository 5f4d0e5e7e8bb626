"""Approaches 1, 2 and 3 on the (Mis)Fitting runs (Li, Kudugunta, Zettlemoyer 2025).

``misfitting_li2025`` logs every checkpoint of 11 model sizes (12M–1B non-embedding parameters)
trained for several lengths at several peak learning rates. That is what Hoffmann et al.'s
Approach 1 needs (their Sec. 3.1): for each compute C = 6·N·D_seen the lowest loss of any run
(the envelope of the training curves), the N holding it, and N*(C) = k·C^a through those.
``bs.fit_approach1`` fits the power law through the envelope's crossings between model sizes
with an exact Student-t posterior (see :mod:`bayescale.approach1`).

Approach 2 needs isoFLOP profiles; the runs were not planned as isoFLOP curves, but their
checkpoints can be cut at fixed budgets (``bs.isoflop_slices``: at each of 6 budgets from 3e17
to 1e19 FLOPs, each size's lowest interpolated loss), and ``bs.fit_isoflops`` fits those.
Approach 3 is the Chinchilla law fitted to the final checkpoints, keeping each (size, length)'s
best learning rate. ``bs.compare_approaches`` puts the three side by side with P(i > j).

Prints: the cleaning counts, Approach 1's crossings, and for each approach a, b, N* and D* at
1e19 (inside the data) and 1e21 FLOPs with 95% intervals, and P(1 > 2), P(1 > 3), P(2 > 3).
N counts embedding parameters (the dataset's ``N``), which dominate the smallest models.

Result (2026-12-05, seed 0, 1000 draws): Approach 1 uses 247 runs and 5 crossings,
a = 0.558 [0.474, 0.641]; Approach 2 on 6 cut budgets (51 points, none flagged),
a = 0.513 [0.454, 0.588]; Approach 3 on 81 final checkpoints, a = 0.834 [0.766, 0.887] (its
fit warns R-hat ≈ 1.05). P(1 > 2) = 0.82: Approaches 1 and 2 agree; P(1 > 3) = 0.001 and
P(2 > 3) < 1e-3: the Chinchilla law fitted to final checkpoints does not (N*(1e21) 18.7B
against 4.7B and 3.3B). ``--bootstrap 40`` (resampling the runs of each size) gives
a = 0.541 [0.495, 0.585]: narrower than the posterior, which also carries the scatter of the
crossings about the line that resampling runs does not see.

Usage::

    BAYESCALE_DATA_DIR=../shared/data python examples/approaches_misfitting.py [--draws 1000]
        [--bootstrap 40]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.display import human

#: One training run: model size, peak learning rate, planned length, checkpoint interval, sweep.
RUN = ["group", "peak_lr", "total_steps", "total_epochs", "sweep"]


def checkpoints() -> pd.DataFrame:
    """Every checkpoint, one curve per run; rows logged twice are kept once, and the few runs
    whose key does not tell two runs apart (same tokens, different losses) are left out."""
    runs = bs.load_dataset("misfitting_li2025", table="all_checkpoints")
    once = runs.drop_duplicates([*RUN, "D", "loss"])
    ambiguous = once.duplicated([*RUN, "D"], keep=False)
    bad = once.loc[ambiguous, RUN].drop_duplicates()
    keep = ~once.set_index(RUN).index.isin(pd.MultiIndex.from_frame(bad))
    print(
        f"{len(runs)} checkpoints; {len(runs) - len(once)} logged twice; {len(bad)} runs "
        f"({int((~keep).sum())} checkpoints) left out as ambiguous"
    )
    return once[keep].reset_index(drop=True)


def final_best_lr() -> pd.DataFrame:
    """Final checkpoints, the best peak learning rate of each (size, tokens)."""
    last = bs.load_dataset("misfitting_li2025", table="last_checkpoint")
    best = last.loc[last.groupby(["group", "D"])["loss"].idxmin(), ["N", "D", "loss"]]
    return best.reset_index(drop=True)


def bootstrap_a(runs: pd.DataFrame, replicates: int, seed: int) -> np.ndarray:
    """A check of Approach 1's interval: the least-squares a through the crossings, with the
    runs of each size resampled with replacement (each copy its own curve)."""
    rng = np.random.default_rng(seed)
    key = runs[RUN].astype(str).agg("|".join, axis=1)
    by_run = dict(tuple(runs.groupby(key)))
    ids = key.groupby(runs["group"]).unique()
    out = []
    for _ in range(replicates):
        parts = [
            by_run[rid].assign(copy=f"{rid}#{i}")
            for size_ids in ids
            for i, rid in enumerate(rng.choice(size_ids, size=len(size_ids)))
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a replicate with 4 crossings
            res = bs.fit_approach1(pd.concat(parts), curve="copy", n_grid=1000, draws=1)
        out.append(np.polyfit(np.log(res.points["compute"]), np.log(res.points["N"]), 1)[0])
    return np.array(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=0, help="replicates of the check")
    args = parser.parse_args()

    checkpoints_ = checkpoints()
    a1 = bs.fit_approach1(checkpoints_, curve=RUN, random_seed=args.seed)
    print(a1)
    pts = a1.points.assign(
        compute=lambda t: t["compute"].map(lambda c: human(c, "C")),
        N=lambda t: t["N"].map(lambda n: human(n, "N")),
    )
    print("crossings (C where two sizes tie; N = their geometric mean):")
    print(pts[["compute", "N", "n_crossings"]].to_string(index=False))
    if args.bootstrap:
        boot = bootstrap_a(checkpoints_, args.bootstrap, args.seed)
        lo, hi = np.quantile(boot, [0.025, 0.975])
        print(
            f"bootstrap over runs within sizes ({args.bootstrap} replicates): a = "
            f"{np.median(boot):.3f} [{lo:.3f}, {hi:.3f}] (95%)"
        )

    cut = bs.isoflop_slices(checkpoints_, compute=np.geomspace(3e17, 1e19, 6), curve=RUN)
    a2 = bs.fit_isoflops(
        cut, draws=args.draws, tune=args.tune, random_seed=args.seed
    )  # flags curves that do not bracket their minimum
    print(a2)

    final = final_best_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DataWarning)
        a3 = bs.fit(
            "chinchilla",
            final,
            draws=args.draws,
            tune=args.tune,
            random_seed=args.seed,
            progressbar=False,
        )
    print(f"Approach 3: Chinchilla law on {len(final)} final checkpoints (best learning rate)")
    table = bs.compare_approaches(
        None, compute=[1e19, 1e21], approach1=a1, approach2=a2, approach3=a3
    )
    with pd.option_context(
        "display.width", 250, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
