"""The ``bayescale`` command's subcommands, one ``_cmd_<name>(args)`` each (fit, summary,
optimal, report, predict, plan, backtest, stack, plot, datasets, laws); :mod:`bayescale.cli` builds
the parser that dispatches to them and re-exports them.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .cli_common import (
    UsageError,
    _check_new,
    _check_writable,
    _emit,
    _load_fit,
    _os_error,
    _parse_columns,
    _parse_fixed,
    _parse_options,
    _parse_priors,
    _print_table,
    _read_csv,
)
from .cli_groups import (
    display_by_group,
    group_label,
    group_title,
    one_group,
    parse_pool,
    pooled_predict_table,
    predict_table,
    select_group,
)


def _cmd_fit(args: argparse.Namespace) -> int:
    import bayescale as bs

    options = _parse_options(args.option)
    law = bs.get_law(args.law, **options)
    data = _read_csv(args.data)
    _check_new(args.out, args.force, inputs=[args.data])
    from .io import check_fit_path

    check_fit_path(args.out)  # before sampling, not after
    columns = _parse_columns(args.columns)
    priors = _parse_priors(args.prior)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bs.DiagnosticWarning)
        fit = bs.fit(
            law,
            data,
            priors=priors,
            likelihood=args.likelihood,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            random_seed=args.random_seed,
            progressbar=progress,
            columns=columns,
            group=args.group,
            pool=parse_pool(args.pool, args.group),
        )
    for w in caught:
        if issubclass(w.category, bs.DiagnosticWarning):
            print(f"bayescale: warning: {w.message}", file=sys.stderr)
    try:
        path = fit.save(args.out)
    except OSError as err:
        raise _os_error(args.out, err) from None
    table, diag = fit._tables()
    if not args.quiet:  # the result on stdout; how the sampler did on stderr
        print(fit._title())
        print(fit._table_text(table))
    print(f"diagnostics: {fit._status(diag)}", file=sys.stderr)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from .export import render_table

    _check_new(args.out, args.force, inputs=[args.fit])
    fit = select_group(_load_fit(args.fit), args.group)
    _emit(render_table(fit.summary(), args.format, digits=args.digits), args.out)
    return 0


def _cmd_optimal(args: argparse.Namespace) -> int:
    from .analysis import compute_optimal
    from .export import render_table, summary_table

    _check_new(args.out, args.force, inputs=[args.fit])
    fixed = _parse_fixed(args.fixed)
    fit = select_group(_load_fit(args.fit), args.group)
    table = summary_table(compute_optimal(fit, args.compute, fixed=fixed), ci_prob=args.ci_prob)
    if args.format in ("md", "tex"):
        from .report import optimal_display

        table = display_by_group(table, optimal_display, ci_prob=args.ci_prob, digits=args.digits)
    _emit(render_table(table, args.format, digits=args.digits), args.out)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .report import report

    _check_new(args.out, args.force, "folder")
    fixed = _parse_fixed(args.fixed)
    pooled = _load_fit(args.fit)
    fit = select_group(pooled, args.group)  # a pooled fit without --group: every group
    title = args.title
    if title is None and args.group is not None:
        title = f"Scaling law {fit.law.name}: {group_title(pooled, args.group)}"
    kwargs = {} if args.compute is None else {"compute": args.compute}
    if fixed:
        kwargs["fixed"] = fixed
    if args.dataset:
        kwargs["dataset"] = args.dataset
    try:
        path = report(fit, args.out, title=title, ci_prob=args.ci_prob, **kwargs)
    except OSError as err:
        raise _os_error(args.out, err) from None
    print(path)
    return 0


def _parse_point(text: str) -> dict[str, float]:
    """``N=70e9,D=1.4e12`` as a mapping of input to number.

    Examples
    --------
    >>> _parse_point("N=70e9,D=1.4e12")
    {'N': 70000000000.0, 'D': 1400000000000.0}
    """
    point: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if key.strip() in point:
            raise UsageError(f"--at {text}: {key.strip()!r} is given twice; give each input once")
        if not sep or not key.strip().isidentifier() or number is None:
            raise UsageError(
                f"--at: cannot read {item!r}; expected INPUT=NUMBER pairs such as N=70e9,D=1.4e12"
            )
        point[key.strip()] = number
    return point


def _cmd_predict(args: argparse.Namespace) -> int:
    from .export import render_table

    _check_new(args.out, args.force, inputs=[args.fit, *([args.runs] if args.runs else [])])
    if bool(args.at) == bool(args.runs):
        raise UsageError("give the planned runs with --at N=...,D=... (repeatable) or --runs CSV")
    frame = _read_csv(args.runs) if args.runs else None  # the cheap checks first
    fit = _load_fit(args.fit)
    from .stacking import template_fit

    law = template_fit(fit, "predict").law
    inputs = list(law.inputs)
    if frame is not None:
        missing = [k for k in inputs if k not in frame.columns]
        if missing:
            raise UsageError(f"--runs {args.runs}: missing the law's input columns {missing}")
        points = frame[inputs].astype(float)
    else:
        points = pd.DataFrame([_parse_point(text) for text in args.at])
        unknown = sorted(set(points.columns) - set(inputs))
        missing = [k for k in inputs if k not in points.columns or points[k].isna().any()]
        if unknown or missing:
            raise UsageError(
                f"--at: law {law.name!r} takes the inputs {inputs}"
                + (f"; unknown {unknown}" if unknown else "")
                + (f"; missing {missing}" if missing else "")
            )
        points = points[inputs]
    options = dict(kind=args.kind, ci_prob=args.ci_prob, random_seed=args.random_seed)
    if args.group is None and getattr(fit, "pooling", None) is not None:
        table = pooled_predict_table(fit, points, **options)  # every point in every group
    else:
        view = select_group(fit, args.group, random_seed=args.random_seed)
        table = predict_table(view, points, **options)
    _emit(render_table(table, args.format, digits=args.digits), args.out)
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from .plan import plan

    _check_new(args.out, args.force, inputs=[args.fit])
    fit = _load_fit(args.fit)
    # a pooled fit: the plan of one group (--group) or of every group
    label = group_label(fit, args.group)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = plan(
            fit,
            compute=args.budget,
            inference_tokens=args.inference_tokens,
            price_per_flop=args.price_per_flop,
            ci_prob=args.ci_prob,
            n_outcomes=args.outcomes,
            random_seed=args.random_seed,
            **({} if label is None else {"group": label}),
        )
    _emit(result.to_markdown() + "\n", args.out)
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    import bayescale as bs

    from .export import render_table

    law = _backtest_law(args.law, _parse_options(args.option))
    pool = parse_pool(args.pool, args.group)
    if args.group is not None and not isinstance(law, bs.ScalingLaw):
        raise UsageError(
            "--group pools one law's fits; a saved fit keeps its own groups, a stack's members "
            "their own"
        )
    if args.stack is not None and isinstance(law, bs.ScalingLaw):
        raise UsageError("--stack weighs several laws: give them as LAW1,LAW2 or a stack folder")
    data = _read_csv(args.data)
    _check_new(args.out, args.force, inputs=[args.data])
    columns = _parse_columns(args.columns)
    if columns:
        data = data.rename(columns={v: k for k, v in columns.items()})
    if args.split not in data.columns and not (args.split == "C" and {"N", "D"} <= set(data)):
        raise UsageError(
            f"--split {args.split!r}: no such column in {args.data} (columns: "
            f"{', '.join(map(str, data.columns))})"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = bs.backtest(
            law, data, split={args.split: args.cutoff}, random_seed=args.random_seed,
            draws=args.draws, tune=args.tune, chains=args.chains, warn=False,
            **({} if args.stack is None else {"stack": args.stack}),
            **({} if args.group is None else {"group": args.group}),
            **({} if pool is None else {"pool": pool}),
        )  # fmt: skip
    for w in caught:
        if issubclass(w.category, bs.CalibrationWarning | bs.DiagnosticWarning):
            print(f"bayescale: warning: {w.message}", file=sys.stderr)
    calibration = result.calibration
    if args.format in ("csv", "json"):  # machine-readable: the per-cutoff table only
        text = render_table(result.summary(), args.format, digits=args.digits)
        line = ", ".join(
            f"{100 * p:g}%: {int(r['covered'])}/{int(r['n'])} ({r['verdict']})"
            for p, r in calibration.iterrows()
        )
        print(f"calibration (pooled): {line}", file=sys.stderr)
    else:
        text = (
            str(result) + "\n\n" + render_table(result.summary(), args.format, digits=args.digits)
            + "\n\ncalibration (pooled over every held-out run):\n\n"
            + render_table(calibration, args.format, digits=args.digits)
        )  # fmt: skip
    _emit(text if text.endswith("\n") else text + "\n", args.out)
    return 0


def _backtest_law(text: str, options: dict) -> Any:
    """One law, several comma-separated laws (a stack), a saved stack folder (its members
    refitted at each cutoff) or a saved fit file (refitted with its own settings)."""
    import bayescale as bs

    if Path(text).is_dir() or (Path(text).is_file() and text.endswith(".nc")):
        if options:
            raise UsageError("--option applies to a law name, not to a saved fit or stack")
        return _load_fit(text)
    names = [t.strip() for t in text.split(",")]
    if len(names) == 1:
        return bs.get_law(text, **options)
    if not all(names):
        raise UsageError(f"cannot read the laws {text!r}: give names separated by commas")
    return [bs.get_law(n, **options) for n in names]


def _cmd_stack(args: argparse.Namespace) -> int:
    """``bayescale stack FIT FIT ... --out DIR``: stack saved fits of the same runs (LOO
    weights, or ``--weights``) and save the stack folder, which every fit-reading command takes.

    Examples
    --------
    >>> import os, tempfile, bayescale as bs
    >>> from bayescale.cli import main
    >>> d = tempfile.mkdtemp()
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> a = bs.testing.pinned_fit(random_seed=0, data=runs).save(os.path.join(d, "a.nc"))
    >>> b = bs.testing.pinned_fit(random_seed=1, data=runs).save(os.path.join(d, "b.nc"))
    >>> out = os.path.join(d, "stack")
    >>> argv = ["stack", a, b, "--weights", "1", "3", "--out", out, "--format", "csv"]
    >>> main(argv)  # doctest: +ELLIPSIS
    member,law,likelihood,weight,...
    0
    >>> main(["optimal", out, "--compute", "1e22", "--format", "csv"])  # doctest: +ELLIPSIS
    compute,N_opt_median,...
    0
    """
    from .export import render_table
    from .fit import Fit
    from .stacking import STACK_FILE, _check_fits, stack

    target = Path(args.out)
    if target.exists() and not target.is_dir():
        raise UsageError(f"cannot write the stack into {args.out}: it is a file, not a folder")
    if (target / STACK_FILE).exists() and not args.force:
        raise UsageError(f"{args.out} already holds a stack; pass --force to replace it")
    _check_writable(args.out, "folder")
    if args.names is not None and len(args.names) != len(args.fits):
        raise UsageError(f"--names gives {len(args.names)} names for {len(args.fits)} fits")
    if args.names is not None and len(set(args.names)) != len(args.names):
        raise UsageError(f"--names must be distinct, got {args.names}")
    if args.weights is not None:
        if len(args.weights) != len(args.fits):
            raise UsageError(
                f"--weights gives {len(args.weights)} numbers for {len(args.fits)} fits"
            )
        if args.method != "stacking":
            raise UsageError("give --weights or --method, not both")
        if sum(args.weights) <= 0:
            raise UsageError("--weights must not all be 0")
    fits = [_load_fit(path) for path in args.fits]
    for path, f in zip(args.fits, fits, strict=True):
        if not isinstance(f, Fit):
            raise UsageError(f"{path} is a saved stack; bayescale stack takes fit files (.nc)")
    named = _check_fits(dict(zip(args.names, fits, strict=True)) if args.names else fits)
    if args.weights is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = stack(named, method=args.method)
        for w in caught:
            print(f"bayescale: warning: {w.message}", file=sys.stderr)
    else:
        total = sum(args.weights)
        result = stack(
            named, weights={n: w / total for n, w in zip(named, args.weights, strict=True)}
        )
    try:
        path = result.save(args.out)
    except OSError as err:
        raise _os_error(args.out, err) from None
    text = render_table(result.summary(), args.format, digits=args.digits)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    print(f"wrote {path}", file=sys.stderr)
    return 0


PLOTS = ("isoflops", "fit", "residuals", "params", "frontier", "tokens_per_param")


def _cmd_plot(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plots
    from .io import atomic_write

    ext = Path(args.out).suffix.lower().lstrip(".")
    if ext not in ("png", "svg", "pdf"):
        raise UsageError(
            f"--out {args.out}: the figure's format follows the extension: .png, .svg or .pdf"
        )
    _check_new(args.out, args.force, inputs=[args.fit])
    fit = _load_fit(args.fit)
    if args.group is None and args.kind == "fit" and getattr(fit, "pooling", None) is not None:
        from .plots_groups import plot_groups

        fig, _ = plot_groups(fit)  # every group in one figure
    else:
        fig, _ = getattr(plots, f"plot_{args.kind}")(one_group(fit, args.group, "plot"))
    try:
        atomic_write(args.out, lambda tmp: fig.savefig(tmp, format=ext, dpi=args.dpi))
    except OSError as err:
        raise _os_error(args.out, err) from None
    finally:
        plt.close(fig)
    print(args.out)
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    import bayescale as bs

    table = bs.list_datasets()
    cols = [c for c in ("name", "n_rows", "paper", "title") if c in table.columns]
    _print_table(table[cols])
    return 0


def _cmd_laws(args: argparse.Namespace) -> int:
    import bayescale as bs

    table = bs.list_laws()
    cols = [c for c in ("name", "version", "inputs", "description") if c in table.columns]
    _print_table(table[cols])
    return 0
