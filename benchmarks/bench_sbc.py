"""Simulation-based calibration of the built-in laws (Talts et al. 2018).

For each law: ``--sims`` simulations (default 100) on a design of ``--runs`` runs, each fitted
with NUTS (2 chains × ``--draws`` draws), the rank of every sampled parameter's true value among
99 thinned posterior draws, and per parameter the χ² (binned ranks) and KS uniformity p-values.
Prints one table per law plus the counts of rejected data sets and failed fits, and the
wall time.

Designs: Chinchilla-style isoFLOP runs (``bs.testing.chinchilla_design``) for laws of N and D;
model sizes from 1e7 to 1e11 for the one-input power law; every other law's own
``example_design`` (the design its catalogue tests use). ``--groups N`` fits with group offsets
by model size (structured noise, ``bayescale.structure``) on a design of ``--runs`` runs over 8
repeated model sizes, so the group sd and the standardised offsets are calibrated too; the
extrapolation ``drift`` is in every fit (it is prior-only: its ranks are uniform by construction,
which the table shows as a check of the wiring).

Usage::

    python benchmarks/bench_sbc.py [--laws chinchilla power_law] [--sims 100] [--runs 40]
    python benchmarks/bench_sbc.py --laws chinchilla --groups N
    python benchmarks/bench_sbc.py --laws all          # every registered law, on its example design
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs


def design_for(law: bs.ScalingLaw, n: int, seed: int, grouped: bool = False) -> pd.DataFrame:
    if set(law.inputs) == {"N", "D"} and grouped:
        sizes = np.geomspace(5e7, 5e9, 8)
        N = np.resize(sizes, n)
        ratio = np.random.default_rng(seed).uniform(np.log(5), np.log(100), n)
        return pd.DataFrame({"N": N, "D": N * np.exp(ratio)})
    if set(law.inputs) == {"N", "D"}:
        return bs.testing.chinchilla_design(n, random_seed=seed)
    if law.inputs == ("N",):
        return pd.DataFrame({"N": np.logspace(7, 11, n)})
    if law.example_design is not None:
        return law.example_design(n, seed)
    raise SystemExit(f"no design for law {law.name!r} with inputs {law.inputs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--laws", nargs="+", default=["chinchilla", "power_law"], help="law names, or 'all'"
    )
    parser.add_argument("--sims", type=int, default=100)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--draws", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--groups", default=None, help="grouping column for the fits, e.g. N")
    args = parser.parse_args()
    pd.set_option("display.width", 160)

    available = list(bs.list_laws()["name"])
    if args.laws == ["all"]:
        args.laws = available
    # Prior draws can simulate losses far from any real run (tens of nats); the data checks'
    # unit warnings are about users' runs, not these simulations.
    warnings.filterwarnings("ignore", category=bs.DataWarning)
    rows = []
    for name in args.laws:
        if name not in available:
            print(f"law {name!r} is not registered; skipped")
            continue
        law = bs.get_law(name)
        design = design_for(law, args.runs, args.seed, grouped=args.groups is not None)
        t0 = time.perf_counter()
        res = bs.testing.sbc(
            law,
            design,
            n_sims=args.sims,
            draws=args.draws,
            tune=args.draws,
            random_seed=args.seed,
            progressbar=not args.no_progress,
            groups=args.groups,
        )
        print()
        print(res)
        print()
        for param, t in res.tests.iterrows():
            rows.append(
                {
                    "law": name,
                    "parameter": param,
                    "n": int(t["n"]),
                    "chi2_pvalue": t["chi2_pvalue"],
                    "ks_pvalue": t["ks_pvalue"],
                }
            )
        print(f"{name}: {time.perf_counter() - t0:.0f} s")
    if rows:
        print()
        print("uniformity p-values (chi^2 on binned ranks; KS on randomised fractional ranks):")
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
