"""Emergent arithmetic and word skills against training compute: one trend, family effects, or a
latent capability, on the same hold-out.

Data: the emergent-capability table of Ruan, Maddison & Hashimoto (2024), "Observational scaling
laws" (2-shot BIG-bench-style tasks per public base model), joined with each model's training
FLOPs and family: ``bs.load_dataset("obsscaling_ruan2024", table="emergent")``. Split as the
paper's ``cutoff_by_FLOPs``: fit the models trained with at most 8.4e22 FLOPs (Llama-2-7B),
predict every score of the models above.

Per task, the ``emergence`` law acc(C) = floor + (ceiling − floor)·σ(k·(log10 C − T)) with a
Beta likelihood on the reported proportions (the item counts are not in the table), floor 0
(free-form answers):

* **single trend** — one curve for every family, ceiling learned (the model of earlier versions);
* **single trend, ceiling 1** — the same with the ceiling held at 1: a perfect model answers
  every item of these exact-answer tasks, and the fitted models, none near saturation, cannot
  tell the ceiling from the prior;
* **family offsets** — ``bs.fit(law, runs, group="family", pool={"T_offset": "partial",
  "k": "shared"})``: each family its own midpoint T, partially pooled (non-centred), one
  steepness per task; **family offsets and slopes** also pools k by family; **no pooling**
  gives each family an independent T. A held-out model of a fitted family keeps its family's
  values; one of a new family is a new draw from the population of families (``bs.NEW_GROUP``);
* **latent capability** (:func:`bayescale.fit_capabilities`, K = 1) — one model over the
  models × tasks table: each model's capability grows with log compute within its family,
  each task a sigmoid of it; held-out scores are missing cells.

The choice among complete, partial and no pooling is made by ``bs.compare`` (PSIS-LOO on the
fitted models only); the hold-out then scores every model: 90% predictive coverage, median
absolute error and the held-out log predictive density (sum over held-out scores of the log of
the posterior predictive density of the observed accuracy; higher is better). Last, per task,
the compute at which a new family's expected accuracy reaches ``--level`` (with the better
partially pooled model by LOO: no pooling knows nothing of a family it has not fitted). The
figure (``<out>/emergence.png``) puts each held-out model's observed accuracy beside three
models' 90% intervals.

Measured (2026-12-05, defaults): 90% coverage 79/137 single trend, 127/137 family offsets and
slopes (LOO's choice), 127/137 latent capability (not converged at these draws: R-hat 1.79);
held-out lpd 110.7, 270.0, 171.5 (the last on a Normal, not a Beta). 908 s wall on the shared
2-core machine under load 15–21 (444 s for the 25 per-task fits, 462 s for the latent model),
232 s of CPU in all.

Run:  python examples/emergence.py [--draws 500] [--out results/emergence]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

import bayescale as bs
from bayescale.display import flops
from bayescale.emergence import task_runs, threshold_summary
from bayescale.io import atomic_write, atomic_write_text

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
THRESHOLD_PROB = 0.95
#: The per-task models: name -> (law options beyond x and floor, pool or None).
MODELS: dict[str, tuple[dict[str, float], dict[str, str] | None]] = {
    "single trend": ({}, None),
    "single trend, ceiling 1": ({"ceiling": 1.0}, None),
    "family offsets": ({"ceiling": 1.0}, {"T_offset": "partial", "k": "shared"}),
    "family offsets and slopes": ({"ceiling": 1.0}, {"T_offset": "partial", "k": "partial"}),
    "no pooling": ({"ceiling": 1.0}, {"T_offset": "independent", "k": "shared"}),
}
#: The models bs.compare ranks (same law, same runs; complete, partial, no pooling).
LOO_MODELS = ("single trend, ceiling 1", "family offsets", "family offsets and slopes",
              "no pooling")  # fmt: skip
LATENT = "latent capability"
#: The partially pooled models (what a new family is predicted with).
PARTIAL = ("family offsets", "family offsets and slopes")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--random-seed", dest="seed", type=int, default=0)
    ap.add_argument("--level", type=float, default=0.5, help="accuracy of the threshold table")
    ap.add_argument("--out", default="results/emergence", help="folder for the figure and tables")
    ap.add_argument("--no-plot", action="store_true")
    return ap.parse_args(argv)


def _quiet_fit(law: Any, runs: pd.DataFrame, args: argparse.Namespace, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        return bs.fit(
            law, runs, likelihood="beta", draws=args.draws, tune=args.tune, chains=args.chains,
            random_seed=args.seed, progressbar=False, **kw,
        )  # fmt: skip


def fit_task(table: pd.DataFrame, column: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every per-task model on the runs at or below the cutoff, scored on those above."""
    _, chance = TASKS[column]
    runs = task_runs(table, column, x="C")
    runs["family"] = table.loc[runs.index, "family"].astype(str)
    runs["model"] = table.loc[runs.index, "Model"]
    train, test = runs[runs["C"] <= CUTOFF], runs[runs["C"] > CUTOFF]
    fits, scores = {}, {}
    for name, (options, pool) in MODELS.items():
        law = bs.get_law("emergence", x="C", floor=chance, **options)
        if pool is None:
            fits[name] = _quiet_fit(law, train[["C", "accuracy"]], args)
        else:
            fits[name] = _quiet_fit(law, train[["C", "accuracy", "family"]], args,
                                    group="family", pool=pool)  # fmt: skip
        cols = ["C", "accuracy"] + (["family"] if pool else [])
        s = bs.score_holdout(fits[name], test[cols], ci_prob=PRED_PROB, random_seed=args.seed)
        s["model"], s["family"], s["task"] = test["model"], test["family"], column
        scores[name] = s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = bs.compare({m: fits[m] for m in LOO_MODELS}, warn=False)
    return {"fits": fits, "scores": scores, "loo": loo, "train": train, "test": test}


def fit_latent(table: pd.DataFrame, args: argparse.Namespace) -> tuple[Any, pd.DataFrame]:
    """The latent-capability model on the models × tasks table, held-out cells missing; its
    held-out predictions in :func:`bs.score_holdout`'s columns (log density: its Normal noise
    on the accuracy)."""
    tasks = list(TASKS)
    frame = table.reset_index(drop=True)
    masked = frame.copy()
    masked.loc[frame["C"] > CUTOFF, tasks] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.DiagnosticWarning)
        f = bs.fit_capabilities(
            masked, tasks, chance={t: c for t, (_, c) in TASKS.items()}, draws=args.draws,
            tune=args.tune, chains=args.chains, random_seed=args.seed,
        )  # fmt: skip
    p = f.predict(ci_prob=PRED_PROB, random_seed=args.seed)
    p["observed"] = [frame.loc[int(m), b] for m, b in zip(p["model"], p["benchmark"], strict=True)]
    p = p[p["observed"].notna()].copy()
    mean = f.posterior["mean"].transpose("chain", "draw", "model", "benchmark").to_numpy()
    mean = mean.reshape(-1, *mean.shape[2:])
    sigma = f.posterior["sigma"].to_numpy().reshape(-1, len(tasks))
    rows = p["model"].astype(int).to_numpy()
    cols = np.array([tasks.index(b) for b in p["benchmark"]])
    m, sd = mean[:, rows, cols], sigma[:, cols]
    y = p["observed"].to_numpy()
    logp = -0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * ((y - m) / sd) ** 2
    out = pd.DataFrame(
        {
            "C": frame.loc[rows, "C"].to_numpy(),
            "observed": y,
            "median": p["median"].to_numpy(),
            "lo": p["lo"].to_numpy(),
            "hi": p["hi"].to_numpy(),
            "log_density": logsumexp(logp, axis=0) - np.log(logp.shape[0]),
            "model": frame.loc[rows, "Model"].to_numpy(),
            "family": frame.loc[rows, "family"].astype(str).to_numpy(),
            "task": p["benchmark"].to_numpy(),
        }
    )
    out["inside"] = (out["observed"] >= out["lo"]) & (out["observed"] <= out["hi"])
    return f, out


def holdout_table(scores: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per model: held-out scores, 90% coverage, median abs. error, held-out lpd."""
    rows = {}
    for name, s in scores.items():
        rows[name] = {
            "n": len(s),
            "covered": int(s["inside"].sum()),
            f"coverage{100 * PRED_PROB:g}": float(s["inside"].mean()),
            "median_abs_error": float((s["median"] - s["observed"]).abs().median()),
            "lpd": float(s["log_density"].sum()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    return out


def loo_choice(loos: dict[str, pd.DataFrame]) -> tuple[str, str, pd.DataFrame, str]:
    """The pooling LOO prefers over all tasks (summed ELPD), the partially pooled model new
    families are predicted with, the per-task ranks and a sentence that explains the choice."""
    elpd = pd.DataFrame({t: c["elpd"] for t, c in loos.items()}).T
    ranks = pd.DataFrame({t: c["rank"] for t, c in loos.items()}).T.astype(int)
    elpd, ranks = elpd[list(LOO_MODELS)], ranks[list(LOO_MODELS)]
    total = elpd.sum().sort_values(ascending=False)
    best, second = total.index[0], total.index[1]
    # the se of the summed difference: per-task pointwise differences, summed in quadrature
    se2 = 0.0
    for c in loos.values():
        res = c.attrs["loo"]
        d = np.asarray(res[best].elpd_i).ravel() - np.asarray(res[second].elpd_i).ravel()
        se2 += d.size * float(np.var(d))
    diff, se = float(total[best] - total[second]), float(np.sqrt(se2))
    wins = int((ranks[best] == 0).sum())
    high_k = {m: int(sum(c.loc[m, "n_high_k"] for c in loos.values())) for m in elpd.columns}
    why = {
        "family offsets": "the families differ in where the transition sits (the spread of "
        "their midpoints is learned), and a family with one or two fitted models borrows "
        "from the others instead of getting a midpoint from its own points alone",
        "family offsets and slopes": "the families differ in where the transition sits and in "
        "how fast it rises, and partial pooling learns both spreads while a family with few "
        "fitted models borrows from the others",
        "no pooling": "the families' midpoints are far apart, so tying them to a common "
        "population costs more than it saves",
        "single trend, ceiling 1": "the fitted families do not differ enough for their own "
        "midpoints to pay for the extra parameters",
    }[best]
    close = diff < 2 * se
    order = ", ".join(f"'{m}' {total[m]:.1f}" for m in total.index)
    sentence = (
        f"LOO prefers '{best}': first on {wins} of {len(loos)} tasks and in total ELPD "
        f"({total[best]:.1f} against {total[second]:.1f} for '{second}', a difference of "
        f"{diff:.1f} ± {se:.1f}"
        + ("; within two standard errors, so the fitted models hardly separate them" * close)
        + f"); {why}. Total ELPD: {order}."
    )
    if high_k["no pooling"]:
        sentence += (
            f" 'no pooling' has {high_k['no pooling']} fitted scores with Pareto k above the "
            "threshold (a family with one or two fitted models sets its own midpoint), so its "
            "LOO estimate is unreliable, and a new family learns nothing from the others."
        )
    partial = [m for m in total.index if m in PARTIAL]
    family_model = partial[0]
    if best != family_model:
        sentence += (
            f" For a new family (most held-out models) '{best}' "
            + ("has only the prior of T" if best == "no pooling" else "has no family effect")
            + f", so the figure and the thresholds use '{family_model}', the better of the "
            "partially pooled models by LOO."
        )
    return best, family_model, ranks, sentence


def threshold_text(s: dict[str, float]) -> str:
    if not np.isfinite(s["log10_median"]):
        return f"never reached by {100 * s['p_never_reached']:.0f}% of draws"
    hi = flops(s["hi"], unit=False) if np.isfinite(s["log10_hi"]) else "never"
    return f"{flops(s['median'])} [{flops(s['lo'], unit=False)}, {hi}]"


def threshold_table(
    results: dict[str, dict[str, Any]], latent: Any, best: str, level: float, seed: int
) -> pd.DataFrame:
    """Per task: compute at which a new family's expected accuracy reaches ``level``."""
    lat = latent.thresholds(level=level, ci_prob=THRESHOLD_PROB)
    rows = {}
    for column, res in results.items():
        one = threshold_summary(
            bs.emergence_threshold(res["fits"]["single trend"], level=level),
            ci_prob=THRESHOLD_PROB,
        )
        new = threshold_summary(
            bs.emergence_threshold(
                res["fits"][best], level=level, group=bs.NEW_GROUP, random_seed=seed
            ),
            ci_prob=THRESHOLD_PROB,
        )
        rows[TASKS[column][0]] = {
            "single trend": threshold_text(one),
            f"{best} (new family)": threshold_text(new),
            f"{LATENT} (new family)": lat.loc[column, "text"],
            "single_median": one["median"],
            "family_median": new["median"],
            "family_lo": new["lo"],
            "family_hi": new["hi"],
            "latent_median": lat.loc[column, "median"],
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "task"
    return out


def plot(
    results: dict[str, dict[str, Any]], latent: pd.DataFrame, best: str, path: str
) -> tuple[Any, Any]:
    """One panel per task: each held-out model (in order of compute) with three models' 90%
    predictive intervals side by side and its observed accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [("single trend", "C3", -0.25), (best, "C0", 0.0), (LATENT, "C2", 0.25)]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), squeeze=False)
    for ax, (column, res) in zip(axes.ravel(), results.items(), strict=False):
        order = res["test"].sort_values("C")["model"].tolist()
        pos = {m: i for i, m in enumerate(order)}
        covered = []
        for name, color, shift in shown:
            s = latent[latent["task"] == column] if name == LATENT else res["scores"][name]
            x = s["model"].map(pos).to_numpy() + shift
            ax.vlines(x, s["lo"], s["hi"], color=color, lw=2.2, alpha=0.8,
                      label=f"{name}: 90% predictive interval")  # fmt: skip
            covered.append(f"{int(s['inside'].sum())}/{len(s)}")
        obs = res["test"]
        ax.scatter(obs["model"].map(pos), obs["accuracy"], s=22, marker="D", color="k",
                   zorder=4, label="observed accuracy")  # fmt: skip
        ax.set_xlim(-0.8, len(order) - 0.2)
        ax.set_ylim(-0.03, 1.05)
        ax.set_xticks([])
        lo_c, hi_c = flops(obs["C"].min(), unit=False), flops(obs["C"].max(), unit=False)
        ax.set_xlabel(f"held-out models by training compute ({lo_c} → {hi_c} FLOPs)",
                      fontsize=10)  # fmt: skip
        ax.set_ylabel("accuracy", fontsize=10)
        ax.tick_params(labelsize=9)
        ax.set_title(f"{TASKS[column][0]}: covered {' · '.join(covered)}", fontsize=10)
    for ax in axes.ravel()[len(results) :]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    where = axes.ravel()[len(results)] if len(results) < axes.size else fig
    title = f"fitted on the models with C ≤ {flops(CUTOFF)}"
    where.legend(handles, labels, loc="center", fontsize=10, frameon=False, title=title,
                 title_fontsize=10)  # fmt: skip
    names = " · ".join(name for name, _, _ in shown)
    fig.suptitle(f"Models above the cutoff, predicted from those below: covered by {names}",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120))
    plt.close(fig)
    return fig, axes


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the comparison; returns the tables and per-model held-out scores."""
    args = _parse(argv)
    t_start = time.perf_counter()
    table = bs.load_dataset("obsscaling_ruan2024", table="emergent")
    unknown = int(table["C"].isna().sum())
    table = table[table["C"].notna()]
    n_fit, n_held = int((table["C"] <= CUTOFF).sum()), int((table["C"] > CUTOFF).sum())
    print(f"{len(table) + unknown} models; {unknown} without known training FLOPs dropped; "
          f"{n_fit} fitted (C ≤ {flops(CUTOFF)}), {n_held} held out\n")  # fmt: skip

    results = {}
    for column, (label, _) in TASKS.items():
        t0 = time.perf_counter()
        results[column] = fit_task(table, column, args)
        n = len(results[column]["train"]), len(results[column]["test"])
        print(f"{label}: {n[0]} fitted, {n[1]} held out; {len(MODELS)} fits in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    print()
    t_tasks = time.perf_counter() - t_start
    latent_fit, latent = fit_latent(table, args)
    t_latent = time.perf_counter() - t_start - t_tasks

    # 1. pooled vs unpooled, by LOO on the fitted models
    best, family_model, ranks, sentence = loo_choice({c: r["loo"] for c, r in results.items()})
    print("LOO on the fitted models (bs.compare; rank 0 = best) per task:")
    ranks.index = [TASKS[c][0] for c in ranks.index]
    print(ranks.to_string())
    print(sentence + "\n")

    # 2. the hold-out, every model on the same held-out scores
    scores = {m: pd.concat([r["scores"][m] for r in results.values()]) for m in MODELS}
    scores[LATENT] = latent
    held = holdout_table(scores)
    print(f"Held-out scores of the models above the cutoff, all {len(TASKS)} tasks "
          f"(lpd: sum of log predictive densities of the observed accuracies):")  # fmt: skip
    print(held.to_string(float_format=lambda v: f"{v:.3f}"))
    per_task = pd.DataFrame(
        {m: s.groupby("task")["inside"].mean() for m, s in scores.items()}
    ).rename(index=lambda c: TASKS[c][0])
    print(f"\n{100 * PRED_PROB:g}% coverage per task:")
    print(per_task.to_string(float_format=lambda v: f"{v:.2f}"))
    d = latent_fit.diagnostics
    trouble = d["divergences"] > 0 or d["max_rhat"] > 1.01
    print(
        f"\n{LATENT}: {d['divergences']:.0f} divergences, max R-hat {d['max_rhat']:.3f}"
        + (" — not converged, do not trust its intervals (more --tune/--draws)" * trouble)
        + "; its lpd is of its Normal noise on the accuracy (ignoring the clip to [0, 1]), "
        "the others' of a Beta: compare it with care"
    )

    # 3. thresholds for a new family
    thr = threshold_table(results, latent_fit, family_model, args.level, args.seed)
    print(f"\nCompute at which a new family's expected accuracy reaches {args.level:g}, "
          f"median [{100 * THRESHOLD_PROB:g}% interval]:")  # fmt: skip
    print(thr.iloc[:, :3].to_string())
    elapsed = time.perf_counter() - t_start
    print(f"\n{elapsed:.0f} s ({t_tasks:.0f} s for {len(TASKS) * len(MODELS)} per-task fits, "
          f"{t_latent:.0f} s for the latent-capability fit)")  # fmt: skip

    held_out = pd.concat(
        [s.assign(fitted_model=m)[["task", "model", "family", "C", "observed", "median", "lo",
                                   "hi", "inside", "log_density", "fitted_model"]]
         for m, s in scores.items()],
        ignore_index=True,
    )  # fmt: skip
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        files = {
            "holdout.csv": held.to_csv(),
            "held_out.csv": held_out.to_csv(index=False),
            "thresholds.csv": thr.to_csv(),
            "loo_ranks.csv": ranks.to_csv(),
        }
        for name, text in files.items():
            atomic_write_text(os.path.join(args.out, name), text)
        if not args.no_plot:
            fig_path = os.path.join(args.out, "emergence.png")
            plot(results, latent, family_model, fig_path)
            print(f"figure: {fig_path}")
    return {
        "holdout": held,
        "held_out": held_out,
        "thresholds": thr,
        "ranks": ranks,
        "best": best,
        "family_model": family_model,
        "sentence": sentence,
        "results": results,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
