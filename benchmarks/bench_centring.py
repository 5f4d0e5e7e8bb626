"""Centred, non-centred or chosen by the Laplace pilot: how NUTS samples partially pooled fits.

For each case the same pooled model is fitted three ways — ``pool="partial_noncentred"``,
``"partial_centred"`` and ``"partial_auto"`` (:mod:`bayescale.pooling_auto`) — with the same
seed and settings, and one row per form reports max R-hat, divergences, min bulk ESS, the
sampling time, min bulk ESS per second of sampling, the mean tree depth and, for ``auto``, how
many groups the pilot centred. Cases:

* ``isoflops``: the 7 isoFLOP experiments of ``examples/hierarchical_isoflops.py`` (Chinchilla,
  every parameter partial; 4 chains × 1000 draws, 500 warm-up, as the example);
* ``sim60``, ``sim60_3``, ``sim30_3``: the simulated population of ``tests/test_pooling.py``
  (small true spreads, tau 0.05-0.15) with five groups of 60 runs, four of 60 and one of 3, four
  of 30 and one of 3 (2 chains × 500 + 500, as the test);
* ``emergence``: Ruan et al.'s 2-digit addition, fit C ≤ 8.4e22, threshold offsets and slopes
  partial over model families (``examples/emergence.py``'s "family offsets and slopes"; 4 × 500 +
  500).

``--rule`` and ``--threshold`` set :data:`bayescale.pooling_auto.AUTO_RULE` / ``AUTO_RATIO``.
Results of a run (and what they decided) are in :mod:`bayescale.pooling_auto`'s docstring.

Run:  python benchmarks/bench_centring.py [--cases isoflops sim60 ...] [--forms ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bayescale as bs

HERE = Path(__file__).resolve().parent
FORMS = ("partial_noncentred", "partial_centred", "partial_auto")


def _isoflops() -> tuple:
    sys.path.insert(0, str(HERE.parent / "examples"))
    from hierarchical_isoflops import load_runs

    runs = load_runs("exp")
    return "chinchilla", runs, "experiment", None, dict(draws=1000, tune=500, chains=4), {}


def _simulated(sizes: tuple[int, ...]) -> tuple:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from test_pooling import _population

    runs = _population(sizes=sizes)[0]
    return "chinchilla", runs, "corpus", None, dict(draws=500, tune=500, chains=2), {}


def _emergence() -> tuple:
    from bayescale.emergence import task_runs

    table = bs.load_dataset("obsscaling_ruan2024", table="emergent")
    table = table[table["C"].notna()]
    column = "arithmetic_2da_2_acc"
    runs = task_runs(table, column, x="C")
    runs["family"] = table.loc[runs.index, "family"].astype(str)
    runs = runs[runs["C"] <= 8.4e22][["C", "accuracy", "family"]]
    law = bs.get_law("emergence", x="C", floor=0.0, ceiling=1.0)
    names = ("T_offset", "k")
    return law, runs, "family", names, dict(draws=500, tune=500, chains=4), {"likelihood": "beta"}


CASES = {
    "isoflops": _isoflops,
    "sim60": lambda: _simulated((60,) * 5),
    "sim60_3": lambda: _simulated((60, 60, 60, 60, 3)),
    "sim30_3": lambda: _simulated((30, 30, 30, 30, 3)),
    "emergence": _emergence,
}


def run(case: str, form: str, seed: int) -> dict:
    law, runs, group, names, settings, extra = CASES[case]()
    pool = form if names is None else {n: form for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        fit = bs.fit(law, runs, group=group, pool=pool, random_seed=seed, progressbar=False,
                     warn=False, **settings, **extra)  # fmt: skip
        wall = time.perf_counter() - t0
    diag = fit.diagnostics()
    stats = fit.idata["sample_stats"]
    sampling = float(fit.timings.get("sampling", np.nan))
    centred = sum(len(v) for v in fit.pooling.centred.values())
    possible = len(fit.pooling.names("partial")) * fit.pooling.grouping.size
    return {
        "case": case,
        "form": form.replace("partial_", ""),
        "max_r_hat": float(diag["max_r_hat"]),
        "divergences": int(diag["divergences"]),
        "min_ess_bulk": float(diag["min_ess_bulk"]),
        "sampling_s": sampling,
        "ess_per_s": float(diag["min_ess_bulk"]) / sampling,
        "tree_depth": float(stats["tree_depth"].mean()),
        "steps": float(stats["n_steps"].mean()),
        "pilot_s": float(fit.timings.get("pilot", 0.0)),
        "wall_s": wall,
        "centred": f"{centred}/{possible}",
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--forms", nargs="+", default=list(FORMS), choices=list(FORMS))
    ap.add_argument("--random-seed", dest="seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, help="the pilot's ratio (AUTO_RATIO)")
    ap.add_argument("--rule", choices=("parameter", "group", "model"), help="AUTO_RULE")
    args = ap.parse_args(argv)
    from bayescale import pooling_auto

    if args.threshold is not None:
        pooling_auto.AUTO_RATIO = args.threshold
    if args.rule is not None:
        pooling_auto.AUTO_RULE = args.rule
    rows = []
    for case in args.cases:
        for form in args.forms:
            rows.append(run(case, form, args.seed))
            print(pd.DataFrame([rows[-1]]).to_string(index=False, header=len(rows) == 1),
                  flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.float_format", "{:.3g}".format):
        print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
