"""Repeated sampling on MATH: extrapolate coverage (pass@k) from 100 to 10,000 attempts.

Data: Brown et al. (2024, "Large Language Monkeys") drew 10,000 samples per problem for 128 MATH
problems from each of 7 Pythia models (70M–12B); Schaeffer et al. (2025) tabulated the number
correct per problem: ``bs.load_dataset("monkeys_pythia_math_brown2024")``.

The law (Schaeffer et al., arXiv:2502.17578): problem i of a model of size N has its own
single-sample success probability p_i ~ Beta(α(N), β(N)), so pass_i@k = 1 − (1 − p_i)^k and the
expected coverage is 1 − B(α, β + k)/B(α, β), a power law in k whose exponent is α. ln α and
ln β are linear in ln N plus a per-model offset; counts are Beta-binomial; NUTS via nutpie.

The held-out test: only the first 100 samples per problem are "seen" — simulated honestly as a
hypergeometric draw of 100 of each problem's 10,000 samples (``subsample_counts``, fixed
``--random-seed``). The model fitted to those counts predicts the coverage the full 10,000 samples
report at k = 1,000 and 10,000 (posterior predictive of the same statistic: the unbiased
estimator on 10,000 samples averaged over the 128 problems; at k = 10,000 it is the share of
problems solved at least once). Printed: each model's 95% interval against the truth, the count
of the 14 covered, and the median absolute error next to a plain point fit of
−ln c = a·k^(−b) per model on the k ≤ 100 coverage curve of the same counts. Then the samples
needed to reach 50% coverage, with intervals.

Run:  python examples/repeated_sampling.py [--random-seed 0] [--draws 1000]
"""

from __future__ import annotations

import argparse

import bayescale as bs
from bayescale.sampling_laws import (
    extrapolation_check,
    fit_pass_at_k,
    samples_for_coverage,
    subsample_counts,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--n-seen", type=int, default=100)
    parser.add_argument("--target", type=float, default=0.5)
    args = parser.parse_args()

    runs = bs.load_dataset("monkeys_pythia_math_brown2024")
    seen = subsample_counts(runs, n_samples=args.n_seen, random_seed=args.seed)
    result = fit_pass_at_k(seen, random_seed=args.seed, draws=args.draws)
    print(result)
    print(f"divergences: {result.diagnostics.get('divergences', 'n/a')}\n")

    table = extrapolation_check(
        runs, n_seen=args.n_seen, k=[1000, 10_000], random_seed=args.seed, result=result
    )
    show = table[["model", "k", "truth", "median", "lower", "upper", "covered", "point"]]
    show = show.astype({"k": int})
    print(f"Held-out coverage, fitted on k <= {args.n_seen} (95% predictive intervals):")
    print(show.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(
        f"\ncovered: {int(table['covered'].sum())} of {len(table)}; "
        f"median abs. error: Bayesian {table['abs_error'].median():.4f}, "
        f"point fit -ln c = a k^-b {table['point_abs_error'].median():.4f}\n"
    )

    need = samples_for_coverage(result, target=args.target)
    print(f"Attempts k needed for an expected coverage of {args.target:.0%} (95% interval):")
    print(need.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
