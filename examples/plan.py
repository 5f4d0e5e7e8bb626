"""The one-page plan for a training budget on the Chinchilla runs (Besiroglu et al. 2024).

Fits Chinchilla's law to the 245 reconstructed runs, then writes ``plan.md`` (recommended N and
D, predicted loss with its predictive interval, the deadweight compute of the 20- and
100-tokens-per-parameter rules, the best next pilot run) and the figures ``plan.png`` /
``plan.svg`` (N*(C) around the budget; the pilot candidates' expected shrinkage against FLOPs)
into a folder. Every file is written whole (``bayescale.io``): all content is made first, then
each file replaced atomically.

Usage::

    BAYESCALE_DATA_DIR=../shared/data python examples/plan.py --out plan_out [--budget 1e24]
        [--inference-tokens 1e13] [--price-per-flop 1e-18] [--draws 1000] [--force]
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import bayescale as bs
from bayescale.io import atomic_write, atomic_write_text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="plan_out", help="output folder")
    parser.add_argument("--budget", type=float, default=1e24, help="training FLOPs")
    parser.add_argument("--inference-tokens", type=float, default=None)
    parser.add_argument("--price-per-flop", type=float, default=None)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--random-seed", dest="seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace existing files")
    args = parser.parse_args()

    out = Path(args.out)
    names = ["plan.md", "plan.png", "plan.svg"]
    existing = [n for n in names if (out / n).exists()]
    if existing and not args.force:
        print(f"{out} already holds {existing}; pass --force to replace", file=sys.stderr)
        return 2

    runs = bs.load_dataset("chinchilla_besiroglu2024")[["N", "D", "loss"]]
    with warnings.catch_warnings():
        warnings.simplefilter("default", bs.DiagnosticWarning)
        fit = bs.fit("chinchilla", runs, draws=args.draws, random_seed=args.seed,
                     progressbar=False)  # fmt: skip
    plan = bs.plan(
        fit,
        compute=args.budget,
        inference_tokens=args.inference_tokens,
        price_per_flop=args.price_per_flop,
        random_seed=args.seed,
    )
    markdown = plan.to_markdown() + "\n\n![plan](plan.png)\n"
    fig, _ = plan.plot()
    figures = {}
    for ext in ("png", "svg"):  # render every figure before the first write
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=150)
        figures[ext] = buf.getvalue()
    plt.close(fig)

    out.mkdir(parents=True, exist_ok=True)
    for ext, data in figures.items():
        atomic_write(out / f"plan.{ext}", lambda tmp, data=data: Path(tmp).write_bytes(data))
    atomic_write_text(out / "plan.md", markdown)
    print(plan.to_markdown())
    print(f"\nwrote {', '.join(str(out / n) for n in names)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
