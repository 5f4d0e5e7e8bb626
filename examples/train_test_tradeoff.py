"""Training compute against test-time compute on real data: Pythia on MATH with repeated sampling.

No dataset in ``../shared/data`` measures Jones's (2021) Hex trade-off, so this example uses the
closest real data: Brown et al. (2024, "Large Language Monkeys") drew 10,000 samples per problem
for 128 MATH problems from 7 Pythia models (70M–12B, all trained on 300B tokens);
``bs.load_dataset("monkeys_pythia_math_brown2024")`` holds the per-problem correct counts.

Runs: one per (model, k) for k = 1, 3, 10, …, 10,000 attempts. Training compute C = 6·N·D;
test-time compute per problem C_test = 2·N·k·T FLOPs with T = 512 tokens per attempt — a nominal
length (the data do not record it): a constant factor in C_test moves only the intercept c, not
the exchange rate a/b. The output is the coverage (share of problems solved within k attempts,
the unbiased estimator averaged over the 128 problems), fitted with the Beta likelihood.

Caveats, printed with the numbers: coverage against log k is not logistic over four decades
(it is an exponentiated power law, see examples/repeated_sampling.py), so the fit is a rough
summary; and in this design training compute grows only through N, which also raises the cost of
each attempt, so C and C_test are not varied independently as in Jones's Hex runs. Read the
printed rate as: at a fixed test-time FLOP budget, a 10× larger Pythia (fewer, dearer attempts)
is worth only about 1.1× that budget — in FLOPs, repeated sampling from the smaller model does
nearly as well, as Brown et al. observe.

Run:  python examples/train_test_tradeoff.py [--random-seed 1] [--draws 500]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.sampling_laws import pass_at_k

ATTEMPTS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000)
TOKENS_PER_ATTEMPT = 512  # nominal; the exchange rate does not depend on it


def coverage_runs() -> pd.DataFrame:
    """One row per (model, k): C, C_test and the coverage over the 128 problems."""
    counts = bs.load_dataset("monkeys_pythia_math_brown2024")
    k = np.asarray(ATTEMPTS, dtype=float)
    rows = []
    for (model, n_params, tokens), g in counts.groupby(["model", "N", "train_tokens"]):
        n = g["n_samples"].to_numpy(dtype=float)[:, None]
        c = g["n_correct"].to_numpy(dtype=float)[:, None]
        cov = pass_at_k(n, c, k[None, :]).mean(axis=0)
        for kk, cc in zip(k, cov, strict=True):
            rows.append(
                {
                    "model": model,
                    "k": kk,
                    "C": 6.0 * n_params * tokens,
                    "C_test": 2.0 * n_params * kk * TOKENS_PER_ATTEMPT,
                    "accuracy": cc,
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random-seed", dest="seed", type=int, default=1)
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()

    runs = coverage_runs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        fit = bs.fit(
            "train_test",
            runs,
            likelihood="beta",
            draws=args.draws,
            tune=args.draws,
            chains=2,
            random_seed=args.seed,
            progressbar=False,
        )
    print(fit.summary()[["mean", "sd"]].round(3).to_string())
    res = bs.tradeoff(fit, train_multiples=[2.0, 10.0], level=0.5)
    table = res.summary().reset_index()
    rate = table[table["variable"] == "test_multiple"]
    print("\nTest-time compute worth k× the training compute at equal coverage (95% interval):")
    for _, row in rate.iterrows():
        print(
            f"  k = {row['train_multiple']:g}: {row['median']:.2f}× "
            f"({row['ci95_lo']:.2f}–{row['ci95_hi']:.2f})"
        )
    q = {k: fit.params()[k].median().item() for k in ("a", "b", "c")}
    err = np.abs(fit.law.evaluate(q, C=runs["C"], C_test=runs["C_test"]) - runs["accuracy"])
    print(
        f"\nFit of the median law to the 63 coverages: median abs. error {np.median(err):.3f}, "
        f"max {np.max(err):.3f} (coverage is not logistic in log k over four decades)."
    )


if __name__ == "__main__":
    main()
