"""``bs.report``: a shareable bundle of a fit — Markdown and HTML pages, CSV tables, PNG figures.

The bundle is a folder that can be zipped, attached or committed as is::

    report.md          parameters, diagnostics, compute-optimal table, figures
    report.html        the same, self-contained apart from the PNGs beside it
    summary.csv        fit.summary() at full precision
    optimal.csv        medians and intervals of N*, D*, D*/N*, loss per budget (laws with N, D)
    fit.png, residuals.png, params.png, frontier.png, tokens_per_param.png
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import compute_optimal
from .display import DIGITS, human, interval
from .export import export_summary, format_number, summary_table, to_html_table, to_markdown
from .fit import Fit

__all__ = ["report"]

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:0.6rem 0 1.2rem;font-size:0.9rem}"
    "th,td{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:right}"
    "th:first-child{text-align:left}thead th{background:#f2f2f2}img{max-width:100%}"
    "code{background:#f4f4f4;padding:0 0.2rem}.ok{color:#2e7d32}.bad{color:#c62828}"
)


def _cell(mid: float, lo: float, hi: float, digits: int = DIGITS, name: str | None = None) -> str:
    return interval(mid, lo, hi, name, digits=digits)


def _parameter_table(table: pd.DataFrame) -> pd.DataFrame:
    """Display form of a :meth:`~bayescale.Fit.summary` table."""
    out = pd.DataFrame(
        {
            "median [95% interval]": [
                _cell(r["median"], r["ci95_lo"], r["ci95_hi"]) for _, r in table.iterrows()
            ],
            "mean": table["mean"],
            "sd": table["sd"],
            "ess_bulk": table["ess_bulk"].round(0),
            "r_hat": table["r_hat"].round(3),
            "flag": table["flag"].replace("", "ok"),
        },
        index=table.index,
    )
    return out


def optimal_display(opt_table: pd.DataFrame, prob: float, *, digits: int = DIGITS) -> pd.DataFrame:
    """One text cell "median [lo, hi]" per quantity and budget, for display.

    ``opt_table`` is :func:`~bayescale.export.summary_table` of a
    :func:`~bayescale.compute_optimal` result computed with the same ``prob``.

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.export import summary_table
    >>> opt = bs.compute_optimal(bs.testing.pinned_fit(seed=0), compute=[1e24])
    >>> list(optimal_display(summary_table(opt), 0.8).columns)[:2]
    ['N* (parameters)', 'D* (tokens)']
    """
    pct = f"{100 * prob:g}"
    rows = {}
    for c, r in opt_table.iterrows():
        row = {}
        for var, label in (
            ("N_opt", "N* (parameters)"),
            ("D_opt", "D* (tokens)"),
            ("tokens_per_param", "D*/N*"),
            ("loss_opt", "loss at optimum (nats/token)"),
        ):
            mid, lo, hi = r[f"{var}_median"], r[f"{var}_lo{pct}"], r[f"{var}_hi{pct}"]
            # the unit is in the column's name: 70.2B [52B, 95.3B]
            text = interval(mid, lo, hi, var, digits=digits)
            row[label] = text.removesuffix(" parameters").removesuffix(" tokens")
        rows[human(float(c), "C", unit=False)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "compute C (FLOPs)"
    return frame


def _card_table(
    fit: Fit, cards: Sequence[Any], summ: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    names = list(fit.law.natural_names)
    summ = fit.summary() if summ is None else summ
    rows = {}
    for name in names:
        if name not in summ.index:
            continue
        r = summ.loc[name]
        row = {"this fit: median [95%]": _cell(r["median"], r["ci95_lo"], r["ci95_hi"])}
        for card in cards:
            if name in card.params:
                value = card.params[name]
                if name in card.ci95:
                    row[card.name] = _cell(value, *card.ci95[name])
                else:
                    row[card.name] = format_number(value)
            else:
                row[card.name] = "–"
        rows[name] = row
    if not cards or not rows:
        return None
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "parameter"
    return frame


def report(
    fit: Fit,
    out_dir: str | os.PathLike,
    *,
    compute: Sequence[float] = (1e21, 1e22, 1e23, 1e24, 1e25),
    cards: Sequence[str] | None = None,
    title: str | None = None,
    prob: float = 0.8,
    fixed_inputs: Mapping[str, Any] | None = None,
) -> str:
    """Write a report bundle of ``fit`` into ``out_dir`` and return the path of ``report.md``.

    The folder receives ``report.md`` and ``report.html`` (the same content; the HTML needs
    nothing but the PNG files beside it), ``summary.csv`` (``fit.summary()`` at full
    precision), ``optimal.csv`` (median and central ``prob`` interval of N*, D*, D*/N* and the
    loss at each budget in ``compute``; laws with N and D inputs only) and the figures
    ``fit.png``, ``residuals.png``, ``params.png`` and, for laws with N and D,
    ``frontier.png`` and ``tokens_per_param.png``. A law with inputs besides N and D
    (``data_constrained``'s U, ``precision``'s P) gets the compute-optimal table and frontier
    only when those inputs are given in ``fixed_inputs``; otherwise the report says why they
    are missing. For accuracy laws (proportions) the residuals are those of the accuracy.

    Parameters
    ----------
    fit : Fit
    out_dir : str or path-like
        Folder to write into (created if needed; existing files of the same names are replaced).
    compute : sequence of float
        Budgets (FLOPs) of the compute-optimal table.
    cards : sequence of str, optional
        Reference cards to compare with (default: every card of the fit's law).
    title : str, optional
        Heading of the report.
    prob : float
        Probability of the intervals of the compute-optimal table and figures.
    fixed_inputs : mapping, optional
        Values of the law's inputs other than N and D, held fixed along C = 6ND in the
        compute-optimal table and frontier (e.g. ``{"U": 25e9}`` for ``data_constrained``).

    Returns
    -------
    str
        Path of ``report.md``.

    Raises
    ------
    TypeError, ValueError, NotADirectoryError
        A bad argument (``compute`` not finite budgets > 0, ``prob`` outside (0, 1), an unknown
        card, ``fixed_inputs`` naming something else than the law's other inputs or holding
        non-positive values, ``out_dir`` a file), found before anything is computed or written.
        Tables and figures are all made before the first file is written, and each file is
        written whole (:func:`bayescale.io.atomic_write`), so a failure never leaves a
        half-written file or replaces a good one with a broken one.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs, tempfile, os
    >>> path = bs.report(bs.testing.pinned_fit(seed=0), tempfile.mkdtemp(), compute=[1e22])
    >>> sorted(os.listdir(os.path.dirname(path)))[:4]
    ['fit.png', 'frontier.png', 'optimal.csv', 'params.png']
    """
    import matplotlib.pyplot as plt

    # every argument is checked before anything is computed or written
    out, budgets, card_objs, fixed = _check_arguments(
        fit, out_dir, compute, cards, title, prob, fixed_inputs
    )
    drawn: list[tuple[Any, str, str]] = []  # (figure, file name, caption)
    try:
        return _report(fit, out, budgets, card_objs, title, prob, fixed, drawn)
    finally:
        for fig, *_ in drawn:
            plt.close(fig)


def _report(
    fit: Fit,
    out: Path,
    budgets: np.ndarray,
    card_objs: list,
    title: str | None,
    prob: float,
    fixed: dict,
    drawn: list,
) -> str:
    """:func:`report` on checked arguments; the figures it draws are appended to ``drawn``."""
    from . import plots
    from .io import atomic_write, atomic_write_text

    law = fit.law
    others = [k for k in law.inputs if k not in ("N", "D")]
    has_nd = {"N", "D"} <= set(law.inputs)
    missing = [k for k in others if k not in fixed]
    notes: list[str] = []
    if has_nd and missing:
        notes.append(
            f"No compute-optimal table or frontier: law {law.name!r} also takes "
            f"{', '.join(missing)}, which must be held fixed along C = 6ND; pass "
            f"fixed_inputs={{{', '.join(f'{k!r}: ...' for k in missing)}}} to include them."
        )
        has_nd = False
    post = fit.posterior
    summ = fit.summary()  # computed once: the CSV, the diagnostics and both tables use it
    diag = fit._diagnostics(summ)
    title = title or f"bayescale report: {law.name} fit to {len(fit.data)} runs"

    # everything is computed, and every figure drawn, before the first file is written
    tables = {"summary.csv": summ}
    opt_frame = None
    if has_nd:
        opt = compute_optimal(fit, budgets.tolist(), **fixed)
        opt_table = summary_table(opt, prob=prob)
        tables["optimal.csv"] = opt_table
        opt_frame = optimal_display(opt_table, prob)

    fig, _ = plots.plot_fit(fit)
    drawn.append((fig, "fit.png", "Runs with the posterior mean and bands"))
    fig, _ = plots.plot_residuals(fit)
    if fit.likelihood.output_domain == "unit":
        caption = f"Residuals of {law.output} (observed − posterior mean)"
    else:
        caption = "Residuals of log loss"
    drawn.append((fig, "residuals.png", caption))
    fig, _ = plots.plot_params(fit, cards=card_objs)
    drawn.append((fig, "params.png", "Posterior of the parameters"))
    if has_nd:
        fig, _ = plots.plot_frontier(fit, prob=prob, cards=card_objs, fixed_inputs=fixed)
        drawn.append((fig, "frontier.png", "Compute-optimal N* and D*"))
        tpp_cards = [c for c in card_objs if c.law == law.name]
        fig, _ = plots.plot_tokens_per_param(fit, prob=prob, cards=tpp_cards, fixed_inputs=fixed)
        drawn.append((fig, "tokens_per_param.png", "Compute-optimal tokens per parameter"))
    figures = [(name, caption) for _, name, caption in drawn]

    params = _parameter_table(summ)
    comparison = _card_table(fit, card_objs, summ)
    status = "converged" if not diag["problems"] else f"{len(diag['problems'])} problem(s)"
    facts = [
        ("law", f"{law.key}: {law.description}" if law.description else law.key),
        ("runs", str(len(fit.data))),
        ("likelihood", fit.likelihood.name),
        ("sampler", f"{fit.sampler}, {post.sizes['chain']} chains × {post.sizes['draw']} draws"),
        ("random seed", str(fit.random_seed)),
        ("diagnostics", status),
        ("divergences", str(diag["divergences"])),
        ("max R-hat", f"{diag['max_r_hat']:.4f}"),
        ("min bulk / tail ESS", f"{diag['min_ess_bulk']:.0f} / {diag['min_ess_tail']:.0f}"),
    ]
    if law.citation:
        facts.append(("source", law.citation))
    priors = pd.DataFrame(
        {"prior": [repr(p) for p in fit.priors.values()]},
        index=pd.Index(list(fit.priors), name="parameter"),
    )

    pct = f"{100 * prob:g}"
    md = [f"# {title}", ""]
    md += [f"- **{k}**: {v}" for k, v in facts]
    md += [f"- **problem**: {p}" for p in diag["problems"]]
    md += ["", "## Parameters", "", to_markdown(params), ""]
    if comparison is not None:
        md += ["## Published fits", "", to_markdown(comparison), ""]
    if opt_frame is not None:
        held = "".join(f", {k} = {human(float(v), k)}" for k, v in fixed.items())
        md += [
            "## Compute-optimal allocation",
            "",
            f"Posterior median [{pct}% interval] under C = 6ND{held}; full precision in "
            "`optimal.csv`.",
            "",
            to_markdown(opt_frame),
            "",
        ]
    for note in notes:
        md += [f"> **Note**: {note}", ""]
    md += ["## Priors", "", to_markdown(priors), "", "## Figures", ""]
    for name, caption in figures:
        md += [f"### {caption}", "", f"![{caption}]({name})", ""]
    md += ["Full-precision parameter table: `summary.csv`.", ""]
    markdown = "\n".join(md)

    esc = html.escape
    badge = "ok" if not diag["problems"] else "bad"
    body = [f"<h1>{esc(title)}</h1>", "<ul>"]
    for k, v in facts:
        cls = f' class="{badge}"' if k == "diagnostics" else ""
        body.append(f"<li><b>{esc(k)}</b>: <span{cls}>{esc(v)}</span></li>")
    body += [f'<li class="bad">{esc(p)}</li>' for p in diag["problems"]]
    body += ["</ul>", "<h2>Parameters</h2>", to_html_table(params)]
    if comparison is not None:
        body += ["<h2>Published fits</h2>", to_html_table(comparison)]
    if opt_frame is not None:
        held = "".join(f", {k} = {human(float(v), k)}" for k, v in fixed.items())
        body += [
            "<h2>Compute-optimal allocation</h2>",
            f"<p>Posterior median [{pct}% interval] under C = 6ND{esc(held)}; full precision in "
            "<code>optimal.csv</code>.</p>",
            to_html_table(opt_frame),
        ]
    body += [f'<p class="bad"><b>Note</b>: {esc(note)}</p>' for note in notes]
    body += ["<h2>Priors</h2>", to_html_table(priors), "<h2>Figures</h2>"]
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

    # one file at a time, each written whole (atomic_write); the pages last
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        export_summary(table, out / name)
    for fig, name, _ in drawn:
        atomic_write(out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
    atomic_write_text(out / "report.md", markdown)
    atomic_write_text(out / "report.html", page)
    return str(out / "report.md")


#: the files a report bundle may write (the command line will not replace them without --force)
BUNDLE_FILES = (
    "report.md",
    "report.html",
    "summary.csv",
    "optimal.csv",
    "fit.png",
    "residuals.png",
    "params.png",
    "frontier.png",
    "tokens_per_param.png",
)


def _check_arguments(
    fit: Any,
    out_dir: Any,
    compute: Any,
    cards: Any,
    title: Any,
    prob: Any,
    fixed_inputs: Any,
) -> tuple[Path, np.ndarray, list, dict]:
    """:func:`report`'s arguments, checked: (folder, budgets, cards, fixed inputs)."""
    from .analysis import _as_1d
    from .plots import _cards_for

    if not isinstance(fit, Fit):
        raise TypeError(f"report takes a bayescale.Fit, got {type(fit).__name__}")
    if not isinstance(out_dir, str | os.PathLike) or not str(out_dir):
        raise TypeError(f"out_dir must be a folder path, got {out_dir!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"cannot write the report into {out}: it is a file, not a folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot write the report into {out}: {parent} is not a folder"
                )
            break
    try:
        budgets = np.atleast_1d(np.asarray(compute, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(
            f"compute must be budgets in FLOPs (numbers > 0), got {compute!r}"
        ) from None
    if budgets.ndim != 1 or budgets.size == 0:
        raise ValueError(f"compute must be one or more budgets in FLOPs, got {compute!r}")
    _as_1d("compute", budgets)
    if isinstance(prob, bool) or not isinstance(prob, int | float | np.number) or not 0 < prob < 1:
        raise ValueError(f"prob must be between 0 and 1, got {prob!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be text, got {type(title).__name__} {title!r}")
    if isinstance(cards, str):
        cards = [cards]
    card_objs = _cards_for(fit.law.name, cards)
    if fixed_inputs is not None and not isinstance(fixed_inputs, Mapping):
        raise TypeError(
            f"fixed_inputs must be a mapping such as {{'U': 25e9}}, got {fixed_inputs!r}"
        )
    fixed = dict(fixed_inputs or {})
    others = [k for k in fit.law.inputs if k not in ("N", "D")]
    unknown = sorted(set(fixed) - set(others))
    if unknown:
        raise ValueError(
            f"fixed_inputs names {unknown}, which are not inputs of law {fit.law.name!r} besides "
            f"N and D ({others})"
        )
    for k, v in fixed.items():
        try:
            _as_1d(f"fixed_inputs[{k!r}]", v, positive=k in fit.law.required_positive)
        except (TypeError, ValueError) as err:
            if isinstance(err, ValueError) and str(err).startswith("fixed_inputs"):
                raise
            raise ValueError(f"fixed_inputs[{k!r}] must be a number, got {v!r}") from None
    return out, budgets, card_objs, fixed
