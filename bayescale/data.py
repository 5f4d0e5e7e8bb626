"""Checking and shaping the runs a law is fitted to.

:func:`prepare_data` takes the user's table, applies an optional column mapping and checks every
column the law needs before any model is built. Every problem found is reported at once, naming
the column and the offending rows with their values, so nothing is silently dropped or coerced.
Runs that pass but look wrong (counts in millions or billions, counts beyond any real run,
duplicate rows, a single-valued input) are reported as warnings (:class:`DataWarning`) by
:func:`data_warnings`.
"""

from __future__ import annotations

import difflib
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .law import ScalingLaw
from .likelihoods import DOMAIN_RULES, outside_domain

__all__ = ["DataWarning", "PreparedData", "data_warnings", "prepare_data"]

_MAX_SHOWN = 8
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

#: count columns: what they count, the smallest plausible maximum (below it the column is
#: probably in millions or billions) and the largest plausible value
#: Largest mean cross-entropy per token (nats) taken as a plausible loss: a uniform guess over
#: a 1M-token vocabulary is ln(1e6) ≈ 13.8 nats.
MAX_PLAUSIBLE_LOSS = 20.0
#: Smallest plausible loss (nats/token): the lowest in the registered datasets is 0.56; a value
#: below 1e-3 is usually a scaled value (e.g. × 1e-3) or an underflow to a subnormal number.
MIN_PLAUSIBLE_LOSS = 1e-3

COUNT_COLUMNS = {
    "N": ("parameters", 1e5, 1e15),
    "D": ("tokens", 1e5, 1e17),
    "U": ("unique tokens", 1e5, 1e17),
}


class DataWarning(UserWarning):
    """Runs that pass every check of :func:`prepare_data` but look wrong: counts that seem to be
    in millions or billions, counts beyond any real training run, exact duplicate rows, or an
    input with a single value. Each message names the column or rows and says what to do."""


@dataclass(frozen=True)
class PreparedData:
    """Validated runs: the canonical columns as float arrays, plus the original table."""

    frame: pd.DataFrame
    inputs: dict[str, np.ndarray]
    y: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of runs."""
        return len(self.y)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:18]}...{text[-8:]} ({len(text)} characters)"


def _rows(index: pd.Index, values: pd.Series, mask: np.ndarray) -> str:
    labels = [lab.item() if isinstance(lab, np.generic) else lab for lab in index[mask]]
    raw = values.to_numpy()[mask]
    raw = [v.item() if isinstance(v, np.generic) else v for v in raw]
    shown = ", ".join(
        f"{lab!r} ({_short(v)})" for lab, v in zip(labels[:_MAX_SHOWN], raw, strict=False)
    )
    more = f" and {len(labels) - _MAX_SHOWN} more" if len(labels) > _MAX_SHOWN else ""
    return f"{len(labels)} row(s): {shown}{more}"


def prepare_data(
    law: ScalingLaw,
    data: pd.DataFrame | Mapping[str, Any],
    columns: Mapping[str, str] | None = None,
    *,
    n_parameters: int | None = None,
    require_output: bool = True,
    likelihood: Any = None,
    warn: bool | None = None,
) -> PreparedData:
    """Validate ``data`` for ``law`` and return the canonical arrays.

    Parameters
    ----------
    law : ScalingLaw
        The law whose inputs (and output) must be present.
    data : DataFrame or mapping of arrays
        One row per training run.
    columns : mapping, optional
        Canonical name → column in ``data``, e.g. ``{"N": "params", "loss": "val_loss"}``.
    n_parameters : int, optional
        Number of free parameters; fewer rows than this is an error.
    require_output : bool
        Whether the output column (``loss``) must be present.
    likelihood : Likelihood, optional
        The observation model; it sets the valid range of the output (positive, or a proportion
        in [0, 1]), any extra columns it needs (e.g. ``n_items``) and, through its
        ``invalid_rows`` hook, any further runs it cannot observe. Default: positive output.
    warn : bool, optional
        Emit a :class:`DataWarning` for each problem :func:`data_warnings` finds (suspicious
        units, implausible counts, duplicate rows, a single-valued input). Default: when
        ``n_parameters`` is given, i.e. for runs about to be fitted (:func:`~bayescale.fit`).

    Raises
    ------
    ValueError
        Missing or misspelt columns, non-numeric values, NaN or infinite values, non-positive
        values where the law takes logarithms, runs the likelihood cannot observe (e.g.
        accuracies that are not a whole number of correct items, accuracy × n_items, for the
        binomial likelihood), or too few rows. The message names each column and the
        offending rows.

    Examples
    --------
    >>> import pandas as pd, bayescale as bs
    >>> runs = pd.DataFrame({"N": [1e8, 1e9], "D": [2e9, 2e10], "loss": [3.1, 2.6]})
    >>> prepare_data(bs.get_law("chinchilla"), runs).inputs["N"].tolist()
    [100000000.0, 1000000000.0]
    >>> prepare_data(bs.get_law("chinchilla"), runs.assign(N=[1e8, -1.0]))
    Traceback (most recent call last):
    ...
    ValueError: invalid data for law 'chinchilla':
      - column 'N' must be > 0: 1 row(s): 1 (-1.0)
    """
    if columns is not None and (
        not isinstance(columns, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
    ):
        raise TypeError(
            "columns must be a mapping of the law's names to your column names, e.g. "
            f"{{'N': 'params', 'loss': 'val_loss'}}, got {columns!r}"
        )
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        lengths = {str(k): int(np.size(v)) for k, v in data.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"invalid data for law {law.name!r}: the columns have different lengths "
                f"{lengths}; give one value per run in every column"
            )
        shapes = {str(k): np.shape(v) for k, v in data.items() if np.ndim(v) != 1}
        if shapes:
            raise ValueError(
                f"invalid data for law {law.name!r}: every column must be a 1-D sequence of one "
                f"value per run; got shapes {shapes} (a single run is a one-row DataFrame)"
            )
        frame = pd.DataFrame(dict(data))
    else:
        raise TypeError(
            f"data must be a pandas DataFrame or a mapping of columns, got {type(data)}"
        )
    if isinstance(frame.columns, pd.MultiIndex):
        first = list(frame.columns[:3])
        raise ValueError(
            f"invalid data for law {law.name!r}: the columns are a MultiIndex of "
            f"{frame.columns.nlevels} levels ({', '.join(map(repr, first))}, ...), not one name "
            "per column; flatten them first, e.g. frame.columns = frame.columns.get_level_values"
            "(0), or frame.columns = ['_'.join(map(str, c)) for c in frame.columns] and "
            "columns={'N': ..., 'D': ..., 'loss': ...}"
        )
    if len(frame) == 0:
        raise ValueError(
            f"invalid data for law {law.name!r}: no runs (the data has 0 rows); give at least "
            "one run per free parameter, or fewer with proper priors"
        )

    mapping = dict(columns or {})
    extra_cols = list(getattr(likelihood, "extra_columns", ()))
    domain = getattr(likelihood, "output_domain", "positive")
    needed = [*law.inputs, law.output] if require_output else list(law.inputs)
    if require_output:
        needed += [c for c in extra_cols if c not in needed]
    unknown_keys = [k for k in mapping if k not in needed]
    problems: list[str] = []
    if unknown_keys:
        problems.append(
            f"column mapping names {unknown_keys}, which law {law.name!r} does not use "
            f"(it needs {needed})"
        )
    source = {name: mapping.get(name, name) for name in needed}
    shared = {c for c in source.values() if list(source.values()).count(c) > 1}
    for col in sorted(shared):
        names = [n for n, c in source.items() if c == col]
        problems.append(f"columns= maps {names} to the same column {col!r}; give each its own")
    available = [str(c) for c in frame.columns]
    glued = _glued_header(available, list(source.values()))
    if glued:
        raise ValueError(f"invalid data for law {law.name!r}: {glued}")
    for name, col in source.items():
        if col not in frame.columns:
            close = difflib.get_close_matches(col, available, n=1, cutoff=0.6)
            if not close:
                close = [c for c in available if c.lower() == col.lower()]
            hint = ""
            if close:
                guess = close[0]
                hint = f"; did you mean {guess!r}? (map it with columns={{{name!r}: {guess!r}}})"
            problems.append(
                f"missing column {col!r} (law {law.name!r} needs {needed}); "
                f"available columns: {available}{hint}"
            )
    if problems:
        raise ValueError(f"invalid data for law {law.name!r}:\n  - " + "\n  - ".join(problems))

    positive = set(law.required_positive) | set(extra_cols)
    arrays: dict[str, np.ndarray] = {}
    for name, col in source.items():
        raw = frame[col]
        if isinstance(raw, pd.DataFrame):
            problems.append(f"column {col!r} appears more than once")
            continue
        label = col if col == name else f"{col}' (as '{name}"
        if pd.api.types.is_bool_dtype(raw.dtype):  # numpy, nullable and pyarrow booleans
            problems.append(f"column '{label}' is boolean, expected numbers")
            continue
        kind = getattr(raw.dtype, "kind", "O")
        if kind in "mMc" or isinstance(raw.dtype, pd.DatetimeTZDtype | pd.PeriodDtype):
            what = "complex numbers" if kind == "c" else "dates or durations"
            problems.append(f"column '{label}' holds {what} ({raw.dtype}), expected real numbers")
            continue
        if kind == "O" and raw.map(lambda v: isinstance(v, bool | complex | np.bool_)).any():
            bad = raw.map(lambda v: isinstance(v, bool | complex | np.bool_)).to_numpy()
            problems.append(
                f"column '{label}' has booleans or complex numbers in "
                + _rows(frame.index, raw, bad)
            )
            continue
        try:
            numeric = pd.to_numeric(raw, errors="coerce")
        except OverflowError:  # whole numbers beyond a float (10**400): inf, reported below
            numeric = pd.Series([_as_float(v) for v in raw], index=raw.index, dtype=float)
        bad = numeric.isna().to_numpy() & raw.notna().to_numpy()
        if bad.any():
            problems.append(
                f"column '{label}' has non-numeric values in " + _rows(frame.index, raw, bad)
            )
        values = numeric.to_numpy(dtype=float)
        nan = np.isnan(values) & ~bad
        if nan.any():
            problems.append(
                f"column '{label}' has missing (NaN) values in " + _rows(frame.index, raw, nan)
            )
        inf = np.isinf(values)
        if inf.any():
            problems.append(
                f"column '{label}' has infinite values in " + _rows(frame.index, raw, inf)
            )
        if name in positive:
            nonpos = np.isfinite(values) & (values <= 0)
            if nonpos.any():
                problems.append(f"column '{label}' must be > 0: " + _rows(frame.index, raw, nonpos))
        if name == law.output and not (domain == "positive" and name in positive):
            outside = outside_domain(domain, values)
            if outside.any():
                problems.append(
                    f"column '{label}' must {DOMAIN_RULES[domain]}: "
                    + _rows(frame.index, raw, outside)
                )
        if name in extra_cols:
            fractional = np.isfinite(values) & (values != np.round(values))
            if fractional.any():
                problems.append(
                    f"column '{label}' must hold whole numbers: "
                    + _rows(frame.index, raw, fractional)
                )
        arrays[name] = values

    check = getattr(likelihood, "invalid_rows", None)
    if check is not None and require_output and all(k in arrays for k in (law.output, *extra_cols)):
        # runs in the output's range that the likelihood still cannot observe, e.g. the
        # binomial's accuracy × n_items that is not a whole number of correct items
        invalid = check(arrays[law.output], **{k: arrays[k] for k in extra_cols})
        if invalid is not None and np.any(invalid.mask):
            labels = {k: f"column '{source[k]}'" for k in (*extra_cols, law.output)}
            labels["output"] = labels[law.output]
            shown = pd.Series([float(f"{v:.6g}") for v in np.ravel(invalid.values)])
            problems.append(
                invalid.rule.format(**labels)
                + _rows(frame.index, shown, np.asarray(invalid.mask, dtype=bool))
            )

    if not problems and n_parameters is not None and len(frame) < n_parameters:
        problems.append(
            f"{len(frame)} rows for {n_parameters} free parameters: a fit needs at least as many "
            "runs as parameters"
        )
    if problems:
        raise ValueError(f"invalid data for law {law.name!r}:\n  - " + "\n  - ".join(problems))

    canonical = pd.DataFrame({k: arrays[k] for k in needed}, index=frame.index)
    if warn if warn is not None else n_parameters is not None:
        for message in data_warnings(law, canonical, source):
            # reported at the caller's line, outside bayescale (e.g. the bs.fit(...) call)
            warnings.warn(message, DataWarning, skip_file_prefixes=(_PACKAGE_DIR,))
    y = arrays[law.output] if require_output else np.full(len(frame), np.nan)
    return PreparedData(
        frame=canonical,
        inputs={k: arrays[k] for k in law.inputs},
        y=y,
        extra={k: arrays[k] for k in extra_cols if k in arrays},
    )


#: field separators other than the comma that a CSV file may use (what pandas reads by default)
SEPARATORS = {";": "semicolons (';')", "\t": "tabs ('\\t')", "|": "bars ('|')"}


def _glued_header(available: list[str], needed: list[str]) -> str:
    """The reason, when a column's name is several needed names joined by another separator
    (``'N;D;loss'``): the file was read as comma-separated but uses ``;``, tab or ``|``."""
    for col in available:
        for sep, shown in SEPARATORS.items():
            names = [part.strip().strip('"') for part in col.split(sep)]
            if len(names) > 1 and set(needed) & set(names) and not set(needed) <= set(available):
                literal = repr(sep)
                return (
                    f"the column {col!r} looks like a whole header line: the file was read "
                    f"as comma-separated but its fields are separated by {shown}; read it "
                    f"with pd.read_csv(path, sep={literal})"
                    + (" (and decimal=',' if its numbers use decimal commas)" if sep == ";" else "")
                    + ", or save it with commas"
                )
    return ""


def _as_float(value: Any) -> float:
    """One cell as a float: NaN for what is not a number, ±inf for numbers beyond a float."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


def _labels(index: pd.Index, mask: np.ndarray) -> str:
    labels = [lab.item() if isinstance(lab, np.generic) else lab for lab in index[mask]]
    shown = ", ".join(repr(lab) for lab in labels[:_MAX_SHOWN])
    more = f" and {len(labels) - _MAX_SHOWN} more" if len(labels) > _MAX_SHOWN else ""
    return shown + more


def data_warnings(
    law: ScalingLaw, frame: pd.DataFrame, source: Mapping[str, str] | None = None
) -> list[str]:
    """Problems of validated runs that are worth a warning but not an error.

    ``frame`` holds the canonical columns (as :attr:`PreparedData.frame`); ``source`` maps them
    to the user's column names for the messages. Looks for counts (N, D, U) whose largest value
    is below 1e5 (probably given in millions or billions), counts beyond any real run
    (N > 1e15, D or U > 1e17), exact duplicate rows and an input column with a single value
    (its parameters cannot be identified). One message per problem, naming the column or rows
    and what to do.

    Examples
    --------
    >>> import pandas as pd, bayescale as bs
    >>> runs = pd.DataFrame({"N": [0.1, 1.0, 7.0], "D": [2e9, 2e10, 2e11], "loss": [3.1, 2.6, 2.3]})
    >>> data_warnings(bs.get_law("chinchilla"), runs)  # doctest: +ELLIPSIS
    ["column 'N' (parameters) is at most 7: it looks like it is in millions or billions; ..."]
    """
    source = dict(source or {})
    messages: list[str] = []

    def label(name: str) -> str:
        col = source.get(name, name)
        return f"column '{col}'" if col == name else f"column '{col}' (as '{name}')"

    for name in law.inputs:
        if name not in COUNT_COLUMNS or name not in frame:
            continue
        what, low, high = COUNT_COLUMNS[name]
        values = frame[name].to_numpy(dtype=float)
        if values.size and np.nanmax(values) < low:
            messages.append(
                f"{label(name)} ({what}) is at most {np.nanmax(values):g}: it looks like it is "
                f"in millions or billions; give raw counts (e.g. 7e9, not 7)"
            )
        elif (values < low).any():  # some rows only: units mixed within the column
            small = values < low
            messages.append(
                f"{label(name)} ({what}) is below {low:g} in {int(small.sum())} row(s): "
                f"{_labels(frame.index, small)}, unlike the other rows; are these in millions or "
                "billions? give every row in raw counts"
            )
        beyond = values > high
        if beyond.any():
            messages.append(
                f"{label(name)} ({what}) exceeds {high:g}, beyond any real training run, in "
                f"{int(beyond.sum())} row(s): {_labels(frame.index, beyond)}; check the units "
                "and the column mapping"
            )
    if law.output == "loss" and "loss" in frame and len(frame):
        losses = frame["loss"].to_numpy(dtype=float)
        small = losses < MIN_PLAUSIBLE_LOSS
        if small.any():
            messages.append(
                f"{label('loss')} is below {MIN_PLAUSIBLE_LOSS:g} nats/token in "
                f"{int(small.sum())} row(s): {_labels(frame.index, small)}; a language-model "
                "loss this small is usually a scaled value or an underflow: give the mean "
                "cross-entropy per token in nats"
            )
        if np.nanmax(losses) > MAX_PLAUSIBLE_LOSS:
            big = losses > MAX_PLAUSIBLE_LOSS
            messages.append(
                f"{label('loss')} exceeds {MAX_PLAUSIBLE_LOSS:g} nats/token in "
                f"{int(big.sum())} row(s): {_labels(frame.index, big)}; a language-model loss "
                "this large is usually a percentage, a perplexity or bits summed over a "
                "sequence: give the mean cross-entropy per token in nats"
            )
    if len(frame) > 1:
        for name in law.inputs:
            if name in frame and frame[name].nunique(dropna=True) == 1:
                messages.append(
                    f"{label(name)} has a single value ({frame[name].iloc[0]:g}) in all "
                    f"{len(frame)} runs: the law's parameters tied to {name} cannot be "
                    f"identified; add runs at other values of {name} or fix those parameters "
                    "with Prior.fixed"
                )
        output = law.output
        if output in frame and frame[output].nunique(dropna=True) == 1:
            messages.append(
                f"{label(output)} has the same value ({frame[output].iloc[0]:g}) in all "
                f"{len(frame)} runs: there is nothing for the law to fit; check the column "
                "mapping (columns=) and that the runs' results were read"
            )
        dup = frame.duplicated(keep=False).to_numpy()
        if dup.any():
            groups = frame[dup].groupby(list(frame.columns), sort=False).groups
            shown = "; ".join(
                " = ".join(repr(lab.item() if isinstance(lab, np.generic) else lab) for lab in rows)
                for rows in list(groups.values())[:_MAX_SHOWN]
            )
            more = f" and {len(groups) - _MAX_SHOWN} more" if len(groups) > _MAX_SHOWN else ""
            messages.append(
                f"{int(dup.sum())} rows are exact duplicates of another row (every column "
                f"equal): rows {shown}{more}; drop the copies, or keep them only if they are "
                "truly repeated runs"
            )
    return messages
