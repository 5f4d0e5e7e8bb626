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


def summary(ds):
    """Median and 80% interval of every variable at every grid point (NaN draws left out)."""
    return bs.decision_summary(ds, ci_prob=0.8).sort_index()


def fmt(table, *key) -> str:
    """'median [80% interval]' of one row (variable, grid coordinates...) of a summary."""
    row = table.loc[key]
    return f"{row['median']:.3g} [{row['ci80_lo']:.3g}, {row['ci80_hi']:.3g}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
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
        print(res)
        print()
    print("(Besiroglu et al. report chi^2 = 238.4, df 5, for Hoffmann's values with a bootstrap")
    print(" covariance; the figure above uses the posterior covariance on log A, log B, log E,")
    print(" alpha, beta.)")
    print()

    print("=== Compute-optimal FLOPs to reach a target loss (80% intervals) ===")
    targets = [2.2, 2.0, 1.95, 1.9, 1.85]
    cfl = bs.compute_for_loss(fit, targets)
    table = summary(cfl)
    for t in targets:
        r = cfl.sel(target_loss=t)
        print(
            f"  L = {t:.2f}: C = {fmt(table, 'C_needed', t)} FLOPs, "
            f"N* = {fmt(table, 'N_opt', t)}, D* = {fmt(table, 'D_opt', t)}; unreachable "
            f"(target <= E) in "
            f"{int(r['n_unreachable'])} of {fit.n_draws} draws, beyond 1e60 FLOPs in "
            f"{int(r['n_beyond_max_compute'])}"
        )
    print()

    print(f"=== Overtraining penalty at C = {BUDGET:.3g} FLOPs ===")
    sizes = [8e9, 20e9, 70e9, 200e9]
    pen = bs.overtraining_penalty(fit, N=sizes, compute=BUDGET)
    table = summary(pen)
    for n in sizes:
        at = (n, BUDGET)
        print(
            f"  N = {n:.3g}: D/N = {table.loc[('tokens_per_param', *at), 'median']:.4g}, "
            f"extra loss {fmt(table, 'extra_loss', *at)} nats, compute-optimal equivalent "
            f"{fmt(table, 'C_equivalent', *at)} FLOPs (efficiency "
            f"{fmt(table, 'compute_efficiency', *at)})"
        )
    print()

    target = 2.0
    demand = [0.0, 1e12, 1e13, 1e14]
    print(f"=== Inference-aware optimum for L = {target} (Sardana & Frankle 2023) ===")
    inf = bs.inference_optimal(fit, target, demand).sel(target_loss=target)
    table = summary(inf)
    for t in demand:
        print(
            f"  T_inf = {t:.0e} tokens: N = {fmt(table, 'N_opt', t)}, "
            f"D = {fmt(table, 'D_opt', t)}, D/N = {fmt(table, 'tokens_per_param', t)}, total "
            f"FLOPs {fmt(table, 'C_total', t)}; training-only plan N* = "
            f"{fmt(table, 'N_train_opt', t)}; saving {fmt(table, 'savings', t)}"
        )
    zero = inf.sel(inference_tokens=0.0)
    gap = float(np.nanmax(np.abs(zero["N_opt"] / zero["N_train_opt"] - 1)))
    print(f"  T_inf = 0: largest relative gap to the training-only N* over draws: {gap:.1e}")
    print()

    print("=== Data wall ===")
    wall = bs.data_wall(fit, [10e12, 20e12], compute=[1e25, 1e26, 1e27])
    at_wall = summary(wall[["C_wall", "N_at_wall"]])
    beyond = summary(wall[["N_opt", "extra_loss"]])
    for u in (10e12, 20e12):
        print(
            f"  {u:.0e} unique tokens: C_wall = {fmt(at_wall, 'C_wall', u)} FLOPs, N* there "
            f"{fmt(at_wall, 'N_at_wall', u)}"
        )
        for c in (1e25, 1e26, 1e27):
            p_beyond = float(wall["beyond_wall"].sel(available_tokens=u, compute=c).mean())
            print(
                f"    C = {c:.0e}: P(beyond wall) = {p_beyond:.2f}, "
                f"N = {fmt(beyond, 'N_opt', u, c)}, extra loss from the token limit "
                f"{fmt(beyond, 'extra_loss', u, c)}"
            )
    print(f"  beyond the wall: {wall.attrs['beyond_the_wall']}")


if __name__ == "__main__":
    main()
