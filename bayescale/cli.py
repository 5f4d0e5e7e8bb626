"""The ``bayescale`` command: fit, summarise, plan and report from the shell.

::

    bayescale fit chinchilla runs.csv --out fit.nc [--columns N=params,D=tokens,loss=val_loss]
              [--prior alpha='Normal(mu=0.3, sigma=0.1)'] [--draws 1000 --tune 1000 --chains 4]
              [--random-seed 0] [--likelihood binomial] [--option breaks=2 --option x=C] [--force]
              [--group experiment [--pool alpha=shared,beta=partial_centred | --pool MODE]]
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

    bayescale datasets
    bayescale laws

Every command that reads a fit (summary, optimal, report, predict, plot, plan) also reads a
saved stack: the folder written by ``bayescale stack`` or :meth:`bayescale.StackedFit.save`.
On a pooled fit (``fit --group COLUMN``) they answer per group: ``--group LABEL`` for a fitted
group, ``--group new`` for a new group of the population, and without ``--group`` the tables
hold every group (a ``group`` column), ``report`` and ``plan`` cover every group, ``plot fit``
draws every group in one figure, and the other figures ask for ``--group``
(:mod:`bayescale.cli_groups`).
``backtest`` takes ``--group``/``--pool`` too, or a saved fit (``fit.nc``) refitted at each cutoff
with its own settings.

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
import sys
from collections.abc import Sequence

from .cli_commands import (  # noqa: F401  (re-exported)
    PLOTS,
    _backtest_law,
    _cmd_backtest,
    _cmd_datasets,
    _cmd_fit,
    _cmd_laws,
    _cmd_optimal,
    _cmd_plan,
    _cmd_plot,
    _cmd_predict,
    _cmd_report,
    _cmd_stack,
    _cmd_summary,
    _parse_point,
)
from .cli_common import (  # noqa: F401  (re-exported)
    _NEGATIVE_NUMBER,
    EXIT_BAD_INPUT,
    FORMATS,
    UsageError,
    _add_ci_prob,
    _add_fixed_option,
    _add_random_seed,
    _check_new,
    _check_writable,
    _count,
    _DeprecatedOption,
    _digits,
    _dpi,
    _emit,
    _load_fit,
    _natural,
    _non_negative_float,
    _one_line,
    _os_error,
    _parse_columns,
    _parse_fixed,
    _parse_options,
    _parse_priors,
    _Parser,
    _positive_float,
    _print_table,
    _probability,
    _read_csv,
    _resolve_format,
    _seed,
    _whole,
)

__all__ = ["main"]


def _add_group_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--group", metavar="LABEL",
        help="a pooled fit: answer for this fitted group, or 'new' for a new group of the "
        "population (default: every group)",
    )  # fmt: skip


def _add_pool_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pool", metavar="SPEC",
        help="with --group: NAME=MODE pairs (alpha=shared,beta=partial_centred) or one MODE for "
        "every parameter: shared, partial (non-centred), partial_centred, partial_auto, "
        "independent",
    )  # fmt: skip


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
    p.add_argument(
        "--group", metavar="COLUMN",
        help="pool the law's parameters over the groups of this column (a hierarchical fit)",
    )  # fmt: skip
    _add_pool_option(p)
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
    _add_group_option(p)
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
    _add_group_option(p)
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
    _add_group_option(p)
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
    _add_group_option(p)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("plot", help="draw one figure of a saved fit (.png, .svg or .pdf)")
    p.add_argument("fit", help="fit file written by 'bayescale fit'")
    p.add_argument("kind", choices=PLOTS, help="which figure")
    p.add_argument("--out", required=True, help="output file: .png, .svg or .pdf")
    p.add_argument("--dpi", type=_dpi, default=150, help="resolution of a PNG (1 to 1200)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    _add_group_option(p)
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
    _add_group_option(p)
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("backtest", help="fit below cutoffs, score the held-out runs above")
    p.add_argument(
        "law", help="registered law name (see 'bayescale laws'); LAW1,LAW2 or a saved stack "
        "folder backtests a stack (members refitted and stacked again at each cutoff); a fit file "
        "(.nc) is refitted at each cutoff with its own settings (a pooled fit: its groups)",
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
    p.add_argument(
        "--group", metavar="COLUMN",
        help="fit every cutoff pooled over the groups of this column; unseen groups are "
        "predicted as new groups",
    )  # fmt: skip
    _add_pool_option(p)
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
