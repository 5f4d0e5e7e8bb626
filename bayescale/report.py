"""``bs.report``: a shareable bundle of a fit — Markdown and HTML pages, CSV tables, PNG figures.

The bundle is a folder that can be zipped, attached or committed as is::

    report.html        the answer first, then diagnostics, parameters, priors, provenance;
                       one self-contained file (figures embedded as PNG)
    report.md          the same, with the figures beside it
    summary.csv        fit.summary() at full precision
    optimal.csv        medians and intervals of N*, D*, D*/N*, loss per budget (laws with N, D)
    isoflops, fit, residuals, params, frontier, tokens_per_param (and backtest): .png and .svg
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
from .display import DIGITS, cell, human, interval, prior_text
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


@deprecated_args(renamed={"prob": "ci_prob"}, positional=("ci_prob",))
def optimal_display(
    opt_table: pd.DataFrame, *, ci_prob: float = CI_PROB, digits: int = DIGITS
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


#: the budget the figures mark (Chinchilla's 5.88e23 FLOPs); always among the default budgets
MARK = 5.88e23
DEFAULT_COMPUTE = (1e21, 1e22, 1e23, MARK, 1e24, 1e25)


@deprecated_args(renamed={"prob": "ci_prob", "fixed_inputs": "fixed"})
def report(
    fit: Fit | StackedFit,
    out_dir: str | os.PathLike,
    *,
    compute: Sequence[float] = DEFAULT_COMPUTE,
    cards: Sequence[str] | None = None,
    title: str | None = None,
    ci_prob: float = CI_PROB,
    fixed: Mapping[str, Any] | None = None,
    backtest: Any = None,
    dataset: Any = None,
) -> str:
    """Write a report bundle of ``fit`` into ``out_dir`` and return the path of ``report.md``.

    The report gives the answer first: for each budget in ``compute`` the compute-optimal
    N*, D*, tokens per parameter and the predicted loss with its ``ci_prob`` predictive interval,
    where the published fits sit, and (with ``backtest``) how often held-out runs fell inside
    the intervals, with a warning when that is less often than the nominal level. Then the
    diagnostics, the parameters, the published fits, the priors in plain notation
    (``α ~ LogNormal(μ=log 0.3, σ=0.7)``), the data's provenance (dataset, SHA-256 of its file
    when known and of the fitted runs), the versions of bayescale and its libraries and the date.

    The folder receives ``report.html`` (one self-contained file: the figures are embedded as
    PNG, no other file is referenced), ``report.md`` (the same content, figures beside it),
    ``summary.csv`` (``fit.summary()`` at full precision), ``optimal.csv`` (median and central
    ``ci_prob`` interval of N*, D*, D*/N* and the loss at each budget; laws with N and D inputs
    only) and each figure as PNG and SVG: ``fit``, ``residuals``, ``params`` and, for laws with
    N and D, ``isoflops``, ``frontier`` and ``tokens_per_param`` (and ``backtest`` when given).
    A law with inputs besides N and D (``data_constrained``'s U, ``precision``'s P) gets the
    compute-optimal table and frontier only when those inputs are given in ``fixed``;
    otherwise the report says why they are missing.

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
        Budgets (FLOPs). The default includes 5.88e23, the budget the figures mark.
    cards : sequence of str, optional
        Reference cards to compare with (default: every card of the fit's law).
    title : str, optional
        Heading of the report.
    ci_prob : float
        Probability of the intervals of the compute-optimal table, the predictive intervals and
        the figures (default :data:`~bayescale.CI_PROB`).
    fixed : mapping, optional
        Values of the law's inputs other than N and D, held fixed along C = 6ND (e.g.
        ``{"U": 25e9}`` for ``data_constrained``).
    backtest : BacktestResult or DataFrame, optional
        A :func:`~bayescale.backtest` result (or its table): its calibration is reported and
        drawn.
    dataset : str or DataFrame, optional
        The dataset the runs came from: a registered name or the frame
        :func:`~bayescale.load_dataset` returned (its provenance is read from ``attrs``).
        Default: the fitted runs' own ``attrs``, when they carry one.

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
    ['fit.png', 'fit.svg', 'frontier.png', 'frontier.svg']
    """
    import matplotlib.pyplot as plt

    # every argument is checked before anything is computed or written
    out, budgets, card_objs, fixed = _check_arguments(
        fit, out_dir, compute, cards, title, ci_prob, fixed
    )
    if isinstance(dataset, str):
        from .datasets import list_datasets

        names = list(list_datasets()["name"])
        if dataset not in names:
            raise ValueError(
                f"dataset {dataset!r} is not registered; give one of {', '.join(names)}, or the "
                "frame bs.load_dataset returned"
            )
    elif dataset is not None and not isinstance(dataset, pd.DataFrame):
        raise TypeError(f"dataset must be a dataset name or a DataFrame, got {dataset!r}")
    drawn: list[tuple[Any, str, str]] = []  # (figure, file stem, caption)
    try:
        if isinstance(fit, StackedFit):
            return _stack_report(
                fit, out, budgets, card_objs, title, ci_prob, fixed, drawn, backtest, dataset
            )
        return _report(
            fit, out, budgets, card_objs, title, ci_prob, fixed, drawn, backtest, dataset
        )
    finally:
        for fig, *_ in drawn:
            plt.close(fig)


def _answer_table(
    fit: Fit, opt: Any, budgets: np.ndarray, ci_prob: float, fixed: dict
) -> tuple[pd.DataFrame, dict]:
    """Per budget: N*, D*, D*/N* (medians and intervals) and the predicted loss of a run at
    the median optimum with its ``ci_prob`` predictive interval; also the raw quantiles."""
    from .analysis import predict_loss

    lo_q, hi_q = (1 - ci_prob) / 2, (1 + ci_prob) / 2

    def q(var: str) -> np.ndarray:
        arr = opt[var].transpose("chain", "draw", "compute").to_numpy().reshape(-1, len(budgets))
        return np.nanquantile(arr, [0.5, lo_q, hi_q], axis=0)

    n, d, tpp = q("N_opt"), q("D_opt"), q("tokens_per_param")
    extra = {k: np.full(len(budgets), float(v)) for k, v in fixed.items()}
    pred = predict_loss(fit, kind="predictive", random_seed=0, N=n[0], D=d[0], **extra)
    pred = np.asarray(pred.to_numpy(), dtype=float).reshape(-1, len(budgets))
    loss = np.nanquantile(pred, [0.5, lo_q, hi_q], axis=0)
    pct = f"{100 * ci_prob:g}%"
    rows = {}
    for i, c in enumerate(budgets):
        rows[human(float(c), "C")] = {
            f"N* [{pct}]": interval(*n[:, i], "N_opt"),
            f"D* [{pct}]": interval(*d[:, i], "D_opt"),
            "tokens per parameter": interval(*tpp[:, i]),
            f"predicted loss [{pct} predictive]": interval(*loss[:, i]) + " nats/token",
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "compute budget"
    return frame, {"N": n, "D": d, "tpp": tpp, "loss": loss}


def _cards_sentence(
    card_objs: list, budgets: np.ndarray, quant: dict, ci_prob: float, fixed: dict
) -> str | None:
    """One sentence: where the published fits put N* at the marked (or largest) budget."""
    from .plots import _card_optimum

    i = int(np.argmin(np.abs(np.log(budgets / MARK))))
    c = budgets[i]
    lo, hi = quant["N"][1, i], quant["N"][2, i]
    parts = []
    for card in card_objs:
        point = _card_optimum(card, np.asarray([c]), fixed)
        if point is None:
            continue
        value = float(np.asarray(point["N"]).ravel()[0])
        where = "inside" if lo <= value <= hi else ("below" if value < lo else "above")
        parts.append(f"{card.name} at {human(value, 'N')} ({where} it)")
    if not parts:
        return None
    return (
        f"Where the published fits sit: at {human(float(c), 'C')} this fit's {100 * ci_prob:g}% "
        f"interval of N* is {interval(lo, lo, hi, 'N_opt').split(' ', 1)[1]}; "
        f"{', '.join(parts)}."
    )


def _calibration(backtest: Any) -> tuple[list[str], list[str]]:
    """Sentences on a backtest's coverage, and warnings where it is below nominal."""
    table = backtest.table if hasattr(backtest, "table") else backtest
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"backtest must be a bayescale.backtest result or its table, got {type(backtest)}"
        )
    levels = sorted(
        {int(c[6:]) for c in table.columns if c.startswith("inside") and c[6:].isdigit()}
    )
    if not levels:
        raise ValueError("backtest table has no inside<pct> columns (e.g. inside95)")
    n = len(table)
    cov = {p: float(table[f"inside{p}"].astype(bool).mean()) for p in levels}
    text = ", ".join(f"{p}% intervals hold {cov[p]:.0%}" for p in levels)
    split = getattr(backtest, "split", None)
    cutoffs = getattr(backtest, "cutoffs", None)
    where = ""
    if split is not None and cutoffs:
        where = f" (fit on {split} below {', '.join(human(float(c), split) for c in cutoffs)})"
    lines = [f"Backtest{where}: of {n} held-out runs, {text}."]
    warns = [
        f"Coverage is below nominal: the {p}% predictive intervals held {cov[p]:.0%} of the "
        f"held-out runs; the intervals are too narrow beyond the fitted runs."
        for p in levels
        if cov[p] < p / 100
    ]
    return lines, warns


def _provenance(fit: Fit, dataset: Any) -> list[tuple[str, str]]:
    """Dataset name, source and checksums, and a SHA-256 of the fitted runs."""
    import hashlib

    attrs: dict = {}
    if isinstance(dataset, pd.DataFrame):
        attrs = dict(dataset.attrs)
    elif isinstance(dataset, str):
        from .datasets import load_dataset

        try:
            attrs = dict(load_dataset(dataset, download=False).attrs)
        except Exception as err:  # provenance is best effort; the error is named in the report
            attrs = {"dataset": dataset, "error": f"{type(err).__name__}: {err}"}
    elif dataset is not None:
        raise TypeError(f"dataset must be a dataset name or a DataFrame, got {dataset!r}")
    else:
        attrs = dict(getattr(fit.data, "attrs", {}) or {})
    out = []
    if attrs.get("dataset"):
        name = str(attrs["dataset"])
        if attrs.get("table"):
            name += f" (table {attrs['table']})"
        out.append(("dataset", name))
    for src in attrs.get("sources") or ([attrs["source"]] if attrs.get("source") else []):
        where = "/".join(str(src[k]) for k in ("repo", "path") if src.get(k))
        commit = f" @ {str(src['commit'])[:12]}" if src.get("commit") else ""
        sha = f", SHA-256 {src['sha256']}" if src.get("sha256") else ""
        out.append(("source", f"{where}{commit}{sha}"))
    if attrs.get("error"):
        out.append(("provenance", f"not available: {attrs['error']}"))
    runs = fit.data.to_csv(index=False).encode()
    out.append(("fitted runs", f"{len(fit.data)} rows, SHA-256 {hashlib.sha256(runs).hexdigest()}"))
    return out


def _versions() -> str:
    from importlib import metadata

    parts = []
    for pkg in ("bayescale", "pymc", "pytensor", "nutpie", "arviz", "numpy", "matplotlib"):
        try:
            parts.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            if pkg == "bayescale":
                from . import __version__

                parts.append(f"bayescale {__version__}")
    return ", ".join(parts)


def _report(
    fit: Fit,
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
    """:func:`report` on checked arguments; the figures it draws are appended to ``drawn``."""
    import datetime
    import io

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
    full = fit.summary(kind="all")  # computed once: the CSV, diagnostics and tables use it
    summ = full.loc[[n for n in fit._published_names() if n in full.index]]
    summ.attrs = dict(full.attrs)
    diag = fit._diagnostics(full)
    title = title or f"bayescale report: {law.name} fit to {len(fit.data)} runs"
    pct = f"{100 * ci_prob:g}"
    held = "".join(f", {k} = {human(float(v), k)}" for k, v in fixed.items())

    # everything is computed, and every figure drawn, before the first file is written
    tables = {"summary.csv": summ}
    answer = None
    answer_lines: list[str] = []
    warnings_: list[str] = []
    opt_frame = None
    if has_nd:
        opt = compute_optimal(fit, budgets.tolist(), fixed=fixed)
        opt_table = summary_table(opt, ci_prob=ci_prob)
        tables["optimal.csv"] = opt_table
        opt_frame = optimal_display(opt_table, ci_prob=ci_prob)
        answer, quant = _answer_table(fit, opt, budgets, ci_prob, fixed)
        sentence = _cards_sentence(card_objs, budgets, quant, ci_prob, fixed)
        if sentence:
            answer_lines.append(sentence)
    if backtest is not None:
        lines, warns = _calibration(backtest)
        answer_lines += lines
        warnings_ += warns
    if diag["problems"]:
        warnings_.append(
            f"The sampler reports {len(diag['problems'])} problem(s) (see Diagnostics): "
            "treat these numbers with care."
        )

    if has_nd:
        fig, _ = plots.plot_isoflops(fit)
        drawn.append((fig, "isoflops", "Loss against N, each run coloured by its compute budget"))
    fig, _ = plots.plot_fit(fit)
    drawn.append((fig, "fit", "Runs with the posterior mean and bands"))
    fig, _ = plots.plot_residuals(fit)
    if fit.likelihood.output_domain == "unit":
        caption = f"Residuals of {law.output} (observed − posterior mean)"
    else:
        caption = "Residuals of log loss"
    drawn.append((fig, "residuals", caption))
    fig, _ = plots.plot_params(fit, cards=card_objs)
    drawn.append((fig, "params", "Posterior of the parameters"))
    if has_nd:
        fig, _ = plots.plot_frontier(fit, ci_prob=ci_prob, cards=card_objs, fixed=fixed)
        drawn.append((fig, "frontier", "Compute-optimal N* and D*"))
        tpp_cards = [c for c in card_objs if c.law == law.name]
        fig, _ = plots.plot_tokens_per_param(
            fit, ci_prob=ci_prob, cards=tpp_cards, fixed=fixed, mark=MARK
        )
        drawn.append((fig, "tokens_per_param", "Compute-optimal tokens per parameter"))
    if backtest is not None:
        fig, _ = plots.plot_backtest(backtest)
        drawn.append((fig, "backtest", "Backtest: held-out runs against predictive intervals"))
    pngs = {}
    for fig, stem, _ in drawn:
        buf = io.BytesIO()
        fig.savefig(buf, dpi=120, format="png")
        pngs[stem] = buf.getvalue()

    params = _parameter_table(summ)
    comparison = _card_table(fit, card_objs, summ)
    status = "converged" if not diag["problems"] else f"{len(diag['problems'])} problem(s)"
    diagnostics = [
        ("status", status),
        ("sampler", f"{fit.sampler}, {post.sizes['chain']} chains × {post.sizes['draw']} draws"),
        ("random seed", str(fit.random_seed)),
        ("divergences", str(diag["divergences"])),
        ("max R-hat (every parameter)", cell(diag["max_r_hat"], "r_hat")),
        (
            "min bulk / tail ESS",
            f"{cell(diag['min_ess_bulk'], 'ess')} / {cell(diag['min_ess_tail'], 'ess')}",
        ),
    ] + [("problem", p) for p in diag["problems"]]
    model = [
        ("law", f"{law.key}: {law.description}" if law.description else law.key),
        ("runs", str(len(fit.data))),
        ("likelihood", fit.likelihood.name),
    ]
    if law.citation:
        model.append(("source", law.citation))
    priors = [prior_text(name, p) for name, p in fit.priors.items()]
    provenance = _provenance(fit, dataset)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    made = [("bayescale and libraries", _versions()), ("date", now)]

    # one list of blocks, rendered as Markdown and as HTML
    blocks: list[tuple] = [("h1", title)]
    blocks.append(("h2", "Answer"))
    for w in warnings_:
        blocks.append(("warn", w))
    if answer is not None:
        blocks.append(
            (
                "p",
                f"Compute-optimal allocation under C = 6ND{held}: posterior median "
                f"[{pct}% interval]; the loss is that of a new run at the median N*, D*, with its "
                f"{pct}% predictive interval (noise and extrapolation drift included).",
            )
        )
        blocks.append(("table", answer))
    for line in answer_lines:
        blocks.append(("p", line))
    for note in notes:
        blocks.append(("note", note))
    blocks += [("h2", "Diagnostics"), ("facts", diagnostics)]
    blocks += [("h2", "Model"), ("facts", model)]
    blocks += [("h2", "Parameters"), ("table", params)]
    if comparison is not None:
        blocks += [("h2", "Published fits"), ("table", comparison)]
    if opt_frame is not None:
        blocks += [
            ("h2", "Compute-optimal allocation"),
            (
                "p",
                f"Posterior median [{pct}% interval] under C = 6ND{held}; full precision in "
                "optimal.csv.",
            ),
            ("table", opt_frame),
        ]
    blocks += [("h2", "Priors"), ("list", priors)]
    blocks += [("h2", "Figures")]
    for _, stem, caption in drawn:
        blocks.append(("fig", stem, caption))
    blocks += [("h2", "Data and provenance"), ("facts", provenance + made)]
    blocks.append(("p", "Full-precision tables: summary.csv, optimal.csv."))

    markdown = _markdown(blocks)
    page = _html(title, blocks, pngs)

    # one file at a time, each written whole (atomic_write); the pages last
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        export_summary(table, out / name)
    for fig, stem, _ in drawn:
        atomic_write(out / f"{stem}.png", lambda tmp, b=pngs[stem]: Path(tmp).write_bytes(b))
        atomic_write(out / f"{stem}.svg", lambda tmp, fig=fig: fig.savefig(tmp, format="svg"))
    atomic_write_text(out / "report.md", markdown)
    atomic_write_text(out / "report.html", page)
    return str(out / "report.md")


def _markdown(blocks: list[tuple]) -> str:
    md: list[str] = []
    for kind, *rest in blocks:
        if kind == "h1":
            md += [f"# {rest[0]}", ""]
        elif kind == "h2":
            md += [f"## {rest[0]}", ""]
        elif kind == "p":
            md += [rest[0], ""]
        elif kind == "warn":
            md += [f"> **Warning**: {rest[0]}", ""]
        elif kind == "note":
            md += [f"> **Note**: {rest[0]}", ""]
        elif kind == "table":
            md += [to_markdown(rest[0]), ""]
        elif kind == "facts":
            md += [f"- **{k}**: {v}" for k, v in rest[0]] + [""]
        elif kind == "list":
            md += [f"- {v}" for v in rest[0]] + [""]
        elif kind == "fig":
            stem, caption = rest
            md += [f"### {caption}", "", f"![{caption}]({stem}.png)", ""]
    return "\n".join(md)


def _html(title: str, blocks: list[tuple], pngs: dict[str, bytes]) -> str:
    import base64

    esc = html.escape
    body: list[str] = []
    for kind, *rest in blocks:
        if kind == "h1":
            body.append(f"<h1>{esc(rest[0])}</h1>")
        elif kind == "h2":
            body.append(f"<h2>{esc(rest[0])}</h2>")
        elif kind == "p":
            body.append(f"<p>{esc(rest[0])}</p>")
        elif kind == "warn":
            body.append(f'<p class="bad"><b>Warning</b>: {esc(rest[0])}</p>')
        elif kind == "note":
            body.append(f'<p class="bad"><b>Note</b>: {esc(rest[0])}</p>')
        elif kind == "table":
            body.append(to_html_table(rest[0]))
        elif kind == "facts":
            items = []
            for k, v in rest[0]:
                cls = ""
                if k == "status":
                    cls = ' class="ok"' if v == "converged" else ' class="bad"'
                elif k == "problem":
                    cls = ' class="bad"'
                items.append(f"<li><b>{esc(k)}</b>: <span{cls}>{esc(v)}</span></li>")
            body.append("<ul>" + "".join(items) + "</ul>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{esc(v)}</li>" for v in rest[0]) + "</ul>")
        elif kind == "fig":
            stem, caption = rest
            data = base64.b64encode(pngs[stem]).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
                f"<figcaption>{esc(caption)} ({esc(stem)}.png, {esc(stem)}.svg)</figcaption>"
                "</figure>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


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

    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        export_summary(table, out / name)
    for fig, name, _ in drawn:
        atomic_write(out / name, lambda tmp, fig=fig: fig.savefig(tmp, dpi=120, format="png"))
    atomic_write_text(out / "report.md", markdown)
    atomic_write_text(out / "report.html", page)
    return str(out / "report.md")


#: the files a report bundle may write (the command line will not replace them without --force)
_FIGURES = ("isoflops", "fit", "residuals", "params", "frontier", "tokens_per_param", "backtest")
BUNDLE_FILES = (
    "report.md",
    "report.html",
    "summary.csv",
    "optimal.csv",
    *(f"{stem}.{ext}" for stem in _FIGURES for ext in ("png", "svg")),
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
    if isinstance(compute, str | bytes) or any(
        isinstance(c, str | bytes) for c in np.atleast_1d(np.asarray(compute, dtype=object))
    ):
        raise ValueError(
            f"compute must be budgets in FLOPs as numbers (1e22, not '1e22'), got {compute!r}"
        )
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
