"""Refit Chinchilla's Approach 3 with full posteriors (Besiroglu et al. 2024 replication).

Loads the 245 training runs that Besiroglu et al. extracted from Hoffmann et al.'s Figure 4, fits
L = E + A/N^α + B/D^β with NUTS to the 240-run protocol (the 5 highest losses dropped, as they did)
and to all 245 runs, and prints:

* the posterior median and 95% interval of each parameter next to Besiroglu's estimate with its
  bootstrap 95% interval and Hoffmann et al.'s published value;
* N*, D* and D*/N* at Chinchilla's budget of 5.88e23 FLOPs with 80% intervals;
* where Hoffmann's β = 0.28 and E = 1.69 fall in the posterior.

It writes ``DIR/summary.csv`` (``fit.summary()`` of the 240-run fit), ``DIR/summary.md`` and
``DIR/tokens_per_param.png``.

Usage::

    python examples/besiroglu_refit.py --out results/besiroglu
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import bayescale as bs
from bayescale.display import count
from bayescale.export import format_number, to_markdown
from bayescale.io import atomic_write, atomic_write_text

BUDGET = 5.88e23  # 6 × 70e9 parameters × 1.4e12 tokens: Chinchilla's own run
PARAMS = ["A", "B", "E", "alpha", "beta", "a"]


def interval(values: np.ndarray, prob: float) -> tuple[float, float, float]:
    lo, mid, hi = np.quantile(values, [(1 - prob) / 2, 0.5, (1 + prob) / 2])
    return float(mid), float(lo), float(hi)


def cell(mid: float, lo: float, hi: float, fmt=format_number) -> str:
    return f"{fmt(mid)} [{fmt(lo)}, {fmt(hi)}]"


def comparison_table(fits: dict[str, bs.Fit]) -> pd.DataFrame:
    besiroglu = bs.load_card("besiroglu2024")
    hoffmann = bs.load_card("hoffmann2022")
    rows = {}
    for name in PARAMS:
        row = {}
        for label, fit in fits.items():
            s = fit.summary().loc[name]
            row[label] = cell(s["median"], s["ci95_lo"], s["ci95_hi"])
        if name in besiroglu.params:
            lo, hi = besiroglu.ci95[name]
            row["Besiroglu estimate [bootstrap 95% CI]"] = cell(besiroglu.params[name], lo, hi)
        else:
            row["Besiroglu estimate [bootstrap 95% CI]"] = format_number(besiroglu.derived[name])
        hv = hoffmann.params.get(name, hoffmann.derived.get(name, np.nan))
        row["Hoffmann et al."] = format_number(hv)
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "parameter"
    return table


def optimum_table(fits: dict[str, bs.Fit]) -> pd.DataFrame:
    rows = {}
    for label, fit in fits.items():
        opt = bs.compute_optimal(fit, compute=[BUDGET]).isel(compute=0)
        rows[label] = {
            "N* (parameters)": cell(*interval(opt["N_opt"].to_numpy().ravel(), 0.8), fmt=count),
            "D* (tokens)": cell(*interval(opt["D_opt"].to_numpy().ravel(), 0.8), fmt=count),
            "D*/N*": cell(*interval(opt["tokens_per_param"].to_numpy().ravel(), 0.8)),
        }
    hoffmann = bs.load_card("hoffmann2022")
    h = bs.get_law("chinchilla").optimum(bs.xp.numpy_ns, hoffmann.params, BUDGET)
    rows["Hoffmann et al. (point)"] = {
        "N* (parameters)": count(float(h["N"])),
        "D* (tokens)": count(float(h["D"])),
        "D*/N*": format_number(float(h["D"] / h["N"])),
    }
    rows["Besiroglu et al. (point)"] = {
        "N* (parameters)": count(7.31e10),  # SOURCE.md of chinchilla_besiroglu2024, from their fit
        "D* (tokens)": count(1.34e12),
        "D*/N*": "18.3",
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = f"at C = {BUDGET:.3g} FLOPs (80% intervals)"
    return table


def hoffmann_check(fit: bs.Fit) -> list[str]:
    hoffmann = bs.load_card("hoffmann2022")
    lines = []
    for name in ("beta", "E", "alpha"):
        draws = fit.posterior[name].to_numpy().ravel()
        value = hoffmann.params[name]
        below = float(np.mean(draws <= value))
        tail = min(below, 1 - below)
        z = (value - draws.mean()) / draws.std(ddof=1)
        lo, hi = np.quantile(draws, [0.005, 0.995])
        inside = lo <= value <= hi
        prob = f"{tail:.2g}" if tail > 0 else f"< {1 / len(draws):.1g} (no draw that far)"
        lines.append(
            f"Hoffmann's {name} = {value:g}: P(posterior {name} {'<=' if below < 0.5 else '>='} "
            f"{value:g}) = {prob} ({len(draws)} draws), {z:+.1f} posterior sd from the mean; "
            f"{'inside' if inside else 'outside'} the 99% interval [{lo:.4g}, {hi:.4g}]"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/besiroglu_refit"),
        help="output folder (default: results/besiroglu_refit)",
    )
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=None, help="warm-up (default: bs.fit's)")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    runs = bs.load_dataset("chinchilla_besiroglu2024")
    protocol = runs.drop(index=runs["loss"].nlargest(5).index)
    print(
        f"Loaded {len(runs)} runs; the 240-run protocol drops the 5 highest losses "
        f"({', '.join(f'{v:.3f}' for v in sorted(runs['loss'].nlargest(5)))})."
    )

    settings = dict(
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progressbar=not args.no_progress,
    )
    fits = {
        "bayescale, 240 runs": bs.fit("chinchilla", protocol, **settings),
        "bayescale, all 245 runs": bs.fit("chinchilla", runs, **settings),
    }
    for label, fit in fits.items():
        d = fit.diagnostics()
        print(
            f"{label}: {fit.timings['total']:.1f} s, {d['divergences']} divergences, "
            f"max R-hat {d['max_r_hat']:.4f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
            f"min tail ESS {d['min_ess_tail']:.0f}"
        )

    params = comparison_table(fits)
    optimum = optimum_table(fits)
    checks = hoffmann_check(fits["bayescale, 240 runs"])
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print("\nPosterior medians [95% intervals] vs published fits")
        print(params.to_string())
        print(f"\nCompute-optimal allocation at {BUDGET:.3g} FLOPs")
        print(optimum.to_string())
    print("\nHoffmann et al.'s values in the 240-run posterior")
    for line in checks:
        print("  " + line)

    args.out.mkdir(parents=True, exist_ok=True)
    summary = fits["bayescale, 240 runs"].summary()
    atomic_write(args.out / "summary.csv", lambda tmp: summary.to_csv(tmp))
    md = [
        "# Chinchilla Approach 3: bayescale posterior vs published fits",
        "",
        f"Data: `chinchilla_besiroglu2024` ({len(runs)} runs; the protocol drops the 5 highest "
        "losses).",
        f"NUTS, {args.chains} chains × {args.draws} draws, seed {args.seed}; Student-t likelihood "
        "on log-loss.",
        "",
        "## Parameters (median [95% interval])",
        "",
        to_markdown(params),
        "",
        f"## Compute-optimal allocation at {BUDGET:.3g} FLOPs (median [80% interval])",
        "",
        to_markdown(optimum),
        "",
        "## Hoffmann et al.'s values",
        "",
        *[f"- {line}" for line in checks],
        "",
        "## Full summary (240 runs)",
        "",
        to_markdown(fits["bayescale, 240 runs"].summary().drop(columns="flag")),
        "",
        "![tokens per parameter](tokens_per_param.png)",
        "",
    ]
    atomic_write_text(args.out / "summary.md", "\n".join(md))

    import matplotlib

    matplotlib.use("Agg")
    from bayescale.plots import plot_tokens_per_param

    fig, _ = plot_tokens_per_param(
        fits["bayescale, 240 runs"], cards=("hoffmann2022",), label="bayescale (240 runs)"
    )
    atomic_write(args.out / "tokens_per_param.png", lambda tmp: fig.savefig(tmp, dpi=150))
    print(
        f"\nWrote {args.out / 'summary.csv'}, {args.out / 'summary.md'}, "
        f"{args.out / 'tokens_per_param.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
