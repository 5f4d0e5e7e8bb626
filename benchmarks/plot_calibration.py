"""Figure of the calibration benchmark: coverage of central predictive intervals against nominal.

Reads the per-prediction CSV written by ``bench_calibration.py --points`` and draws, for the
old independent-noise model and the default, the fraction of held-out runs inside the central
interval of every level (from each prediction's PIT value: a run is inside the central p interval
when |PIT − ½| ≤ p/2). Thin lines: one per split; thick: pooled over every held-out run. The
diagonal is perfect calibration; below it, intervals too narrow.

    python benchmarks/bench_calibration.py --points results/calibration_points.csv
    python benchmarks/plot_calibration.py results/calibration_points.csv docs/calibration.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bayescale.io import atomic_write

MODELS = {
    "independent": ("before: independent noise", "#c62828"),
    "default": ("after: default (extrapolation drift)", "#1565c0"),
}


def coverage_curve(pit: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Fraction of PIT values inside the central interval of each level."""
    dev = np.abs(np.asarray(pit, dtype=float) - 0.5)
    return (dev[None, :] <= levels[:, None] / 2).mean(axis=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points")
    parser.add_argument("out")
    args = parser.parse_args(argv)
    points = pd.read_csv(args.points)
    levels = np.linspace(0.0, 1.0, 101)
    fig, ax = plt.subplots(figsize=(5.4, 5.6), dpi=150, layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="calibrated")
    for model, (label, colour) in MODELS.items():
        sub = points[points["model"] == model]
        if sub.empty:
            continue
        for _, split in sub.groupby("split"):
            ax.plot(levels, coverage_curve(split["pit"], levels), color=colour, lw=0.6, alpha=0.35)
        pooled = coverage_curve(sub["pit"], levels)
        ax.plot(
            levels,
            pooled,
            color=colour,
            lw=2.4,
            label=f"{label} ({len(sub)} runs, {sub['split'].nunique()} splits)",
        )
    ax.set_xlabel("nominal level of the central predictive interval")
    ax.set_ylabel("held-out runs inside")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Real held-out runs beyond the fitted compute", fontsize=10)
    fig.legend(loc="outside lower center", fontsize=9, frameon=False)
    ax.tick_params(labelsize=9)
    atomic_write(args.out, fig.savefig)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
