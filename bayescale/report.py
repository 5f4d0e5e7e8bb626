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

from ._api import CI_PROB, deprecated_args
from .analysis import compute_optimal
from .export import export_summary, format_number, summary_table, to_html_table, to_markdown
from .fit import Fit
from .stacking import StackedFit

__all__ = ["report"]

_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:0.6rem 0 1.2rem;font-size:0.9rem}"
    "th,td{border:1px solid #ccc;padding:0.2rem 0.5rem;text-align:right}"
    "th:first-child{text-align:left}thead th{background:#f2f2f2}img{max-width:100%}"
    "code{background:#f4f4f4;padding:0 0.2rem}.ok{color:#2e7d32}.bad{color:#c62828}"
)


def _cell(mid: float, lo: float, hi: float, digits: int = 4) -> str:
    fmt = [format_number(v, digits) for v in (mid, lo, hi)]
    return f"{fmt[0]} [{fmt[1]}, {fmt[2]}]"


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


@deprecated_args(renamed={"prob": "ci_prob"}, positional=("ci_prob",))
def optimal_display(
    opt_table: pd.DataFrame, *, ci_prob: float = CI_PROB, digits: int = 4
) -> pd.DataFrame:
    """One text cell "median [lo, hi]" per quantity and budget, for display.

    ``opt_table`` is :func:`~bayescale.export.summary_table` of a
    :func:`~bayescale.compute_optimal` result computed with the same ``ci_prob``.

    Examples
    --------
    >>> import bayescale as bs
    >>> from bayescale.export import summary_table
    >>> opt = bs.compute_optimal(bs.testing.pinned_fit(random_seed=0), compute=[1e24])
    >>> list(optimal_display(summary_table(opt)).columns)[:2]
    ['N* (parameters)', 'D* (tokens)']
    """
    pct = f"{100 * ci_prob:g}"
    rows = {}
    for c, r in opt_table.iterrows():
        row = {}
        for var, label in (
            ("N_opt", "N* (parameters)"),
            ("D_opt", "D* (tokens)"),
            ("tokens_per_param", "D*/N*"),
            ("loss_opt", "loss at optimum (nats/token)"),
        ):
            row[label] = _cell(r[f"{var}_median"], r[f"{var}_lo{pct}"], r[f"{var}_hi{pct}"], digits)
        rows[format_number(float(c), 3)] = row
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


@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
def report(
    fit: Fit | StackedFit,
    out_dir: str | os.PathLike,
    *,
    compute: Sequence[float] = (1e21, 1e22, 1e23, 1e24, 1e25),
    cards: Sequence[str] | None = None,
    title: str | None = None,
    ci_prob: float = CI_PROB,
    fixed: Mapping[str, Any] | None = None,
) -> str:
    """Write a report bundle of ``fit`` into ``out_dir`` and return the path of ``report.md``.

    The folder receives ``report.md`` and ``report.html`` (the same content; the HTML needs
    nothing but the PNG files beside it), ``summary.csv`` (``fit.summary()`` at full
    precision), ``optimal.csv`` (median and central ``ci_prob`` interval of N*, D*, D*/N* and the
    loss at each budget in ``compute``; laws with N and D inputs only) and the figures
    ``fit.png``, ``residuals.png``, ``params.png`` and, for laws with N and D,
    ``frontier.png`` and ``tokens_per_param.png``. A law with inputs besides N and D
    (``data_constrained``'s U, ``precision``'s P) gets the compute-optimal table and frontier
    only when those inputs are given in ``fixed``; otherwise the report says why they
    are missing. For accuracy laws (proportions) the residuals are those of the accuracy.

    A :class:`~bayescale.StackedFit` gets a bundle of the mixture: the members' weights, ELPD
    and diagnostics (``summary.csv`` is :meth:`StackedFit.summary
    <bayescale.StackedFit.summary>`), the compute-optimal table and ``fit.png``,
    ``frontier.png`` and ``tokens_per_param.png`` from the mixed draws (no residual or parameter
    figures: the members' parameters differ).

    Parameters
    ----------
    fit : Fit or StackedFit
    out_dir : str or path-like
        Folder to write into (created if needed; existing files of the same names are replaced).
    compute : sequence of float
        Budgets (FLOPs) of the compute-optimal table.
    cards : sequence of str, optional
        Reference cards to compare with (default: every card of the fit's law).
    title : str, optional
        Heading of the report.
    ci_prob : float
        Probability of the intervals of the compute-optimal table and figures (default
        :data:`~bayescale.CI_PROB`).
    fixed : mapping, optional
        Values of the law's inputs other than N and D, held fixed along C = 6ND in the
        compute-optimal table and frontier (e.g. ``{"U": 25e9}`` for ``data_constrained``).

    Returns
    -------
    str
        Path of ``report.md``.

    Raises
    ------
    TypeError, ValueError, NotADirectoryError
        A bad argument (``compute`` not finite budgets > 0, ``ci_prob`` outside (0, 1), an unknown
        card, ``fixed`` naming something else than the law's other inputs or holding
        non-positive values, ``out_dir`` a file), found before anything is computed or written.
        Tables and figures are all made before the first file is written, and each file is
        written whole (:func:`bayescale.io.atomic_write`), so a failure never leaves a
        half-written file or replaces a good one with a broken one.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import bayescale as bs, tempfile, os
    >>> path = bs.report(bs.testing.pinned_fit(random_seed=0), tempfile.mkdtemp(), compute=[1e22])
    >>> sorted(os.listdir(os.path.dirname(path)))[:4]
    ['fit.png', 'frontier.png', 'optimal.csv', 'params.png']
    """
    import matplotlib.pyplot as plt

    # every argument is checked before anything is computed or written
    out, budgets, card_objs, fixed = _check_arguments(
        fit, out_dir, compute, cards, title, ci_prob, fixed
    )
    drawn: list[tuple[Any, str, str]] = []  # (figure, file name, caption)
    try:
        if isinstance(fit, StackedFit):
            return _stack_report(fit, out, budgets, card_objs, title, ci_prob, fixed, drawn)
        return _report(fit, out, budgets, card_objs, title, ci_prob, fixed, drawn)
    finally:
        for fig, *_ in drawn:
            plt.close(fig)


def _report(
    fit: Fit,
    out: Path,
    budgets: np.ndarray,
    card_objs: list,
    title: str | None,
    ci_prob: float,
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
            f"fixed={{{', '.join(f'{k!r}: ...' for k in missing)}}} to include them."
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
        opt = compute_optimal(fit, budgets.tolist(), fixed=fixed)
        opt_table = summary_table(opt, ci_prob=ci_prob)
        tables["optimal.csv"] = opt_table
        opt_frame = optimal_display(opt_table, ci_prob=ci_prob)

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
        fig, _ = plots.plot_frontier(fit, ci_prob=ci_prob, cards=card_objs, fixed=fixed)
        drawn.append((fig, "frontier.png", "Compute-optimal N* and D*"))
        tpp_cards = [c for c in card_objs if c.law == law.name]
        fig, _ = plots.plot_tokens_per_param(fit, ci_prob=ci_prob, cards=tpp_cards, fixed=fixed)
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

    pct = f"{100 * ci_prob:g}"
    md = [f"# {title}", ""]
    md += [f"- **{k}**: {v}" for k, v in facts]
    md += [f"- **problem**: {p}" for p in diag["problems"]]
    md += ["", "## Parameters", "", to_markdown(params), ""]
    if comparison is not None:
        md += ["## Published fits", "", to_markdown(comparison), ""]
    if opt_frame is not None:
        held = "".join(f", {k} = {format_number(float(v))}" for k, v in fixed.items())
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
        held = "".join(f", {k} = {format_number(float(v))}" for k, v in fixed.items())
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


def _stack_report(
    stack: StackedFit,
    out: Path,
    budgets: np.ndarray,
    card_objs: list,
    title: str | None,
    ci_prob: float,
    fixed: dict,
    drawn: list,
) -> str:
    """:func:`report` of a :class:`StackedFit` on checked arguments."""
    from . import plots
    from .io import atomic_write, atomic_write_text

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
    ci_prob: Any,
    fixed: Any,
) -> tuple[Path, np.ndarray, list, dict]:
    """:func:`report`'s arguments, checked: (folder, budgets, cards, fixed inputs)."""
    from .analysis import _as_1d
    from .plots import _cards_for, _law_names

    if not isinstance(fit, Fit | StackedFit):
        raise TypeError(f"report takes a bayescale.Fit or StackedFit, got {type(fit).__name__}")
    laws = [fit.law] if isinstance(fit, Fit) else [m.law for m in fit.fits.values()]
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
    if (
        isinstance(ci_prob, bool)
        or not isinstance(ci_prob, int | float | np.number)
        or not 0 < ci_prob < 1
    ):
        raise ValueError(f"ci_prob must be between 0 and 1, got {ci_prob!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be text, got {type(title).__name__} {title!r}")
    if isinstance(cards, str):
        cards = [cards]
    card_objs = _cards_for(_law_names(fit), cards)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"fixed= must be a mapping such as {{'U': 25e9}}, got {fixed!r}")
    fixed = dict(fixed or {})
    others = list(dict.fromkeys(k for law in laws for k in law.inputs if k not in ("N", "D")))
    positive = {k for law in laws for k in law.required_positive}
    unknown = sorted(set(fixed) - set(others))
    if unknown:
        names = " + ".join(_law_names(fit))
        raise ValueError(
            f"fixed= names {unknown}, which are not inputs of law {names!r} besides "
            f"N and D ({others})"
        )
    for k, v in fixed.items():
        try:
            _as_1d(f"fixed[{k!r}]", v, positive=k in positive)
        except (TypeError, ValueError) as err:
            if isinstance(err, ValueError) and str(err).startswith("fixed"):
                raise
            raise ValueError(f"fixed[{k!r}] must be a number, got {v!r}") from None
    return out, budgets, card_objs, fixed
