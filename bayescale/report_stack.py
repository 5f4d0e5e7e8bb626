"""The report bundle of a :class:`~bayescale.StackedFit` (:func:`bayescale.report` on a stack):
the members with their weights and ELPD, the mixture's compute-optimal allocation and figures.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ._report_common import _CSS, optimal_display
from .analysis import compute_optimal
from .export import export_summary, format_number, summary_table, to_html_table, to_markdown
from .report_fit import _calibration, _provenance, _text_writer
from .stacking import StackedFit


def _stack_report(
    stack: StackedFit,
    out: Path,
    budgets: np.ndarray,
    card_objs: list,
    title: str | None,
    ci_prob: float,
    fixed: dict,
    drawn: list,
    backtest: Any = None,
    dataset: Any = None,
) -> str:
    """:func:`report` of a :class:`StackedFit` on checked arguments."""
    from . import plots
    from .io import atomic_write_all

    members = list(stack.fits.items())
    laws = [m.law for _, m in members]
    has_nd = all({"N", "D"} <= set(law.inputs) for law in laws)
    notes: list[str] = []
    if has_nd:
        missing = sorted(
            {k for law in laws for k in law.inputs if k not in ("N", "D") and k not in fixed}
        )
        extra = {name: sorted(set(fixed) - set(m.law.inputs)) for name, m in members if fixed}
        if missing:
            notes.append(
                f"No compute-optimal table or frontier: the members' laws also take "
                f"{', '.join(missing)}, which must be held fixed along C = 6ND; pass "
                f"fixed={{{', '.join(f'{k!r}: ...' for k in missing)}}} to include them."
            )
            has_nd = False
        elif any(extra.values()):
            bad = {n: e for n, e in extra.items() if e}
            notes.append(
                f"No compute-optimal table or frontier: the members {sorted(bad)} do not take "
                f"the fixed inputs {bad}, so the members cannot be evaluated at the same plan."
            )
            has_nd = False
    same_inputs = len({(law.inputs, law.output) for law in laws}) == 1
    summ = stack.summary()
    law_names = " + ".join(stack.law_names)
    title = title or (
        f"bayescale report: stack of {len(members)} fits ({law_names}) to {len(stack.data)} runs"
    )

    tables = {"summary.csv": summ}
    opt_frame = None
    if has_nd:
        opt = compute_optimal(stack, budgets.tolist(), fixed=fixed)
        opt_table = summary_table(opt, ci_prob=ci_prob)
        tables["optimal.csv"] = opt_table
        opt_frame = optimal_display(opt_table, ci_prob=ci_prob)
    if same_inputs:
        fig, _ = plots.plot_fit(stack)
        drawn.append((fig, "fit.png", "Runs with the mixture's mean and bands"))
    else:
        notes.append("No fit figure: the members' laws have different inputs.")
    if has_nd:
        fig, _ = plots.plot_frontier(stack, ci_prob=ci_prob, cards=card_objs, fixed=fixed)
        drawn.append((fig, "frontier.png", "Compute-optimal N* and D* of the mixture"))
        fig, _ = plots.plot_tokens_per_param(stack, ci_prob=ci_prob, cards=card_objs, fixed=fixed)
        drawn.append((fig, "tokens_per_param.png", "Compute-optimal tokens per parameter"))
    if same_inputs:
        fig, _ = plots.plot_residuals(stack, ci_prob=ci_prob)
        caption = "Residuals from the mixture's mean; band: the members' noise, mixed"
        drawn.append((fig, "residuals.png", caption))
        if has_nd and not fixed:
            fig, _ = plots.plot_isoflops(stack, ci_prob=ci_prob)
            drawn.append((fig, "isoflops.png", "Loss against N per budget (the mixture)"))
    calibration: list[str] = []
    if backtest is not None:
        calibration, warns = _calibration(backtest)
        notes += warns
        fig, _ = plots.plot_backtest(backtest)
        drawn.append((fig, "backtest.png", "Backtest: held-out runs against predictive intervals"))
    figures = [(name, caption) for _, name, caption in drawn]

    problems = []
    for name, member in members:
        for p in member.diagnostics()["problems"]:
            problems.append(f"{name}: {p}")
    problems += list(summ.attrs.get("warnings", []))
    shown = summ[["law", "likelihood", "weight", "mixture_draws", "elpd", "se", "elpd_diff"]]
    facts = [
        ("members", f"{len(members)} ({law_names})"),
        ("runs", str(len(stack.data))),
        ("weights", stack.method),
        ("mixed draws", str(stack.n_draws)),
        ("diagnostics", "converged" if not problems else f"{len(problems)} problem(s)"),
        *_provenance(stack, dataset),  # the members' runs are the same
    ]

    pct = f"{100 * ci_prob:g}"
    held = "".join(f", {k} = {format_number(float(v))}" for k, v in fixed.items())
    md = [f"# {title}", ""]
    md += [f"- **{k}**: {v}" for k, v in facts]
    md += [f"- **problem**: {p}" for p in problems]
    md += ["", "## Members", "", to_markdown(shown), ""]
    if opt_frame is not None:
        md += [
            "## Compute-optimal allocation",
            "",
            f"Median [{pct}% interval] of the mixture under C = 6ND{held}; full precision in "
            "`optimal.csv`.",
            "",
            to_markdown(opt_frame),
            "",
        ]
    if calibration:
        md += ["## Calibration", "", *calibration, ""]
    for note in notes:
        md += [f"> **Note**: {note}", ""]
    md += ["## Figures", ""]
    for name, caption in figures:
        md += [f"### {caption}", "", f"![{caption}]({name})", ""]
    md += ["Full-precision member table: `summary.csv`.", ""]
    markdown = "\n".join(md)

    esc = html.escape
    badge = "ok" if not problems else "bad"
    body = [f"<h1>{esc(title)}</h1>", "<ul>"]
    for k, v in facts:
        cls = f' class="{badge}"' if k == "diagnostics" else ""
        body.append(f"<li><b>{esc(k)}</b>: <span{cls}>{esc(v)}</span></li>")
    body += [f'<li class="bad">{esc(p)}</li>' for p in problems]
    body += ["</ul>", "<h2>Members</h2>", to_html_table(shown)]
    if opt_frame is not None:
        body += [
            "<h2>Compute-optimal allocation</h2>",
            f"<p>Median [{pct}% interval] of the mixture under C = 6ND{esc(held)}; full "
            "precision in <code>optimal.csv</code>.</p>",
            to_html_table(opt_frame),
        ]
    if calibration:
        body += ["<h2>Calibration</h2>", *(f"<p>{esc(line)}</p>" for line in calibration)]
    body += [f'<p class="bad"><b>Note</b>: {esc(note)}</p>' for note in notes]
    body += ["<h2>Figures</h2>"]
    for name, caption in figures:
        body.append(
            f'<figure><img src="{esc(name)}" alt="{esc(caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )

    out.mkdir(parents=True, exist_ok=True)  # the bundle written as one (atomic_write_all)
    files: list[tuple[Path, Any]] = [
        (out / name, lambda tmp, t=table: export_summary(t, tmp)) for name, table in tables.items()
    ]
    for fig, name, _ in drawn:
        files.append((out / name, lambda tmp, f=fig: f.savefig(tmp, dpi=120, format="png")))
    files.append((out / "report.md", _text_writer(markdown)))
    files.append((out / "report.html", _text_writer(page)))
    atomic_write_all(files)
    from ._report_common import remove_stale

    remove_stale(out, [*tables, *(name for _, name, _ in drawn), "report.md", "report.html"])
    return str(out / "report.md")
