"""Timing and accuracy of the numeric compute-optimal allocation (no closed form needed).

For draws × budgets posterior samples of Chinchilla's parameters, times
``bayescale.analysis._numeric_optimum`` (grid + golden section + parabolic steps in log N,
vectorised over all draws and budgets) against the closed form, and prints the largest relative
difference in N*. Also times the data-constrained law (no closed form; unique tokens U fixed).

Run: ``python benchmarks/bench_optimum.py``.
"""

from __future__ import annotations

import time

import numpy as np

import bayescale as bs
from bayescale.analysis import _numeric_optimum
from bayescale.xp import numpy_ns


def _draws(truth: dict, n: int, rng: np.random.Generator) -> dict:
    return {k: (v * (1 + 0.02 * rng.standard_normal(n)))[:, None] for k, v in truth.items()}


def main() -> None:
    rng = np.random.default_rng(0)
    chin = bs.get_law("chinchilla")
    dc = bs.get_law("data_constrained")
    card = bs.load_card("muennighoff2023").params
    rows = []
    for n_draws, n_budgets in [(1000, 10), (4000, 10), (4000, 100), (16000, 100)]:
        C = np.logspace(18, 26, n_budgets)
        q = _draws(bs.testing.BESIROGLU_TRUTH, n_draws, rng)
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            numeric = _numeric_optimum(chin, q, C, 6.0)
            best = min(best, time.perf_counter() - t0)
        closed = chin.optimum(numpy_ns, q, C)
        err = float(np.max(np.abs(numeric["N"] / closed["N"] - 1)))
        qd = _draws(card, n_draws, rng)
        t0 = time.perf_counter()
        _numeric_optimum(dc, qd, C, 6.0, {"U": np.full(n_budgets, 25e9)})
        t_dc = time.perf_counter() - t0
        rows.append((n_draws, n_budgets, best, err, t_dc))
    print(
        "| draws | budgets | chinchilla numeric (s) | max rel. err. N* vs closed form "
        "| data_constrained numeric (s) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n_draws, n_budgets, t, err, t_dc in rows:
        print(f"| {n_draws} | {n_budgets} | {t:.3f} | {err:.1e} | {t_dc:.3f} |")


if __name__ == "__main__":
    main()
