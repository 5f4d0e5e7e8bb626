"""The report bundle of one fit (:func:`bayescale.report` on a :class:`~bayescale.Fit`): the
answer table per budget, where published cards sit, the calibration of a backtest, diagnostics,
parameters, priors, provenance and versions, written as Markdown and self-contained HTML with
the figures, CSV tables, PNG and SVG.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._report_common import _CSS, MARK, optimal_display
from .analysis import compute_optimal
from .display import DIGITS, cell, human, interval, prior_text
from .export import export_summary, format_number, summary_table, to_html_table, to_markdown
from .fit import Fit


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


def _number_cells(table: pd.DataFrame) -> pd.DataFrame:
    """A population or spread table for display: "median [lo, hi]" in one cell."""
    lo, hi = (c for c in table.columns if c.startswith("ci"))
    out = pd.DataFrame(index=table.index)
    if "scale" in table:
        out["scale"] = table["scale"]
    out[f"median [{lo[2:-3]}% interval]"] = [
        _cell(r["median"], r[lo], r[hi]) for _, r in table.iterrows()
    ]
    out["meaning"] = table["meaning"]
    return out


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
    from ._plotting import _card_optimum

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
    from .io import atomic_write_all

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
    published = fit._published_names()  # a pooled fit's per-group rows are "A[label]"
    summ = full.loc[
        sorted(
            (n for n in full.index if n.split("[")[0] in published),
            key=lambda n: published.index(n.split("[")[0]),
        )
    ]
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
    pooled = fit.pooling is not None
    group_blocks: list[tuple] = []
    if pooled:
        # a pooled fit: N*(C) per group and for a new group, the population and the spread
        from .report_groups import group_optimal, population_table, spread_table

        population, spread = population_table(fit, ci_prob), spread_table(fit, ci_prob)
        tables["population.csv"], tables["spread.csv"] = population, spread
        group_blocks = [
            ("h2", "Population and between-group spread"),
            ("p", f"Groups: {fit.pooling.describe()}."),
            ("table", _number_cells(population)),
            ("p", "Between-group spread tau, on the scale each parameter's groups vary on:"),
            ("table", _number_cells(spread)),
        ]
        if has_nd:
            answer, full = group_optimal(fit, budgets, ci_prob, fixed)
            tables["optimal.csv"] = full
        has_nd = False  # the figures and tables below read one set of parameters
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
    if pooled:
        from .plots_groups import plot_groups

        # along compute for a law of N and D, along the input of a one-input law
        x = "compute" if {"N", "D"} <= set(law.inputs) else law.inputs[0]
        if x == "compute" or len(law.inputs) == 1:
            fig, _ = plot_groups(fit, x=x, ci_prob=ci_prob)
            drawn.append((fig, "groups", "Runs and fitted curves by group"))
        else:
            notes.append(
                f"No group figure: plot_groups draws a law of N and D or of one input; "
                f"{law.name!r} takes {', '.join(law.inputs)}."
            )
    else:
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
    if pooled:
        model.append(("groups", fit.pooling.describe()))
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
    if answer is not None and pooled:
        blocks.append(
            (
                "p",
                f"Compute-optimal allocation under C = 6ND{held} per group, and for a new group "
                f"of the population (a corpus not trained on yet): posterior median [{pct}% "
                "interval]; full precision in optimal.csv.",
            )
        )
        blocks.append(("table", answer))
    elif answer is not None:
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
    blocks += group_blocks
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
    blocks.append(("p", f"Full-precision tables: {', '.join(tables)}."))

    markdown = _markdown(blocks)
    page = _html(title, blocks, pngs)

    # the bundle written as one (atomic_write_all): every file whole beside its target first,
    # then all moved into place, so a failure never leaves a bundle that mixes two fits
    out.mkdir(parents=True, exist_ok=True)
    files: list[tuple[Path, Any]] = [
        (out / name, lambda tmp, t=table: export_summary(t, tmp)) for name, table in tables.items()
    ]
    for fig, stem, _ in drawn:
        files.append((out / f"{stem}.png", lambda tmp, b=pngs[stem]: Path(tmp).write_bytes(b)))
        files.append((out / f"{stem}.svg", lambda tmp, f=fig: f.savefig(tmp, format="svg")))
    files.append((out / "report.md", _text_writer(markdown)))
    files.append((out / "report.html", _text_writer(page)))
    atomic_write_all(files)
    from ._report_common import remove_stale

    written = [*tables, "report.md", "report.html"]
    remove_stale(out, written + [f"{stem}.{ext}" for _, stem, _ in drawn for ext in ("png", "svg")])
    return str(out / "report.md")


def _text_writer(text: str) -> Any:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)

    return write


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
