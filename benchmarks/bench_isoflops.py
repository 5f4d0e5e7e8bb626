"""Approach 2 with posteriors on the Open-Athena isoFLOP compilation, against published numbers.

For every isoFLOP family of ``isoflops_openathena`` prints a and b = 1 − a (median and 95%
interval) from :func:`bayescale.fit_isoflops`; for the Epoch Chinchilla points and Llama 3's,
:func:`bayescale.compare_approaches` (Approach 2 beside Approach 3, the Chinchilla law) with
the published values; and a per-curve confusion table of our quality flags against the
dataset's QC reasons (a curve counts as flagged by the dataset when any of its points has a
reason in {too_few_points, weak_curvature, off_center, negative_curvature}).

Run: ``python benchmarks/bench_isoflops.py`` (about a minute on two cores).
"""

from __future__ import annotations

import warnings

import pandas as pd

import bayescale as bs

PUBLISHED = {
    "epochai_chinchilla__massivetext__chinchilla": "Hoffmann et al. Approach 2: a = 0.49, b = 0.51",
    "llama_3__raw_loss": "Open-Athena Approach 2: N* ∝ C^0.4632; Llama 3 paper: D* ∝ C^0.53",
}
QC = {"too_few_points", "weak_curvature", "off_center", "negative_curvature"}


def main() -> None:
    pd.set_option("display.width", 200)
    df = bs.load_dataset("isoflops_openathena")
    rows, curves = [], []
    for experiment, d in df.groupby("experiment"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bs.IsoflopQualityWarning)
            res = bs.fit_isoflops(d, random_seed=0)
        s = res.summary()
        row = {"experiment": experiment}
        for p in ("a", "b"):
            for c in ("median", "lower", "upper"):
                row[f"{p}_{c}"] = s.loc[p, c]
        rows.append(row)
        theirs = d.groupby("C")["reason"].apply(lambda r: bool(set(r) & QC))
        for f in res.flags.itertuples():
            curves.append(
                {
                    "experiment": experiment,
                    "compute": f.compute,
                    "ours": f.flagged,
                    "theirs": theirs.loc[f.compute],
                }
            )
    print(pd.DataFrame(rows).set_index("experiment").round(3).to_string())
    for experiment, text in PUBLISHED.items():
        d = df[df.experiment == experiment]
        budget = 5.76e23 if experiment.startswith("epochai") else 3.8e25
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = bs.compare_approaches(d, compute=budget, random_seed=0)
        print(f"\n{experiment} ({text})\n{table.to_string(float_format='{:.4g}'.format)}")
    curves = pd.DataFrame(curves)
    print("\nper-curve flags, ours (rows) against the dataset's QC reasons (columns):")
    print(pd.crosstab(curves.ours, curves.theirs, margins=True))


if __name__ == "__main__":
    main()
