"""Observational scaling, Bayesian: predict large models' benchmark scores from small ones.

Data: Ruan, Maddison & Hashimoto (2024), "Observational scaling laws" — 8 benchmark scores of
public base models with their training compute and family
(``bs.load_dataset("obsscaling_ruan2024")``; the 25 models without a known compute are left
out). Split as the paper's ``cutoff_by_FLOPs``: fit the models with C ≤ 8.4e22 FLOPs
(Llama-2-7B), predict every score of the models above.

Two models, same hold-out:

* **single trend**: for each benchmark alone, the ``emergence`` law (a sigmoid in log10 C from
  the chance level; Beta likelihood), through ``bs.backtest``;
* **latent capability** (:func:`bayescale.fit_capabilities`): one model over the whole
  models × benchmarks table; each model's capability grows linearly in log compute within its
  family (families partially pooled), each benchmark is a sigmoid of it above its chance level;
  the held-out models' scores are simply missing from the likelihood.

Printed: median abs. error and 90% coverage per benchmark for both, what loads on the
capability, and the compute at which a new family is expected to reach 50% on each benchmark.

Run:  python examples/observational_scaling.py [--random-seed 0] [--draws 1000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import bayescale as bs

BENCHMARKS = ["MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd",
              "HumanEval"]  # fmt: skip
#: Chance level of the fixed-choice benchmarks (4 answers; Winograd's 2 options); the others
#: are free-form or not fixed-choice accuracies (TruthfulQA's MC2 score), so 0.
CHANCE = {"MMLU": 0.25, "ARC-C": 0.25, "HellaSwag": 0.25, "Winograd": 0.5, "XWinograd": 0.5}
CUTOFF = 8.4e22
PROB = 0.9


def single_trend(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    rows = []
    for b in BENCHMARKS:
        runs = table[["C", b]].rename(columns={b: "accuracy"}).dropna()
        law = bs.get_law("emergence", x="C", floor=CHANCE.get(b, 0.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = bs.backtest(
                law, runs, split={"C": float(np.nextafter(CUTOFF, np.inf))},
                likelihood="beta", random_seed=seed, ci_probs=(PROB,), progressbar=False,
            )  # fmt: skip
        t = bt.table
        rows.append(pd.DataFrame({"benchmark": b, "err": (t["median"] - t["observed"]).abs(),
                                  "inside": t["inside90"]}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--random-seed", dest="seed", type=int, default=0)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args(argv)
    data = bs.load_dataset("obsscaling_ruan2024")
    table = data[data["C"].notna()].reset_index(drop=True)
    held = table["C"] > CUTOFF
    masked = table.copy()
    masked.loc[held, BENCHMARKS] = np.nan
    print(f"{(~held).sum()} models fitted (C ≤ {CUTOFF:.2g} FLOPs), {held.sum()} held out")

    t0 = time.perf_counter()
    single = single_trend(table, args.seed)
    t_single = time.perf_counter() - t0
    t0 = time.perf_counter()
    f = bs.fit_capabilities(masked, BENCHMARKS, chance=CHANCE, draws=args.draws,
                            random_seed=args.seed)  # fmt: skip
    t_latent = time.perf_counter() - t0
    d = f.diagnostics
    print(f"latent capability: {t_latent:.0f} s, {d['divergences']:.0f} divergences, max R-hat "
          f"{d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}; single trend: "
          f"{t_single:.0f} s for 8 fits")  # fmt: skip
    p = f.predict(ci_prob=PROB)
    p["observed"] = [table.loc[int(m), b] for m, b in zip(p["model"], p["benchmark"], strict=True)]
    p = p[p["observed"].notna()]
    p["err"] = (p["median"] - p["observed"]).abs()
    p["inside"] = (p["observed"] >= p["lo"]) & (p["observed"] <= p["hi"])

    out = pd.DataFrame(
        {
            "n": p.groupby("benchmark").size(),
            "single trend: median abs. error": single.groupby("benchmark")["err"].median(),
            "latent: median abs. error": p.groupby("benchmark")["err"].median(),
            "single trend: 90% covers": single.groupby("benchmark")["inside"].mean(),
            "latent: 90% covers": p.groupby("benchmark")["inside"].mean(),
        }
    ).loc[BENCHMARKS]
    out.loc["all held-out scores"] = [
        len(p), single["err"].median(), p["err"].median(), single["inside"].mean(),
        p["inside"].mean(),
    ]  # fmt: skip
    print("\nHeld-out scores of the models above the cutoff")
    print(out.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nWhat loads on the capability (logit change per sd of log10 compute, posterior "
          "median); TruthfulQA does not grow with it")  # fmt: skip
    print(f.loadings().round(2).to_string())
    th = f.thresholds(level=0.5, ci_prob=0.8)
    print("\nCompute at which a new family is expected to score 0.5 (median [80% interval])")
    print(th[["text"]].to_string(header=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
