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
from bayescale import plots, plots_decisions
from bayescale.io import atomic_write


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
    few = bs.testing.pinned_fit(random_seed=0, draws=100)  # decisions solve per draw: fewer
    acc_fit = bs.emergence.pinned_emergence_fit(random_seed=0)
    holdout = bs.testing.simulate_chinchilla(n=30, random_seed=11).nlargest(5, "C")

    def emergence() -> tuple[Any, Any]:
        C = np.logspace(20, 25, 40)
        acc = bs.predict_accuracy(acc_fit, C=C).transpose("chain", "draw", "point")
        thr = bs.emergence_threshold(acc_fit, level=0.6)["threshold"].to_numpy()
        obs = (acc_fit.data["C"].to_numpy(), acc_fit.data["accuracy"].to_numpy())
        return plots.plot_emergence(C, accuracy=acc, observed=obs, threshold=thr, chance=0.25)

    bt = backtest_table(fit)
    train_test = bs.testing.pinned_law_fit("train_test", random_seed=0)
    return {
        "isoflops": lambda: plots.plot_isoflops(fit),
        "fit": lambda: plots.plot_fit(fit, holdout=holdout, random_seed=0),
        "fit_by_N": lambda: plots.plot_fit(fit, x="D", by="N", groups=4, random_seed=0),
        "residuals": lambda: plots.plot_residuals(fit, random_seed=0),
        "params": lambda: plots.plot_params(fit),
        "frontier": lambda: plots.plot_frontier(fit),
        "tokens_per_param": lambda: plots.plot_tokens_per_param(fit),
        "emergence": emergence,
        "accuracy_fit": lambda: plots.plot_fit(acc_fit, random_seed=0),
        "backtest": lambda: plots.plot_backtest(bt, x="C"),
        "backtest_identity": lambda: plots.plot_backtest(bt),
        "tradeoff": lambda: bs.tradeoff(train_test).plot(),
        "fit_isoflop_view": lambda: plots.plot_fit(fit, by="C", random_seed=0),
        "compute_for_loss": lambda: plots_decisions.plot_compute_for_loss(
            bs.compute_for_loss(fit, target_loss=np.linspace(1.85, 2.4, 12))
        ),
        "inference_optimal": lambda: plots_decisions.plot_inference_optimal(
            bs.inference_optimal(
                few, target_loss=[2.0, 2.1], inference_tokens=np.geomspace(1e10, 1e14, 7)
            )
        ),
        "data_wall": lambda: plots_decisions.plot_data_wall(
            bs.data_wall(
                few, available_tokens=[5e12, 1.5e13, 4e13], compute=np.geomspace(1e23, 1e27, 7)
            )
        ),
        "overtraining_penalty": lambda: plots_decisions.plot_overtraining_penalty(
            bs.overtraining_penalty(few, N=np.geomspace(3e9, 3e11, 9), compute=[1e23, 1e24])
        ),
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
        atomic_write(path, lambda tmp, fig=fig: fig.savefig(tmp, dpi=args.dpi))
        plt.close(fig)
        print(path)


if __name__ == "__main__":
    main()
