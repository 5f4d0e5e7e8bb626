"""Backtest and model comparison on the Chinchilla runs (Besiroglu et al.'s 240-run protocol).

1. Rolling backtest over the cutoffs 1e20, 3e20 and 1e21 FLOPs: for each, fit Chinchilla's law
   to the runs below it and predict the runs at or above it. Prints the coverage of the
   50/80/95% predictive intervals on the held-out runs, their width, the median relative error
   and the CRPS per cutoff, then the held-out runs of the 1e21 cutoff one by one.
2. Comparison: ELPD-LOO of chinchilla, chinchilla_shared_exponent and kaplan fitted to all 240
   runs, with ELPD differences and their standard errors (laws not registered are skipped).
3. Posterior predictive check of the Chinchilla fit.

Usage::

    BAYESCALE_DATA_DIR=../shared/data python examples/backtest_chinchilla.py [--draws 1000]
"""

from __future__ import annotations

import argparse
import warnings

import pandas as pd

import bayescale as bs

CUTOFF = 1e21
CUTOFFS = [1e20, 3e20, CUTOFF]  # rolling backtest; the CUTOFF rows are reported in detail
LAWS = ["chinchilla", "chinchilla_shared_exponent", "kaplan"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
    args = parser.parse_args()
    pd.set_option("display.width", 160)

    runs = bs.load_dataset("chinchilla_besiroglu2024")
    runs = runs.drop(index=runs["loss"].nlargest(5).index)
    kw = {"draws": args.draws, "random_seed": args.seed}

    shown = ", ".join(f"{c:.0e}" for c in CUTOFFS)
    print(f"=== Rolling backtest (cutoffs {shown} FLOPs): fit C < cutoff, predict C >= cutoff ===")
    rolling = bs.backtest("chinchilla", runs, split={"C": CUTOFFS}, **kw)
    print(rolling)
    print(rolling.metrics.to_string(float_format=lambda v: f"{v:.4g}"))
    print()

    print(f"=== The {CUTOFF:.0e} cutoff: fit C < {CUTOFF:.0e} FLOPs, predict C >= {CUTOFF:.0e} ===")
    m = rolling.metrics.loc[CUTOFF]
    print(
        f"coverage of the 80% interval {m['coverage_80']:.1%}, of the 95% interval "
        f"{m['coverage_95']:.1%}; median relative error {m['median_abs_rel_error']:.2%} "
        f"(mean signed {m['mean_rel_error']:+.2%}); mean 95% width {m['width_95']:.4f} nats; "
        f"mean CRPS {m['mean_crps']:.4f}"
    )
    cols = ["C", "N", "observed", "median", "lo95", "hi95", "rel_error", "pit", "crps"]
    held = rolling.table[rolling.table["cutoff"] == CUTOFF].reset_index(drop=True)
    print(held[cols].to_string(float_format=lambda v: f"{v:.4g}"))
    print()

    print("=== ELPD-LOO comparison on the 240 runs ===")
    available = set(bs.list_laws()["name"])
    fits = {}
    for name in LAWS:
        if name not in available:
            print(f"  (law {name!r} is not registered; skipped)")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("default", bs.DiagnosticWarning)
            fits[name] = bs.fit(name, runs, progressbar=False, **kw)
    if len(fits) >= 2:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            table = bs.compare(fits)
        cols = ["rank", "elpd", "se", "elpd_diff", "dse", "p", "weight", "n_high_k", "max_k"]
        print(table[cols].to_string(float_format=lambda v: f"{v:.2f}"))
        for w in caught:
            if issubclass(w.category, UserWarning) and "Pareto" in str(w.message):
                print(f"  warning: {w.message}")
        print()
        chinchilla = fits.get("chinchilla")
    else:
        chinchilla = None

    print("=== Posterior predictive check (chinchilla, all 240 runs) ===")
    chinchilla = chinchilla or bs.fit("chinchilla", runs, progressbar=False, **kw)
    print(bs.posterior_predictive_check(chinchilla, random_seed=args.seed))


if __name__ == "__main__":
    main()
