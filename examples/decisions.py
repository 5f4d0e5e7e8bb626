"""Planning questions as posteriors, on the 240-run Chinchilla fit (Besiroglu et al. protocol).

Fits L = E + A/N^α + B/D^β with NUTS (4 chains × 1000 draws) and prints:

* where Hoffmann et al.'s and Besiroglu et al.'s published fits sit in the posterior
  (per-parameter tail probabilities, joint Mahalanobis χ², allocation at 5.88e23 FLOPs);
* the compute-optimal FLOPs needed to reach a few target losses, with unreachable draws counted;
* the overtraining penalty of training smaller or larger models than N* at 5.88e23 FLOPs;
* the inference-aware optimum (Sardana & Frankle 2023) for a target loss and growing inference
  demand, against the training-only optimum;
* the data wall: the budget at which D*(C) exceeds 10 T and 20 T unique tokens.

Usage::

    BAYESCALE_DATA_DIR=../shared/data python examples/decisions.py [--draws 1000]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import bayescale as bs

BUDGET = 5.88e23


def q(da, probs=(0.1, 0.5, 0.9)):
    """10/50/90% quantiles over the draws, NaNs (unanswered draws) left out."""
    values = da.to_numpy().ravel()
    values = values[np.isfinite(values)]
    return np.quantile(values, probs) if values.size else np.full(len(probs), np.nan)


def fmt(values) -> str:
    lo, mid, hi = values
    return f"{mid:.3g} [{lo:.3g}, {hi:.3g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    runs = bs.load_dataset("chinchilla_besiroglu2024")
    runs = runs.drop(index=runs["loss"].nlargest(5).index)
    with warnings.catch_warnings():
        warnings.simplefilter("default", bs.DiagnosticWarning)
        fit = bs.fit("chinchilla", runs, draws=args.draws, random_seed=args.seed, progressbar=False)
    print(fit)
    print()

    print("=== Published fits against the posterior ===")
    for card in ("hoffmann2022", "besiroglu2024"):
        res = bs.compare_to_card(fit, card, compute=BUDGET)
        print(res.summary())
        print()
    print("(Besiroglu et al. report chi^2 = 238.4, df 5, for Hoffmann's values with a bootstrap")
    print(" covariance; the figure above uses the posterior covariance on log A, log B, log E,")
    print(" alpha, beta.)")
    print()

    print("=== Compute-optimal FLOPs to reach a target loss (80% intervals) ===")
    targets = [2.2, 2.0, 1.95, 1.9, 1.85]
    cfl = bs.compute_for_loss(fit, targets)
    for t in targets:
        r = cfl.sel(target_loss=t)
        print(
            f"  L = {t:.2f}: C = {fmt(q(r['C_needed']))} FLOPs, N* = {fmt(q(r['N_opt']))}, "
            f"D* = {fmt(q(r['D_opt']))}; unreachable (target <= E) in "
            f"{int(r['n_unreachable'])} of {fit.n_draws} draws, beyond 1e60 FLOPs in "
            f"{int(r['n_beyond_max_compute'])}"
        )
    print()

    print(f"=== Overtraining penalty at C = {BUDGET:.3g} FLOPs ===")
    sizes = [8e9, 20e9, 70e9, 200e9]
    pen = bs.overtraining_penalty(fit, N=sizes, C=BUDGET)
    for n in sizes:
        r = pen.sel(N=n, C=BUDGET)
        print(
            f"  N = {n:.3g}: D/N = {float(r['tokens_per_param'].median()):.4g}, extra loss "
            f"{fmt(q(r['extra_loss']))} nats, compute-optimal equivalent "
            f"{fmt(q(r['C_equivalent']))} FLOPs (efficiency {fmt(q(r['compute_efficiency']))})"
        )
    print()

    target = 2.0
    demand = [0.0, 1e12, 1e13, 1e14]
    print(f"=== Inference-aware optimum for L = {target} (Sardana & Frankle 2023) ===")
    inf = bs.inference_optimal(fit, target, demand).sel(target_loss=target)
    for t in demand:
        r = inf.sel(inference_tokens=t)
        print(
            f"  T_inf = {t:.0e} tokens: N = {fmt(q(r['N_opt']))}, D = {fmt(q(r['D_opt']))}, "
            f"D/N = {fmt(q(r['tokens_per_param']))}, total FLOPs {fmt(q(r['C_total']))}; "
            f"training-only plan N* = {fmt(q(r['N_train_opt']))}; saving "
            f"{fmt(q(r['savings']))}"
        )
    zero = inf.sel(inference_tokens=0.0)
    gap = float(np.nanmax(np.abs(zero["N_opt"] / zero["N_train_opt"] - 1)))
    print(f"  T_inf = 0: largest relative gap to the training-only N* over draws: {gap:.1e}")
    print()

    print("=== Data wall ===")
    wall = bs.data_wall(fit, [10e12, 20e12], compute=[1e25, 1e26, 1e27])
    for u in (10e12, 20e12):
        r = wall.sel(available_tokens=u)
        print(
            f"  {u:.0e} unique tokens: C_wall = {fmt(q(r['C_wall']))} FLOPs, N* there "
            f"{fmt(q(r['N_at_wall']))}"
        )
        for c in (1e25, 1e26, 1e27):
            rc = r.sel(compute=c)
            print(
                f"    C = {c:.0e}: P(beyond wall) = {float(rc['beyond_wall'].mean()):.2f}, "
                f"N = {fmt(q(rc['N_opt']))}, extra loss from the token limit "
                f"{fmt(q(rc['extra_loss']))}"
            )
    print(f"  beyond the wall: {wall.attrs['beyond_the_wall']}")


if __name__ == "__main__":
    main()
