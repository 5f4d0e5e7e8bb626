"""Extrapolate a broken neural scaling law: 4-digit addition (Caballero et al. 2023, Fig. 4).

Fits a one-break BNSL to the first 14 points of the learning curve (training-set size x, test
cross-entropy), then predicts the last 3. Reports the RMSLE (root mean squared difference of
log(1 + y), the error the authors' script minimises) of the median of the posterior predictive
draws on the extrapolated points next to the point fit's 0.0109 (card ``caballero2022``), and
whether each held-out point lies inside the 90% posterior predictive interval. The split, fit and
scoring are :func:`bayescale.backtest` with the cutoff x = 800.

Run with ``BAYESCALE_DATA_DIR=/path/to/data python examples/bnsl_extrapolation.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

import bayescale as bs


def rmsle(pred: np.ndarray, obs: np.ndarray) -> float:
    """Root mean squared error of log(1 + y) (the error the authors' script minimises)."""
    return float(np.sqrt(np.mean((np.log1p(pred) - np.log1p(obs)) ** 2)))


def rmse_log(pred: np.ndarray, obs: np.ndarray) -> float:
    """Root mean squared error of log y."""
    return float(np.sqrt(np.mean((np.log(pred) - np.log(obs)) ** 2)))


# x increases along the curve: the 14 "fit" points are those with x < 800
SPLIT = 800.0
# The 6-parameter posterior on 14 points has a curved ridge (a, c1 and f1 trade off, correlations
# ≈ 0.95, and its width follows the noise scale): a long warm-up and a small step size keep
# divergences rare, and NUTS gains ≈ 0.03 effective draws per draw along the ridge. Measured from
# fresh caches at seeds 0, 3, 4, 5 (stop 21): 4 × 4000 draws gave max R-hat 1.017 / 1.011 /
# 1.019 / 1.019 and min bulk ESS 339-931 — short of R-hat ≤ 1.01 at every seed; 4 × 8000 give
# 1.004 / 1.005 / 1.007 / 1.009 and ESS 815-1668 (tests/test_repro_hostile.py checks seeds 0 and
# 5). The law's multi-start search (bs.MultiStart) puts every chain at the best mode.
FIT_SETTINGS = dict(likelihood="normal", random_seed=0, tune=2000, draws=8000, target_accept=0.95)


def main() -> None:
    data = bs.load_dataset("bnsl_4digit_addition")
    law = bs.get_law("bnsl", breaks=1)
    split = SPLIT
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.DiagnosticWarning)
        # diagnostics are printed
        bt = bs.backtest(law, data, split={"x": split}, ci_probs=(0.9,), **FIT_SETTINGS)
    for w in caught:
        print(f"warning: {w.message}")
    fit = bt.fits[split]
    s = fit.summary()
    diag = fit.diagnostics()
    print(
        f"convergence: max R-hat {diag['max_r_hat']:.3f}, min bulk ESS "
        f"{diag['min_ess_bulk']:.0f}, {diag['divergences']} divergences"
    )
    card = bs.load_card("caballero2022")
    print(f"BNSL (1 break) on {len(fit.data)} points; posterior vs the point fit (card)")
    print(f"{'':>4} {'median':>9} {'95% interval':>22} {'card':>9}")
    for name in law.natural_names:
        r = s.loc[name]
        print(
            f"{name:>4} {r['median']:9.4g} [{r['ci95_lo']:9.4g}, {r['ci95_hi']:9.4g}] "
            f"{card.params[name]:9.4g}"
        )

    held = bt.table
    x, y, median = (held[k].to_numpy() for k in ("x", "observed", "median"))
    point = law.evaluate(card.params, x=x)
    print(f"\nExtrapolation to the {len(held)} held-out points (median: of the predictive draws)")
    print(
        f"{'x':>6} {'observed':>9} {'median':>9} {'90% predictive':>20} {'inside':>7} {'card':>7}"
    )
    for r, p in zip(held.itertuples(), point, strict=True):
        print(
            f"{r.x:6.0f} {r.observed:9.4f} {r.median:9.4f} [{r.lo90:8.4f}, {r.hi90:8.4f}] "
            f"{'yes' if r.inside90 else 'no':>7} {p:7.4f}"
        )
    inside = int(held["inside90"].sum())
    print("\nError on the extrapolated points (SOURCE.md reports 0.0109 for the point fit)")
    print(f"  RMSLE log(1+y): predictive median {rmsle(median, y):.4f}, card {rmsle(point, y):.4f}")
    print(
        f"  RMSE  log y:    predictive median {rmse_log(median, y):.4f}, "
        f"card {rmse_log(point, y):.4f}"
    )
    print(f"held-out points inside the 90% predictive interval: {inside}/{len(held)}")


if __name__ == "__main__":
    main()
