"""What the ``bayescale`` command's parts share (re-exported by :mod:`bayescale.cli`): the exit code
and ``UsageError``, the argument parser class and shared options, parsers of option text and
argument types, reading runs and fits, output checks (``--force``) and writing results.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from ._api import CI_PROB

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
    """argparse with our errors, negative numbers as values, and no abbreviated options: a
    prefix such as ``--draw`` is refused with the option it may mean (``--draws``), so a typo
    never silently sets another option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> NoReturn:
        hint = ""
        if message.startswith("unrecognized arguments:"):
            import difflib

            known = self._option_names()
            for word in message.split(":", 1)[1].split():
                if word.startswith("--"):
                    close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1)
                    if close:
                        hint = f"; did you mean {close[0]}?"
                        break
        raise UsageError(f"{message}{hint} (see '{self.prog} --help')")

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        self._argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
        return super().parse_args(args, namespace)

    def _option_names(self) -> list[str]:
        """This parser's options, and those of the command named in the arguments."""
        names = [o for a in self._actions for o in a.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                command = next((w for w in getattr(self, "_argv", []) if w in action.choices), None)
                if command is not None:
                    names += action.choices[command]._option_names()
        return names


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

    from .data import SEPARATORS

    kind = _binary_kind(path)
    if kind:
        raise UsageError(f"cannot read {path} as a CSV file of runs: it is {kind}")
    _check_text(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = [c.strip() for c in next(csv.reader(handle), [])]
    except (UnicodeDecodeError, csv.Error):
        header = []
    for sep, shown in SEPARATORS.items():
        if len(header) == 1 and len(header[0].split(sep)) > 1:
            raise UsageError(
                f"{path} separates its fields by {shown} (its header is {header[0]!r}), but "
                "bayescale reads comma-separated files: save it with commas, e.g. python -c "
                f"\"import pandas as pd; pd.read_csv('{Path(path).name}', sep={sep!r}"
                + (", decimal=','" if sep == ";" else "")
                + ").to_csv('runs.csv', index=False)\""
                + (" (decimal=',' reads decimal commas)" if sep == ";" else "")
            )
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise UsageError(
            f"{path}: the header names {', '.join(map(repr, twice))} more than once; "
            "keep one column of each name"
        )
    try:
        frame = pd.read_csv(path)
        if frame.empty:
            raise UsageError(
                f"{path} has a header ({', '.join(map(str, frame.columns[:6]))}) but no runs "
                "(0 rows): give one row per run"
            )
        return frame
    except UnicodeDecodeError as err:
        raise UsageError(
            f"cannot read {path} as a UTF-8 CSV file ({err.reason} at byte {err.start}); "
            "save it as UTF-8 text"
        ) from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"data file {path} is empty") from None
    except pd.errors.ParserError as err:
        raise UsageError(f"cannot parse {path} as CSV: {_one_line(err)}") from None


def _check_text(path: str) -> None:
    """A CSV file of runs is UTF-8 text without NUL bytes: the first bad byte is named by its
    line, with how to convert a Latin-1 / Windows-1252 file (compressed files are read by
    pandas, which reports their problems)."""
    if Path(path).suffix.lower() in (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar"):
        return
    raw = Path(path).read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise UsageError(
            f"cannot read {path} as a CSV file of runs: it holds a NUL byte (line "
            f"{raw.count(b'\n', 0, nul) + 1}, byte {nul}), so it is not plain text (a binary "
            "file, or text in UTF-16/32?); save it as UTF-8 CSV"
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise UsageError(
            f"cannot read {path} as a UTF-8 CSV file: byte 0x{raw[err.start]:02x} on line "
            f"{line} (byte {err.start}) is not UTF-8 ({err.reason}); if the file is Latin-1 or "
            'Windows-1252, convert it: python -c "import pandas as pd; '
            f"pd.read_csv('{Path(path).name}', encoding='latin-1').to_csv('runs.csv', "
            'index=False)"'
        ) from None


#: the first bytes of files that are often given a .csv name by mistake, and what they are
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed: name it .csv.gz (read as such) or decompress it (gunzip)"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook?): export the sheet as CSV"),
    (b"\x89HDF", "an HDF5/NetCDF file (a saved fit?), not text"),
    (b"CDF\x01", "a NetCDF file (a saved fit?), not text"),
    (b"\xff\xfe", "UTF-16 text: save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text: save it as UTF-8"),
    (b"BZh", "bzip2-compressed: name it .csv.bz2 or decompress it"),
    (b"\xfd7zXZ", "xz-compressed: name it .csv.xz or decompress it"),
    (b"PAR1", "a Parquet file: read it with pandas.read_parquet and save it as CSV"),
)


def _binary_kind(path: str) -> str:
    """What the file is when its first bytes say it is not CSV text ('' otherwise); a name
    ending in .gz, .zip, .bz2 or .xz is read (decompressed) by pandas."""
    if Path(path).suffix.lower() in (".gz", ".zip", ".bz2", ".xz", ".zst"):
        return ""
    with open(path, "rb") as handle:
        head = handle.read(8)
    return next((what for magic, what in _MAGIC if head.startswith(magic)), "")


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
    from .io_atomic import check_folder, check_target

    try:  # read-only files and folders (by their bits for root), as every write checks them
        if what == "file":
            check_target(path)
        else:
            check_folder(path, "the output folder")
    except OSError as err:
        raise UsageError(str(err)) from None


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
