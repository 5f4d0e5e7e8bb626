"""Does a law's in-sample pseudo-forecast error predict its out-of-sample error? (issue 10)

For every real split and cutoff of ``bench_calibration.py``: a MAP fit (the mode finder of
``bs.fit``, no NUTS) on the fitted runs predicts the held-out runs (the *out-of-sample* error);
a MAP fit on the fitted runs below their top slice predicts that slice (the *pseudo-forecast*
error). Each error is the mean log error over its runs (one shared drift draw per slice, as the
model has it), scaled to one decade as ``drift_hat = sqrt(max(ē² − σ²/n, 0) / d̄)`` with ``d̄``
the mean distance (decades beyond the fitted runs, as ``Structure.distance`` measures it) and
``σ`` the MAP noise scale. Prints both per cutoff and their Spearman rank correlation.

Usage::

    python benchmarks/study_pseudo_forecast.py [--slice-axis C|N|both] [--width 0.25]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pseudo import map_point, pseudo_forecast
from bench_calibration import splits

import bayescale as bs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None)
    args = parser.parse_args(argv)
    rows = []
    for split in splits():
        if args.only and args.only not in split["name"]:
            continue
        law = bs.get_law(split["law"])
        data = split["data"]
        col = data[split["column"]] if split["column"] in data else 6 * data["N"] * data["D"]
        for cutoff in split["cutoffs"]:
            train = data[(col < cutoff).to_numpy()].reset_index(drop=True)
            test = data[(col >= cutoff).to_numpy()].reset_index(drop=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                axes = {}
                pseudo = pseudo_forecast(law, train, per_axis=axes)
                t_pseudo = time.perf_counter() - t0
                point = map_point(law, train)
            s, _ = bs.structure.resolve_structure(
                None, True, train, law.inputs, law.required_positive
            )
            inputs = {k: test[k].to_numpy(float) for k in law.inputs}
            err = np.log(test[law.output].to_numpy(float)) - point.log_mean(inputs)
            d = s.distance(inputs)
            ebar, dbar = float(err.mean()), float(d.mean())
            oos = np.sqrt(max(ebar**2 - point.sigma**2 / len(err), 0.0) / dbar)
            # the median error per √decade: robust to a heavy tail of held-out runs
            oos_med = abs(float(np.median(err))) / np.sqrt(dbar)
            rows.append(
                dict(
                    split=split["name"],
                    cutoff=cutoff,
                    n_fit=len(train),
                    pf_n=pseudo.n_slice,
                    pf_d=pseudo.distance,
                    pf_err=pseudo.error,
                    pf_drift=pseudo.drift,
                    oos_n=len(test),
                    oos_d=dbar,
                    oos_err=ebar,
                    oos_drift=oos,
                    oos_med=oos_med,
                    sigma=point.sigma,
                    **{f"pf_{a}": v.drift for a, v in axes.items()},
                    **{f"n_{a}": v.n_slice for a, v in axes.items()},
                    **{f"e_{a}": v.error for a, v in axes.items()},
                    nu=point.nu,
                    secs=t_pseudo,
                )
            )
            print(
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()},
                flush=True,
            )
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    from scipy import stats

    for a in ("C", "N", "D", "U"):
        if f"pf_{a}" in table:
            ok = table[f"pf_{a}"].notna()
            r = stats.spearmanr(table.loc[ok, f"pf_{a}"], table.loc[ok, "oos_drift"])
            m = stats.spearmanr(table.loc[ok, f"pf_{a}"], table.loc[ok, "oos_med"])
            print(
                f"axis {a}: Spearman(pf, oos) = {r.statistic:.3f} (p = {r.pvalue:.3f}); "
                f"with the median error {m.statistic:.3f} (p = {m.pvalue:.3f}); n = {ok.sum()}"
            )
    rho = stats.spearmanr(table["pf_drift"], table["oos_drift"])
    rho_abs = stats.spearmanr(table["pf_err"].abs(), table["oos_err"].abs())
    sign = float(np.mean(np.sign(table["pf_err"]) == np.sign(table["oos_err"])))
    print(
        f"\nSpearman(pf_drift, oos_drift) = {rho.statistic:.3f} (p = {rho.pvalue:.3f}), "
        f"Spearman(|pf_err|, |oos_err|) = {rho_abs.statistic:.3f} (p = {rho_abs.pvalue:.3f}); "
        f"same sign {sign:.2f}; {len(table)} cutoffs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
