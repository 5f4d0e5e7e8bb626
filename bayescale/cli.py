"""The ``bayescale`` command: fit, summarise, plan and report from the shell.

::

    bayescale fit chinchilla runs.csv --out fit.nc [--columns N=params,D=tokens,loss=val_loss]
              [--prior alpha='Normal(mu=0.3, sigma=0.1)'] [--draws 1000 --tune 1000 --chains 4]
              [--random-seed 0] [--likelihood binomial] [--option breaks=2 --option x=C] [--force]
    bayescale summary fit.nc [--format md|csv|json|tex] [--out FILE [--force]]
    bayescale optimal fit.nc --compute 1e24 1e25 [--ci-prob 0.95] [--format md|csv|json|tex]
    bayescale report fit.nc --out DIR [--compute 1e23 1e24] [--title TEXT] [--force]
    bayescale predict fit.nc --at N=70e9,D=1.4e12 [--at ...] | --runs planned.csv
              [--kind predictive|mean] [--ci-prob 0.95] [--format md|csv|json|tex]
    bayescale plot fit.nc isoflops|fit|residuals|params|frontier|tokens_per_param --out FIG.png
    bayescale plan fit.nc --budget 1e24 [--inference-tokens 1e13] [--price-per-flop 1e-18]
              [--ci-prob 0.95] [--random-seed 0] [--out plan.md [--force]]
    bayescale backtest chinchilla runs.csv --split C --cutoff 1e21 [3e21 ...]
              [--columns ...] [--draws 1000 --tune 1000 --chains 4] [--random-seed 0] [--out FILE]
    bayescale backtest chinchilla,kaplan runs.csv --cutoff 1e21 [--stack pseudo-BMA]  (or STACK/)
    bayescale stack fit1.nc fit2.nc --out STACK/ [--names a b] [--weights 0.7 0.3] [--force]

Every command that reads a fit (summary, optimal, report, predict, plot, plan) also reads a
saved stack: the folder written by ``bayescale stack`` or :meth:`bayescale.StackedFit.save`.
    bayescale datasets
    bayescale laws

Results go to stdout (tables, the path of a report or figure); diagnostics, warnings and
"wrote FILE" lines go to stderr, so ``bayescale optimal ... > table.md`` captures the answer only.

Bad input (a missing file, an unknown law or column, a non-numeric column, a malformed option,
a negative budget such as ``--compute -1e22``, ``--digits -3``) ends with one line
``bayescale: error: ...`` on stderr and exit code 2, never a traceback. An existing output is
replaced only with ``--force``, and every output is written whole (:func:`bayescale.io.
atomic_write`): a failure leaves the old file as it was.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from ._api import CI_PROB

__all__ = ["main"]

EXIT_BAD_INPUT = 2
FORMATS = ("md", "csv", "json", "tex")


class UsageError(Exception):
    """Bad command-line input; reported as one line with exit code 2."""


#: what argparse should read as a (negative) number rather than an option: -3, -1e22, -.5,
#: -inf, -nan (its own pattern misses exponents, so "--compute -1e22" was an unknown option)
_NEGATIVE_NUMBER = re.compile(
    r"^-(\d[\d_]*\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.I
)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _DeprecatedOption(argparse.Action):
    """An old option name kept one release: stores into the new name's destination and warns
    on stderr (``--prob`` → ``--ci-prob``, ``--seed`` → ``--random-seed``)."""

    def __init__(self, *args: Any, new: str = "", **kwargs: Any) -> None:
        self.new = new
        super().__init__(*args, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        print(
            f"bayescale: warning: {option} is deprecated and will be removed; use {self.new}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def _add_ci_prob(p: argparse.ArgumentParser, default: float = CI_PROB) -> None:
    p.add_argument(
        "--ci-prob",
        dest="ci_prob",
        type=_probability,
        default=default,
        help=f"probability of the intervals, in (0, 1) (default {default})",
    )
    p.add_argument(
        "--prob", dest="ci_prob", type=_probability, action=_DeprecatedOption,
        new="--ci-prob", help=argparse.SUPPRESS,
    )  # fmt: skip


def _add_random_seed(p: argparse.ArgumentParser, default: int | None, help: str) -> None:
    p.add_argument("--random-seed", dest="random_seed", type=_seed, default=default, help=help)
    p.add_argument(
        "--seed", dest="random_seed", type=_seed, action=_DeprecatedOption,
        new="--random-seed", help=argparse.SUPPRESS,
    )  # fmt: skip


def _one_line(err: BaseException) -> str:
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    parts = [p.strip().lstrip("- ").strip() for p in str(text).splitlines()]
    parts = [p for p in parts if p]
    if not parts:
        return type(err).__name__
    head, rest = parts[0], parts[1:]
    if rest:
        head = head.rstrip(":") + ": " + "; ".join(rest)
    return head


def _parse_columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if key.strip() in mapping:
            raise UsageError(f"--columns: {key.strip()!r} is mapped twice; map each name once")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(
                f"--columns: cannot read {item!r}; expected CANONICAL=column pairs such as "
                "N=params,D=tokens,loss=val_loss"
            )
        mapping[key.strip()] = value.strip()
    return mapping


def _parse_priors(items: Sequence[str] | None) -> dict | None:
    from .priors import Prior

    if not items:
        return None
    priors = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                f"--prior: cannot read {item!r}; expected NAME=DIST(...), e.g. "
                "alpha='Normal(mu=0.3, sigma=0.1)' or beta='fixed(0.28)'"
            )
        priors[name.strip()] = Prior.parse(text.strip())
    return priors


def _parse_options(items: Sequence[str] | None) -> dict:
    """``KEY=VALUE`` pairs; values read as Python literals (2, 0.25, None), else kept as text.

    Examples
    --------
    >>> _parse_options(["breaks=2", "x=C", "floor=0.25", "ceiling=None"])
    {'breaks': 2, 'x': 'C', 'floor': 0.25, 'ceiling': None}
    """
    options: dict = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(
                f"--option: cannot read {item!r}; expected KEY=VALUE such as breaks=2, x=C or "
                "floor=0.25"
            )
        text = text.strip()
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            options[key] = text
    return options


def _parse_fixed(items: Sequence[str] | None) -> dict[str, float]:
    """``KEY=NUMBER`` pairs for inputs held fixed (e.g. unique tokens ``U=25e9``).

    Examples
    --------
    >>> _parse_fixed(["U=25e9", "P=16"])
    {'U': 25000000000.0, 'P': 16.0}
    """
    fixed: dict[str, float] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        try:
            value = float(text)
        except ValueError:
            value = None
        if not sep or not key.strip().isidentifier() or value is None:
            raise UsageError(f"--fixed: cannot read {item!r}; expected INPUT=NUMBER such as U=25e9")
        fixed[key.strip()] = value
    return fixed


def _add_fixed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fixed",
        action="append",
        metavar="INPUT=NUMBER",
        help="hold a further law input fixed, e.g. U=25e9 for data_constrained (repeatable)",
    )


def _read_csv(path: str) -> pd.DataFrame:
    if Path(path).is_dir():
        raise UsageError(f"{path} is a folder, not a CSV file of runs")
    if not Path(path).is_file():
        raise UsageError(f"data file not found: {path}")
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = [c.strip() for c in next(csv.reader(handle), [])]
    except (UnicodeDecodeError, csv.Error):
        header = []
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise UsageError(
            f"{path}: the header names {', '.join(map(repr, twice))} more than once; "
            "keep one column of each name"
        )
    try:
        return pd.read_csv(path)
    except UnicodeDecodeError as err:
        raise UsageError(
            f"cannot read {path} as a UTF-8 CSV file ({err.reason} at byte {err.start}); "
            "save it as UTF-8 text"
        ) from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"data file {path} is empty") from None
    except pd.errors.ParserError as err:
        raise UsageError(f"cannot parse {path} as CSV: {_one_line(err)}") from None


def _load_fit(path: str):
    """A saved fit (a NetCDF file) or a saved stack (a folder with ``stack.json``)."""
    from .fit import Fit
    from .stacking import STACK_FILE, load_stack

    if Path(path).is_dir():
        if (Path(path) / STACK_FILE).is_file():
            return load_stack(path)
        raise UsageError(f"{path} is a folder, not a fit file or a saved stack ({STACK_FILE})")
    if not Path(path).is_file():
        raise UsageError(f"fit file not found: {path}")
    try:
        return Fit.load(path)
    except (ValueError, KeyError):
        raise
    except OSError as err:
        raise UsageError(f"cannot read {path} as a bayescale fit: {_one_line(err)}") from None


def _check_writable(path: str, what: str) -> None:
    """Fail early when ``path`` cannot be created (e.g. a folder in its place is a file)."""
    target = Path(path)
    if target.is_dir() and what == "file":
        raise UsageError(f"cannot write {path}: it is a directory")
    if target.exists() and not target.is_dir() and what == "folder":
        raise UsageError(f"cannot write the report into {path}: it is a file, not a folder")
    parent = target.parent
    if what == "file" and not parent.exists():
        raise UsageError(
            f"cannot write {path}: the folder {parent} does not exist; create it first "
            f"(mkdir -p {parent})"
        )
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: {parent} is not writable")


def _os_error(path: str, err: OSError) -> UsageError:
    where = f" ({err.filename})" if err.filename and str(err.filename) != str(path) else ""
    return UsageError(f"cannot write {path}: {err.strerror or _one_line(err)}{where}")


def _check_new(
    path: str | None, force: bool, what: str = "file", inputs: Sequence[str] = ()
) -> None:
    """Refuse to replace an existing output unless ``--force``, and an input file even then;
    fail early when the output cannot be written."""
    if not path:
        return
    _check_writable(path, what)
    target = Path(path)
    for source in inputs:
        if target.resolve() == Path(source).resolve():
            raise UsageError(f"--out {path} is the input file; choose another output")
    if what == "folder":
        from .report import BUNDLE_FILES

        existing = [name for name in BUNDLE_FILES if (target / name).exists()]
        if existing and not force:
            raise UsageError(
                f"{path} already holds a report ({', '.join(existing[:3])}"
                f"{', ...' if len(existing) > 3 else ''}); pass --force to replace it"
            )
    elif target.exists() and not force:
        raise UsageError(f"{path} already exists; pass --force to replace it")


def _resolve_format(args: argparse.Namespace) -> None:
    """``--format`` from ``--out``'s extension when not given (default md); an extension that
    contradicts an explicit ``--format`` is an error, not a file of one format under another's
    name."""
    if "format" not in args:
        return
    suffix = Path(args.out).suffix.lower() if getattr(args, "out", None) else ""
    implied = {".csv": "csv", ".md": "md", ".markdown": "md", ".tex": "tex", ".json": "json"}
    if args.format is None:
        args.format = implied.get(suffix, "md")
    elif suffix in implied and implied[suffix] != args.format:
        raise UsageError(
            f"--out {args.out} ends in {suffix} but --format is {args.format}; drop --format "
            f"or name the file with .{args.format}"
        )


def _emit(text: str, out: str | None) -> None:
    from .io import atomic_write_text

    if out:
        try:
            atomic_write_text(out, text)
        except OSError as err:
            raise _os_error(out, err) from None
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


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
    fit = _load_fit(args.fit)
    _emit(render_table(fit.summary(), args.format, digits=args.digits), args.out)
    return 0


def _cmd_optimal(args: argparse.Namespace) -> int:
    from .analysis import compute_optimal
    from .export import render_table, summary_table

    _check_new(args.out, args.force, inputs=[args.fit])
    fixed = _parse_fixed(args.fixed)
    fit = _load_fit(args.fit)
    table = summary_table(compute_optimal(fit, args.compute, fixed=fixed), ci_prob=args.ci_prob)
    if args.format in ("md", "tex"):
        from .report import optimal_display

        table = optimal_display(table, ci_prob=args.ci_prob, digits=args.digits)
    _emit(render_table(table, args.format, digits=args.digits), args.out)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from .report import report

    _check_new(args.out, args.force, "folder")
    fixed = _parse_fixed(args.fixed)
    fit = _load_fit(args.fit)
    kwargs = {} if args.compute is None else {"compute": args.compute}
    if fixed:
        kwargs["fixed"] = fixed
    if args.dataset:
        kwargs["dataset"] = args.dataset
    try:
        path = report(fit, args.out, title=args.title, ci_prob=args.ci_prob, **kwargs)
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
    import numpy as np

    from .analysis import predict_loss
    from .export import render_table

    _check_new(args.out, args.force, inputs=[args.fit, *([args.runs] if args.runs else [])])
    if bool(args.at) == bool(args.runs):
        raise UsageError("give the planned runs with --at N=...,D=... (repeatable) or --runs CSV")
    fit = _load_fit(args.fit)
    from .stacking import template_fit

    law = template_fit(fit, "predict").law
    inputs = list(law.inputs)
    if args.runs:
        frame = _read_csv(args.runs)
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
    values = {k: points[k].to_numpy(dtype=float) for k in inputs}
    draws = predict_loss(fit, kind=args.kind, random_seed=args.random_seed, **values)
    arr = np.asarray(draws.to_numpy(), dtype=float).reshape(-1, len(points))
    pct = f"{100 * args.ci_prob:g}"
    lo, mid, hi = np.nanquantile(arr, [(1 - args.ci_prob) / 2, 0.5, (1 + args.ci_prob) / 2], axis=0)
    out = law.output
    table = points.reset_index(drop=True).copy()
    table[f"{out}_median"] = mid
    table[f"{out}_lo{pct}"] = lo
    table[f"{out}_hi{pct}"] = hi
    table.index.name = "point"
    table.attrs["kind"] = args.kind
    _emit(render_table(table, args.format, digits=args.digits), args.out)
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from .plan import plan

    _check_new(args.out, args.force, inputs=[args.fit])
    fit = _load_fit(args.fit)
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
        )
    _emit(result.to_markdown() + "\n", args.out)
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    import bayescale as bs

    from .export import render_table

    law = _backtest_law(args.law, _parse_options(args.option))
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
    """One law, several comma-separated laws (a stack) or a saved stack folder (its members
    refitted at each cutoff)."""
    import bayescale as bs

    if Path(text).is_dir():
        if options:
            raise UsageError("--option applies to a law name, not to a saved stack")
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
    fig, _ = getattr(plots, f"plot_{args.kind}")(fit)
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


def _print_table(table: pd.DataFrame) -> None:
    with pd.option_context("display.max_colwidth", 70, "display.width", 200):
        print(table.to_string(index=False))


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0: {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0: {text!r}")
    return value


def _whole(text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < low or (high is not None and value > high):
        rule = f"from {low} to {high}" if high is not None else f">= {low}"
        raise argparse.ArgumentTypeError(f"must be a whole number {rule}: {text!r}")
    return value


def _count(text: str) -> int:
    """A whole number >= 1 (draws, chains)."""
    return _whole(text, 1)


def _natural(text: str) -> int:
    """A whole number >= 0 (tune, seed)."""
    return _whole(text, 0)


def _seed(text: str) -> int:
    """A seed: a whole number from 0 to 2**64 - 1 (a fit records it as a 64-bit integer)."""
    return _whole(text, 0, 2**64 - 1)


def _dpi(text: str) -> int:
    """Dots per inch of a figure: 1 to 1200 (beyond, a PNG needs gigabytes of memory)."""
    return _whole(text, 1, 1200)


def _digits(text: str) -> int:
    """Significant digits, 1 to 17."""
    return _whole(text, 1, 17)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bayescale`` command.

    Examples
    --------
    >>> build_parser().parse_args(["optimal", "f.nc", "--compute", "1e24", "1e25"]).compute
    [1e+24, 1e+25]
    """
    parser = _Parser(
        prog="bayescale",
        description="Bayesian neural scaling laws: fit, summarise, plan and report.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"bayescale {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("fit", help="fit a law to runs in a CSV file and save the fit (NetCDF)")
    p.add_argument("law", help="registered law name (see 'bayescale laws')")
    p.add_argument("data", help="CSV file, one row per training run")
    p.add_argument("--out", required=True, help="output fit file (.nc)")
    p.add_argument(
        "--columns",
        help="canonical=column pairs mapping the law's names to the CSV's, "
        "e.g. N=params,D=tokens,loss=val_loss",
    )
    p.add_argument(
        "--prior",
        action="append",
        metavar="NAME=DIST",
        help="override a prior, e.g. alpha='Normal(mu=0.3, sigma=0.1)' or beta='fixed(0.28)' "
        "(repeatable)",
    )
    p.add_argument(
        "--likelihood",
        default=None,
        help="studentt, normal (losses), binomial, betabinomial or beta (accuracies); "
        "default: the law's own (studentt for losses, beta for accuracies)",
    )
    p.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="option of a law family, e.g. breaks=2 (bnsl), x=C (power_law, emergence) or "
        "floor=0.25 (emergence); values are Python literals or plain text (repeatable)",
    )
    p.add_argument("--draws", type=_count, default=1000, help="posterior draws per chain")
    p.add_argument(
        "--tune", type=_natural, default=None, help="warm-up iterations per chain (default: fit's)"
    )
    p.add_argument("--chains", type=_count, default=4, help="number of chains")
    _add_random_seed(p, None, "random seed, a whole number >= 0 (reproducible draws)")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the sampler's progress bar (default: when stderr is a terminal)",
    )
    p.add_argument("--quiet", action="store_true", help="do not print the fit's summary line")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("summary", help="parameter table of a saved fit")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument(
        "--format", choices=FORMATS, help="output format (default: --out's extension, else md)"
    )
    p.add_argument("--digits", type=_digits, default=3, help="significant digits for md/tex")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("optimal", help="compute-optimal N*, D*, D*/N* and loss for budgets")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument(
        "--compute", type=_positive_float, nargs="+", required=True, help="budgets in FLOPs"
    )
    _add_ci_prob(p)
    p.add_argument(
        "--format", choices=FORMATS, help="output format (default: --out's extension, else md)"
    )
    p.add_argument("--digits", type=_digits, default=3, help="significant digits for md/tex")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    _add_fixed_option(p)
    p.set_defaults(func=_cmd_optimal)

    p = sub.add_parser("report", help="write a Markdown/HTML report with figures into a folder")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--compute", type=_positive_float, nargs="+", help="budgets in FLOPs")
    _add_ci_prob(p)
    p.add_argument("--title", help="report heading")
    p.add_argument(
        "--dataset", help="registered dataset the runs came from (provenance and checksum)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing report's files")
    _add_fixed_option(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("predict", help="loss of planned runs: median and interval")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument(
        "--at",
        action="append",
        metavar="N=...,D=...",
        help="one planned run's inputs, e.g. N=70e9,D=1.4e12 (repeatable)",
    )
    p.add_argument("--runs", help="CSV file of planned runs (the law's input columns)")
    p.add_argument(
        "--kind",
        choices=("predictive", "mean"),
        default="predictive",
        help="predictive: a new run's observed loss (noise, drift); mean: the law's value",
    )
    _add_ci_prob(p)
    _add_random_seed(p, 0, "seed of the predictive draws, a whole number >= 0 (default 0)")
    p.add_argument(
        "--format", choices=FORMATS, help="output format (default: --out's extension, else md)"
    )
    p.add_argument("--digits", type=_digits, default=3, help="significant digits for md/tex")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("plot", help="draw one figure of a saved fit (.png, .svg or .pdf)")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument("kind", choices=PLOTS, help="which figure")
    p.add_argument("--out", required=True, help="output file: .png, .svg or .pdf")
    p.add_argument("--dpi", type=_dpi, default=150, help="resolution of a PNG (1 to 1200)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("plan", help="the one-page plan for a budget: N, D, loss, rules, next run")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument(
        "--budget", "--compute", dest="budget", type=_positive_float, required=True,
        help="training budget in FLOPs",
    )  # fmt: skip
    p.add_argument(
        "--inference-tokens", type=_non_negative_float, default=None,
        help="lifetime inference tokens (recommends the training + inference optimum)",
    )  # fmt: skip
    p.add_argument(
        "--price-per-flop", type=_non_negative_float, default=None,
        help="price of one FLOP (adds the rules' deadweight cost)",
    )  # fmt: skip
    _add_ci_prob(p)
    p.add_argument("--outcomes", type=_count, default=16,
                   help="simulated outcomes per pilot candidate (default 16)")  # fmt: skip
    _add_random_seed(p, 0, "seed of the simulations (default 0)")
    p.add_argument("--out", help="write the Markdown to this file instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("backtest", help="fit below cutoffs, score the held-out runs above")
    p.add_argument(
        "law", help="registered law name (see 'bayescale laws'); LAW1,LAW2 or a saved stack "
        "folder backtests a stack (members refitted and stacked again at each cutoff)",
    )  # fmt: skip
    p.add_argument("data", help="CSV file, one row per training run")
    p.add_argument("--split", default="C", help="column the cutoffs apply to (default C = 6ND)")
    p.add_argument(
        "--cutoff", type=_positive_float, nargs="+", required=True,
        help="cutoff(s): runs below are fitted, runs at or above predicted",
    )  # fmt: skip
    p.add_argument("--columns", help="canonical=column pairs, e.g. N=params,D=tokens,loss=val_loss")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="law family option")
    p.add_argument(
        "--stack", choices=("stacking", "pseudo-BMA", "BB-pseudo-BMA"), default=None,
        help="weights of a stack's members at each cutoff (default: stacking; a saved stack "
        "keeps its own method)",
    )  # fmt: skip
    p.add_argument("--draws", type=_count, default=1000, help="posterior draws per chain")
    p.add_argument(
        "--tune", type=_natural, default=None, help="warm-up iterations per chain (default: fit's)"
    )
    p.add_argument("--chains", type=_count, default=4, help="number of chains")
    _add_random_seed(p, 0, "random seed (default 0)")
    p.add_argument(
        "--format", choices=FORMATS, help="output format (default: --out's extension, else md)"
    )
    p.add_argument("--digits", type=_digits, default=3, help="significant digits for md/tex")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.set_defaults(func=_cmd_backtest)

    p = sub.add_parser("stack", help="average saved fits of the same runs (a stack folder)")
    p.add_argument("fits", nargs="+", help="fit files written by 'bayescale fit' (same runs)")
    p.add_argument("--out", required=True, help="output folder (member fits + stack.json)")
    p.add_argument(
        "--method", choices=("stacking", "pseudo-BMA", "BB-pseudo-BMA"), default="stacking",
        help="how LOO gives the weights (default stacking)",
    )  # fmt: skip
    p.add_argument(
        "--weights", type=_non_negative_float, nargs="+",
        help="given weights, one per fit (normalised to sum 1) instead of LOO",
    )  # fmt: skip
    p.add_argument("--names", nargs="+", help="member names, one per fit")
    p.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    p.add_argument("--digits", type=_digits, default=3, help="significant digits for md/tex")
    p.add_argument("--force", action="store_true", help="replace an existing stack")
    p.set_defaults(func=_cmd_stack)

    p = sub.add_parser("datasets", help="list the registered datasets")
    p.set_defaults(func=_cmd_datasets)
    p = sub.add_parser("laws", help="list the registered laws")
    p.set_defaults(func=_cmd_laws)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bayescale`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit code: 0 on success, 2 on bad input (with one line on stderr).

    Examples
    --------
    >>> main(["summary", "no-such-fit.nc"])  # stderr: bayescale: error: fit file not found: ...
    2
    """
    from .datasets import DatasetError

    try:
        args = build_parser().parse_args(argv)
        _resolve_format(args)
        return int(args.func(args) or 0)
    except UsageError as err:
        message = str(err)
    except (ValueError, KeyError, TypeError, FileNotFoundError, DatasetError) as err:
        message = _one_line(err)
    except OSError as err:  # e.g. an output path that cannot be written
        where = f": {err.filename}" if err.filename else ""
        message = f"{err.strerror or _one_line(err)}{where}"
    except MemoryError:  # e.g. a figure of --dpi far beyond any screen or printer
        message = "out of memory; ask for less (a smaller --dpi, fewer draws or budgets)"
    except KeyboardInterrupt:
        print("bayescale: interrupted", file=sys.stderr)
        return 130
    print(f"bayescale: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
