"""Every figure bayescale draws, written into one folder (PNG), for looking at them side by side.

The fits are pinned posteriors (no MCMC: ``bs.testing.pinned_fit``, a Chinchilla fit near
Besiroglu et al.'s estimate, and ``bs.emergence.pinned_emergence_fit``); the backtest table is
made from the pinned fit's predictions of simulated runs above two cutoffs. The test suite draws
the same figures (:func:`figures`) and checks their type sizes, legends and tick labels.

Usage::

    python examples/gallery.py [--out gallery] [--dpi 110]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale import plots


def backtest_table(fit: Any, cutoffs: tuple[float, ...] = (3e19, 3e20)) -> Any:
    """A backtest-like result: the pinned fit's predictive intervals for simulated runs above
    each cutoff (the same fit for each, so the figure is about layout, not skill)."""
    from bayescale.validation import DEFAULT_PROBS, _score

    runs = bs.testing.simulate_chinchilla(n=60, random_seed=7)
    parts = []
    for cutoff in cutoffs:
        held = runs[runs["C"] >= cutoff]
        pred = bs.predict_loss(
            fit, kind="predictive", random_seed=1, N=held["N"].values, D=held["D"].values
        )
        draws = pred.transpose("chain", "draw", "point").to_numpy().reshape(-1, len(held))
        observed = held["loss"].to_numpy(dtype=float)
        scores = _score(draws, observed, DEFAULT_PROBS)
        parts.append(pd.DataFrame({"cutoff": cutoff, "C": held["C"].values, **scores}))
    table = pd.concat(parts, ignore_index=True)
    return type("Backtest", (), {"table": table, "split": "C", "cutoffs": list(cutoffs)})()


def figures() -> dict[str, Callable[[], tuple[Any, Any]]]:
    """Name → a function drawing the figure (``(fig, axes)``)."""
    fit = bs.testing.pinned_fit(random_seed=0)
    acc_fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    holdout = bs.testing.simulate_chinchilla(n=30, random_seed=11).nlargest(5, "C")

    def emergence() -> tuple[Any, Any]:
        C = np.logspace(20, 25, 40)
        acc = bs.predict_accuracy(acc_fit, C=C).transpose("chain", "draw", "point")
        thr = bs.emergence_threshold(acc_fit, level=0.6)["threshold"].to_numpy()
        obs = (acc_fit.data["C"].to_numpy(), acc_fit.data["accuracy"].to_numpy())
        return plots.plot_emergence(C, accuracy=acc, observed=obs, threshold=thr, chance=0.25)

    bt = backtest_table(fit)
    return {
        "isoflops": lambda: plots.plot_isoflops(fit),
        "fit": lambda: plots.plot_fit(fit, holdout=holdout),
        "fit_by_N": lambda: plots.plot_fit(fit, x="D", by="N", groups=4),
        "residuals": lambda: plots.plot_residuals(fit),
        "params": lambda: plots.plot_params(fit),
        "frontier": lambda: plots.plot_frontier(fit),
        "tokens_per_param": lambda: plots.plot_tokens_per_param(fit),
        "emergence": emergence,
        "accuracy_fit": lambda: plots.plot_fit(acc_fit),
        "backtest": lambda: plots.plot_backtest(bt, x="C"),
        "backtest_identity": lambda: plots.plot_backtest(bt),
        "plan": lambda: bs.plan(fit, compute=1e24, n_outcomes=4, random_seed=0).plot(),
    }


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gallery"))
    parser.add_argument("--dpi", type=int, default=110)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, draw in figures().items():
        fig, _ = draw()
        path = args.out / f"{name}.png"
        fig.savefig(path, dpi=args.dpi)
        plt.close(fig)
        print(path)


if __name__ == "__main__":
    main()
