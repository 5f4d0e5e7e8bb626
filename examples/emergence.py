"""Emergent arithmetic and word skills against training compute, with held-out prediction.

Data: the emergent-capability table of Ruan, Maddison & Hashimoto (2024), "Observational scaling
laws" (2-shot BIG-bench-style tasks per public base model), joined with each model's training
FLOPs from their benchmark table: ``bs.load_dataset("obsscaling_ruan2024", table="emergent")``.

For each arithmetic task and word unscrambling, the ``emergence`` law

    acc(C) = floor + (ceiling − floor) · σ(k · (log10 C − T))

is fitted with NUTS (Beta likelihood on the reported proportions: the number of items per task
is not in the table) to the models trained with at most 8.4e22 FLOPs (the paper's
``cutoff_by_FLOPs`` split at Llama-2-7B); the floor is the chance level (0 for these free-form
answers) and the ceiling is learned. The models above the cutoff are held out and scored by
:func:`bayescale.backtest`. Printed per task: the threshold posterior (the compute at which the
expected accuracy reaches ``--level``, median and 80% interval, with the share of draws that never
reach it), each held-out model's accuracy against its 90% posterior predictive interval, and the
coverage over all held-out points.

Run:  python examples/emergence.py [--draws 1000] [--out results/emergence]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.emergence import task_runs, threshold_summary

#: Task column -> (label, chance-level accuracy).
TASKS: dict[str, tuple[str, float]] = {
    "arithmetic_2da_2_acc": ("2-digit addition", 0.0),
    "arithmetic_2dm_2_acc": ("2-digit multiplication", 0.0),
    "arithmetic_3da_2_acc": ("3-digit addition", 0.0),
    "arithmetic_3ds_2_acc": ("3-digit subtraction", 0.0),
    "word_unscrambling_2_exact_match": ("word unscrambling", 0.0),
}
#: Fit on models with C <= CUTOFF FLOPs, predict those above (Ruan et al.'s split).
CUTOFF = 8.4e22
PRED_PROB = 0.9
THRESHOLD_PROB = 0.8


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--random-seed", dest="seed", type=int, default=0)
    ap.add_argument("--level", type=float, default=0.5, help="accuracy level of the threshold")
    ap.add_argument(
        "--relative",
        action="store_true",
        help="read --level as the fraction of the way from chance to the ceiling",
    )
    ap.add_argument("--out", default="results/emergence", help="folder for the figure and tables")
    ap.add_argument("--no-plot", action="store_true")
    return ap.parse_args(argv)


def fit_task(
    data: pd.DataFrame, column: str, chance: float, args: argparse.Namespace
) -> dict[str, Any]:
    """Backtest one task (fit at or below the cutoff, predict above); threshold posterior."""
    runs = task_runs(data, column, x="C")
    law = bs.get_law("emergence", x="C", floor=chance)
    # backtest fits the runs with C < split: the next float above CUTOFF keeps C == CUTOFF in
    split = float(np.nextafter(CUTOFF, np.inf))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.DiagnosticWarning)
        bt = bs.backtest(
            law,
            runs,
            split={"C": split},
            ci_probs=(PRED_PROB,),
            likelihood="beta",
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            random_seed=args.seed,
        )
    problems = [str(w.message) for w in caught if issubclass(w.category, bs.DiagnosticWarning)]
    fit = bt.fits[split]
    thr = bs.emergence_threshold(fit, level=args.level, relative=args.relative, by=[CUTOFF])
    pct = f"{100 * PRED_PROB:g}"
    scored = bt.table.set_index("run")
    test = runs.loc[scored.index]
    held = pd.DataFrame(
        {
            "task": column,
            "model": data.loc[test.index, "Model"].to_numpy(),
            "C": scored["C"].to_numpy(),
            "observed": scored["observed"].to_numpy(),
            "median": scored["median"].to_numpy(),
            "lo": scored[f"lo{pct}"].to_numpy(),
            "hi": scored[f"hi{pct}"].to_numpy(),
            "inside": scored[f"inside{pct}"].to_numpy(),
        },
        index=test.index,
    )
    return {
        "fit": fit,
        "backtest": bt,
        "train": runs.drop(index=test.index),
        "test": test,
        "threshold": thr,
        "held_out": held,
        "problems": problems,
        "dropped": runs.attrs["dropped"],
    }


def plot(results: dict[str, dict[str, Any]], data: pd.DataFrame, path: str) -> None:
    """One panel per task: data, posterior band of the expected accuracy, held-out points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), squeeze=False)
    grid = np.logspace(np.log10(data["C"].min()) - 0.2, np.log10(data["C"].max()) + 0.2, 120)
    for ax, (column, res) in zip(axes.ravel(), results.items(), strict=False):
        label, chance = TASKS[column]
        acc = bs.predict_accuracy(res["fit"], C=grid)
        new = bs.predict_accuracy(res["fit"], kind="predictive", C=grid, random_seed=1)
        lo, hi = new.quantile([(1 - PRED_PROB) / 2, (1 + PRED_PROB) / 2], dim=("chain", "draw"))
        ax.fill_between(
            grid, lo, hi, color="0.5", alpha=0.12, lw=0, label="90% predictive interval"
        )
        train, held = res["train"], res["held_out"]
        bs.plots.plot_emergence(
            grid,
            accuracy=acc.transpose("chain", "draw", "point").to_numpy(),
            observed=(train["C"], train["accuracy"]),
            threshold=res["threshold"]["threshold"].to_numpy(),
            ci_prob=PRED_PROB,
            chance=chance if chance > 0 else None,
            label="expected accuracy",
            ax=ax,
        )
        for inside, color, text in ((True, "C2", "inside"), (False, "C3", "outside")):
            sel = held["inside"] == inside
            if sel.any():
                ax.scatter(
                    held.loc[sel, "C"],
                    held.loc[sel, "observed"],
                    marker="D",
                    s=26,
                    facecolor="none",
                    edgecolor=color,
                    lw=1.4,
                    zorder=4,
                    label=f"held out, {text} 90% PI ({int(sel.sum())})",
                )
        ax.axvline(CUTOFF, color="0.3", lw=0.8, ls="-.")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(-0.03, 1.05)
        ax.set_title(f"{label} ({column})", fontsize=9)
        corner = "lower right" if held["observed"].mean() > 0.5 else "upper left"
        ax.legend(fontsize=6, loc=corner, framealpha=0.85)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"Emergence against training compute: fitted on C ≤ {CUTOFF:.2g} FLOPs (dash-dot line), "
        "held-out models marked ◇",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the analysis; returns the per-task summary, the held-out table and the coverage."""
    args = _parse(argv)
    table = bs.load_dataset("obsscaling_ruan2024", table="emergent")
    unknown = int(table["C"].isna().sum())
    print(
        f"{len(table)} models; {unknown} without known training FLOPs are dropped; "
        f"fit on C <= {CUTOFF:.3g} FLOPs, predict the models above"
    )
    kind = "of the way from chance to the ceiling" if args.relative else "accuracy"
    print(
        f"threshold: compute at which the expected accuracy reaches {args.level:g} ({kind}); "
        f"median and {100 * THRESHOLD_PROB:g}% interval over all draws (never-reached draws "
        "count as +inf)\n"
    )
    results: dict[str, dict[str, Any]] = {}
    rows = []
    for column, (label, chance) in TASKS.items():
        res = fit_task(table, column, chance, args)
        results[column] = res
        s = threshold_summary(res["threshold"], ci_prob=THRESHOLD_PROB)
        held = res["held_out"]
        post = res["fit"].summary()
        rows.append(
            {
                "task": column,
                "n_fit": len(res["train"]),
                "n_held_out": len(held),
                "T": post.loc["T", "median"],
                "k": post.loc["k", "median"],
                "ceiling": post.loc["ceiling", "median"],
                "threshold_median": s["median"],
                "threshold_lo": s["lo"],
                "threshold_hi": s["hi"],
                "p_never_reached": s["p_never_reached"],
                "p_emerged_by_cutoff": float(res["threshold"]["p_emerged"].sel(scale=CUTOFF)),
                "coverage": float(held["inside"].mean()),
                "divergences": res["fit"].divergences,
                "max_r_hat": float(post["r_hat"].max()),
            }
        )
        print(f"== {label} [{column}]: {len(res['train'])} models fitted, {len(held)} held out")
        print(
            f"   T = {post.loc['T', 'median']:.2f} log10 FLOPs, k = {post.loc['k', 'median']:.2f}"
            f"/decade, ceiling = {post.loc['ceiling', 'median']:.3f}; "
            f"{res['fit'].divergences} divergences, max R-hat {post['r_hat'].max():.3f}"
        )
        print(
            f"   threshold: {s['median']:.3g} FLOPs [{s['lo']:.3g}, {s['hi']:.3g}]; "
            f"P(never reached) = {s['p_never_reached']:.2f}; "
            f"P(emerged by {CUTOFF:.2g}) = {rows[-1]['p_emerged_by_cutoff']:.2f}"
        )
        for r in held.itertuples():
            flag = "in " if r.inside else "OUT"
            print(
                f"   {flag} {r.model:<42} C={r.C:9.3g}  acc={r.observed:6.4f}  "
                f"pred {r.median:6.4f} [{r.lo:6.4f}, {r.hi:6.4f}]"
            )
        print(
            f"   held-out coverage of the {100 * PRED_PROB:g}% interval: "
            f"{int(held['inside'].sum())}/{len(held)}\n"
        )
    summary = pd.DataFrame(rows).set_index("task")
    held_out = pd.concat([r["held_out"] for r in results.values()])
    coverage = float(held_out["inside"].mean())
    print(
        f"Held-out coverage of the {100 * PRED_PROB:g}% predictive intervals over all tasks: "
        f"{int(held_out['inside'].sum())}/{len(held_out)} = {coverage:.3f}"
    )
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        summary.to_csv(os.path.join(args.out, "summary.csv"))
        held_out.to_csv(os.path.join(args.out, "held_out.csv"), index=False)
        if not args.no_plot:
            fig_path = os.path.join(args.out, "emergence.png")
            plot(results, table.dropna(subset=["C"]), fig_path)
            print(f"figure: {fig_path}")
    return {"summary": summary, "held_out": held_out, "coverage": coverage, "results": results}


if __name__ == "__main__":
    main(sys.argv[1:])
