"""The public API's shared vocabulary and its deprecation shim.

bayescale speaks one dialect (``tests/test_vocabulary.py`` enforces it on every public
function, the functions of ``bs.plots``, ``bs.testing`` and ``bs.emergence`` and the methods
of the result classes):

- ``random_seed`` for every seed, with one default, ``None``: fresh entropy from the operating
  system (numpy's, PyMC's and ArviZ's convention), a different result each call; a whole
  number repeats a result exactly (:func:`resolve_seed` draws the number a function records
  or hands on, e.g. ``Fit.random_seed``). The one exception is :mod:`bayescale.testing`, whose
  fixtures (``simulate_chinchilla``, ``pinned_fit``, ...) default to ``0``: they make known
  data for tests and examples;
- ``ci_prob`` for the probability of one central interval, ``ci_probs`` for several (ArviZ
  1.x's names), with the one default :data:`CI_PROB`;
- ``fixed={"U": 25e9}`` (a mapping) for law inputs held fixed while another is optimised;
- ``compute`` for the training budget in FLOPs, as a parameter and as a dimension;
- ``summary()`` returns a DataFrame on ``Fit`` and on every result object (``str(result)`` is
  the text report);
- every option (every parameter with a default) after the first argument is keyword-only.

Old names stay one release as aliases that warn (:class:`FutureWarning`), declared with
:func:`deprecated_args`.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["CI_PROB", "deprecated_args", "result_html"]  # check_* are internal: one place per rule

#: Default probability of every central credible interval in bayescale (``ci_prob=``).
#: ArviZ 1.x defaults to 0.89 (``rcParams["stats.ci_prob"]``) to stress that the level is a
#: convention; bayescale keeps 0.95, the level published scaling-law fits report (the cards'
#: ``ci95``), so that its intervals can be set beside theirs.
CI_PROB = 0.95

F = TypeVar("F", bound=Callable[..., Any])

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def result_html(text: str, table: Any) -> str:
    """HTML for a notebook: a result's text report, then its ``summary()`` table."""
    import html

    return f"<pre>{html.escape(text)}</pre>\n{table.to_html()}"


def check_seed(random_seed: Any) -> int | None:
    """``random_seed`` checked: None or a whole number >= 0 (not a bool, float or string).

    Examples
    --------
    >>> check_seed(3), check_seed(None)
    (3, None)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: random_seed must be a whole number >= 0 or None, got -1
    """
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, int | np.integer):
        raise TypeError(f"random_seed must be a whole number >= 0 or None, got {random_seed!r}")
    if random_seed < 0:
        raise ValueError(f"random_seed must be a whole number >= 0 or None, got {random_seed!r}")
    if random_seed >= 2**64:  # a fit records its seed as a 64-bit integer (NetCDF attribute)
        raise ValueError(f"random_seed must be below 2**64, got {random_seed!r}")
    return int(random_seed)


def check_ci_prob(ci_prob: Any, name: str = "ci_prob") -> float:
    """``ci_prob`` checked: a real number strictly between 0 and 1 (not a bool or string).

    Examples
    --------
    >>> check_ci_prob(0.9)
    0.9
    >>> check_ci_prob("0.9")
    Traceback (most recent call last):
    ...
    TypeError: ci_prob must be a number between 0 and 1 (e.g. 0.95), got '0.9'
    """
    if isinstance(ci_prob, bool | np.bool_) or not isinstance(ci_prob, int | float | np.number):
        raise TypeError(f"{name} must be a number between 0 and 1 (e.g. 0.95), got {ci_prob!r}")
    if not 0 < float(ci_prob) < 1:  # NaN fails too
        raise ValueError(f"{name} must be between 0 and 1 (e.g. 0.95), got {ci_prob!r}")
    return float(ci_prob)


def _is_text(value: Any) -> bool:
    return isinstance(value, str | bytes | np.str_ | np.bytes_)


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = 0.0,
    high: float | None = None,
    low_open: bool = True,
    high_open: bool = True,
    none: bool = False,
    example: str = "",
) -> float | None:
    """One real number (an option such as ``price_per_flop=`` or ``level=``) checked: not a
    bool, text, array or complex number; finite; within ``(low, high)`` (closed ends with
    ``low_open=False`` / ``high_open=False``; ``None`` = unbounded); None only with ``none``.

    Examples
    --------
    >>> check_number(0.5, "level", high=1.0)
    0.5
    >>> check_number("1e22", "compute")
    Traceback (most recent call last):
    ...
    TypeError: compute must be one number > 0, got text '1e22'; write 1e22, not '1e22'
    """
    lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
    hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
    rule = " and ".join(r for r in (lo, hi) if r)
    what = f"one number {rule}" if rule else "one finite number"
    what += f" (e.g. {example})" if example else ""
    if value is None:
        if none:
            return None
        raise TypeError(f"{name} must be {what}, got None")
    if _is_text(value):
        raise TypeError(
            f"{name} must be {what}, got text {value!r}; write {value!s}, not {value!r}"
        )
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be {what}, got the boolean {value!r}")
    if hasattr(value, "shape") and np.ndim(value) != 0:  # an array, Series or DataArray
        raise TypeError(f"{name} must be {what}, got an array of shape {np.shape(value)}")
    if not hasattr(value, "shape") and not isinstance(value, int | float | complex | np.number):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}: {value!r}")
    if np.iscomplexobj(value):
        raise TypeError(f"{name} must be a real number, got the complex number {value!r}")
    try:
        x = float(np.asarray(value).item())
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {what}, got {value!r}") from None
    except OverflowError:  # a whole number beyond a float (10**400)
        raise ValueError(f"{name} must be {what}, got {_short(value)}, beyond a float") from None
    if x != 0 and abs(x) < np.finfo(float).tiny:
        raise ValueError(
            f"{name} must be {what}, got the subnormal number {value!r} (below 2.2e-308), "
            "which underflows to 0 in any product"
        )
    bad = not np.isfinite(x)
    if low is not None:
        bad |= x <= low if low_open else x < low
    if high is not None:
        bad |= x >= high if high_open else x > high
    if bad:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return x


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (``draws=``, ``chains=``, ``n_outcomes=``): not a bool,
    float or text.

    Examples
    --------
    >>> check_count(4, "chains")
    4
    >>> check_count(2.5, "draws")
    Traceback (most recent call last):
    ...
    TypeError: draws must be a whole number >= 1, got 2.5
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (``progressbar=``, ``warn=``, ``refit=``): ``"no"`` is not False.

    Examples
    --------
    >>> check_flag("no", "warn")
    Traceback (most recent call last):
    ...
    TypeError: warn must be True or False, got 'no'
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 400-digit number stays readable)."""
    text = repr(value)
    return (
        text
        if len(text) <= limit
        else f"{text[: limit // 2]}...{text[-10:]} ({len(text)} characters)"
    )


def check_values(
    name: str, values: Any, *, allow_zero: bool = False, positive: bool = True
) -> np.ndarray:
    """``values`` (a number or a 1-D sequence: list, array, Series, DataArray) as a 1-D float
    array, every value finite and > 0 (>= 0 with ``allow_zero``; any finite value with
    ``positive=False``); text, booleans, mappings, sets, generators and 2-D arrays are refused
    with an error naming ``name``.

    Examples
    --------
    >>> check_values("compute", [1e21, 1e22]).tolist()
    [1e+21, 1e+22]
    >>> check_values("compute", {1e22})
    Traceback (most recent call last):
    ...
    TypeError: compute must be a number or a 1-D sequence of numbers, got set: {1e+22}
    """
    if values is None:
        raise TypeError(f"{name} is None; give a number or a 1-D sequence of numbers")
    if (
        isinstance(values, Mapping | set | frozenset)
        or inspect.isgenerator(values)
        or (hasattr(values, "__iter__") and hasattr(values, "__next__"))
    ):
        raise TypeError(
            f"{name} must be a number or a 1-D sequence of numbers, got "
            f"{type(values).__name__}: {values!r}"
        )
    if _is_text(values):
        raise TypeError(f"{name} must be numbers, got text: {values!r}; give 1e22, not '1e22'")
    if np.ma.isMaskedArray(values) and np.ma.is_masked(values):
        hidden = np.flatnonzero(np.ma.getmaskarray(values)).tolist()
        raise ValueError(
            f"{name} is a masked array with masked entries at positions {hidden}: numpy would "
            f"use the hidden values; give only the values meant ({name}.compressed())"
        )
    raw = np.asarray(values, dtype=object)
    if any(isinstance(v, bool | np.bool_) for v in raw.ravel()):
        raise TypeError(f"{name} must be numbers, got a boolean: {values!r}")
    if any(_is_text(v) for v in raw.ravel()):
        raise TypeError(f"{name} must be numbers, got text: {values!r}; give 1e22, not '1e22'")
    if any(isinstance(v, complex | np.complexfloating) for v in raw.ravel()):
        raise TypeError(f"{name} must be real numbers, got a complex number: {values!r}")
    kind = getattr(getattr(values, "dtype", None), "kind", "")
    if kind in ("m", "M") or any(
        isinstance(v, datetime.date | datetime.timedelta | np.datetime64 | np.timedelta64)
        for v in raw.ravel()
    ):  # numpy would read dates and durations as counts of days or microseconds
        raise TypeError(f"{name} must be numbers, got dates or durations: {_short(values)}")
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a number or a 1-D sequence of numbers, got {values!r}"
        ) from None
    except OverflowError:  # a whole number beyond a float (10**400)
        raise ValueError(
            f"{name} must be finite numbers, got {_short(values)}: a value beyond a float (1.8e308)"
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; give at least one value")
    if not positive:
        bad, rule = ~np.isfinite(arr), "finite"
    else:
        # a subnormal value (below 2.2e-308) has lost digits and underflows to 0 in a product
        subnormal = (arr != 0) & (np.abs(arr) < np.finfo(float).tiny)
        bad = ~np.isfinite(arr) | (arr < 0) | subnormal | ((arr == 0) & (not allow_zero))
        rule = f"finite and {'>=' if allow_zero else '>'} 0" + (
            " (a subnormal value below 2.2e-308 underflows to 0)" if subnormal.any() else ""
        )
    if bad.any():
        raise ValueError(
            f"{name} must be {rule}; bad values at positions "
            f"{np.flatnonzero(bad).tolist()}: {arr[bad].tolist()}"
        )
    return arr


def check_path(path: Any, name: str = "path") -> Any:
    """A file or folder name: a non-empty ``str`` or ``os.PathLike`` (not bytes, None, a number).

    Examples
    --------
    >>> check_path(None)
    Traceback (most recent call last):
    ...
    TypeError: path must be a file name (str or pathlib.Path), got None
    """
    import os
    from pathlib import Path

    if not isinstance(path, str | os.PathLike) or isinstance(os.fspath(path), bytes):
        raise TypeError(f"{name} must be a file name (str or pathlib.Path), got {path!r}")
    text = os.fspath(path)
    if not text.strip():
        raise ValueError(f"{name} is empty; give a file name")
    if "\0" in text:
        raise ValueError(f"{name} contains a NUL character (\\0), which no file name may: {path!r}")
    limit = 255  # bytes in one name, on every common file system (NAME_MAX)
    long = [part for part in Path(text).parts if len(os.fsencode(part)) > limit]
    if long:
        raise ValueError(
            f"{name}: the name {long[0][:40]!r}... is {len(os.fsencode(long[0]))} bytes long; "
            f"file systems allow at most {limit} bytes per name"
        )
    return Path(path)


def check_frame(data: Any, name: str, columns: Sequence[str] = ()) -> Any:
    """A pandas DataFrame holding ``columns`` (each named once): a TypeError naming ``name``
    for anything else, a ValueError naming the missing columns.

    Examples
    --------
    >>> import pandas as pd
    >>> check_frame(pd.DataFrame({"N": [1.0]}), "runs", ["N", "loss"])
    Traceback (most recent call last):
    ...
    ValueError: runs is missing column(s) ['loss']; its columns are ['N']
    """
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; "
            f"its columns are {[str(c) for c in data.columns]}"
        )
    twice = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if twice:
        raise ValueError(f"{name} names column(s) {twice} more than once; drop the copies")
    return data


def check_ax(ax: Any) -> Any:
    """``ax=`` of a figure: None or a matplotlib Axes (anything with ``.figure`` and ``.plot``).

    Examples
    --------
    >>> check_ax("left")
    Traceback (most recent call last):
    ...
    TypeError: ax must be a matplotlib Axes (e.g. fig, ax = plt.subplots()) or None, got 'left'
    """
    if ax is not None and not (hasattr(ax, "figure") and hasattr(ax, "plot")):
        raise TypeError(
            f"ax must be a matplotlib Axes (e.g. fig, ax = plt.subplots()) or None, got {ax!r}"
        )
    return ax


def resolve_seed(random_seed: Any) -> int:
    """``random_seed`` as the number to record or hand on: a checked whole number as given,
    or for ``None`` one drawn from the operating system's entropy (:func:`check_seed`).

    Examples
    --------
    >>> resolve_seed(7)
    7
    >>> 0 <= resolve_seed(None) < 2**32
    True
    """
    if random_seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])  # 32 bits: room for seed + i
    return check_seed(random_seed)  # type: ignore[return-value]


def make_rng(random_seed: Any) -> np.random.Generator:
    """``numpy.random.default_rng`` of a checked seed (:func:`check_seed`); a Generator passes."""
    if isinstance(random_seed, np.random.Generator):
        return random_seed
    return np.random.default_rng(check_seed(random_seed))


def _warn(message: str) -> None:
    warnings.warn(
        message + " (deprecated in bayescale 1.0; the old form will be removed in 1.1)",
        FutureWarning,
        stacklevel=3,
    )


#: Keywords of the public vocabulary (a misspelling of one is named even where the function
#: called does not take it)
VOCABULARY = ("ci_prob", "ci_probs", "random_seed", "compute", "fixed", "group")


def keyword_hint(names: Sequence[str], known: Sequence[str], where: str = "") -> str:
    """A hint for each of ``names`` (taken for held inputs) close to a keyword: one of
    ``known`` (the function's own: ``"did you mean ci_prob="``) or of :data:`VOCABULARY` that
    ``where`` (the function) does not take; ``""`` when none is close.

    Examples
    --------
    >>> keyword_hint(["ci_prb", "U"], ["compute", "ci_prob", "fixed"])
    '; did you mean ci_prob= (for ci_prb=)?'
    >>> keyword_hint(["ci_prb"], ["compute", "fixed"], "compute_optimal()")
    '; ci_prb= looks like ci_prob=, which compute_optimal() does not take'
    """
    import difflib

    own = [str(k) for k in known]
    other = [k for k in VOCABULARY if k not in own]
    pairs, others = [], []
    for name in names:
        close = difflib.get_close_matches(str(name), own, n=1, cutoff=0.75)
        if close:
            pairs.append(f"{close[0]}= (for {name}=)")
            continue
        close = difflib.get_close_matches(str(name), other, n=1, cutoff=0.75)
        if close:
            others.append(f"{name}= looks like {close[0]}=")
    hint = f"; did you mean {', '.join(pairs)}?" if pairs else ""
    if others:
        hint += f"; {', '.join(others)}, which {where or 'this function'} does not take"
    return hint


def deprecated_args(
    *,
    renamed: Mapping[str, str] | None = None,
    positional: Sequence[str] = (),
    into: str | None = None,
) -> Callable[[F], F]:
    """Accept a function's old calling forms for one release, with a :class:`FutureWarning`.

    The decorated function keeps its new signature (``inspect.signature`` shows it); the
    wrapper translates old calls before the call.

    Parameters
    ----------
    renamed : mapping, optional
        Old keyword name → new keyword name (``{"seed": "random_seed"}``).
    positional : sequence of str
        Keyword-only parameters that used to be positional, in their old order: extra
        positional arguments are given to them.
    into : str, optional
        A mapping parameter (``"fixed"``) that takes any keyword argument the signature does
        not name: the old ``**fixed`` form.

    Examples
    --------
    >>> import warnings
    >>> @deprecated_args(renamed={"seed": "random_seed"}, positional=("random_seed",))
    ... def draw(n, *, random_seed=0):
    ...     return n, random_seed
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     draw(3, seed=7), draw(3, 8)
    ((3, 7), (3, 8))
    >>> [type(w.message).__name__ for w in caught]
    ['FutureWarning', 'FutureWarning']
    >>> str(inspect.signature(draw))
    '(n, *, random_seed=0)'
    """
    renamed = dict(renamed or {})
    positional = tuple(positional)

    def decorate(func: F) -> F:
        params = inspect.signature(func).parameters
        name = func.__qualname__
        n_positional = sum(p.kind in _POSITIONAL for p in params.values())
        for old, new in renamed.items():
            if old in params or new not in params:
                raise TypeError(f"{name}: cannot alias {old!r} to {new!r}")
        for p in positional:
            if params.get(p) is None or params[p].kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"{name}: {p!r} is not a keyword-only parameter")
        if into is not None and into not in params:
            raise TypeError(f"{name}: no parameter {into!r}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if positional and len(args) > n_positional:
                extra = args[n_positional:]
                if len(extra) <= len(positional):
                    given = positional[: len(extra)]
                    for key, value in zip(given, extra, strict=True):
                        if key in kwargs:
                            raise TypeError(f"{name}() got multiple values for argument {key!r}")
                        kwargs[key] = value
                    args = args[:n_positional]
                    _warn(
                        f"{name}(): passing {', '.join(given)} by position is deprecated; "
                        f"write {', '.join(f'{k}=...' for k in given)}"
                    )
            for old, new in renamed.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}() got both {old!r} (deprecated) and {new!r}")
                    kwargs[new] = kwargs.pop(old)
                    _warn(f"{name}(): {old}= is deprecated, use {new}=")
            if into is not None:
                # random_seed is never a law input: it goes on (a pooled fit's new group)
                unknown = [k for k in kwargs if k not in params and k != "random_seed"]
                if unknown:
                    held = dict(kwargs.get(into) or {})
                    for k in unknown:
                        if k in held:
                            raise TypeError(f"{name}() got {k!r} twice (as {k}= and in {into}=)")
                        held[k] = kwargs.pop(k)
                    kwargs[into] = held
                    _warn(
                        f"{name}(): passing held inputs as keywords ({', '.join(unknown)}) is "
                        f"deprecated; write {into}={{{', '.join(f'{k!r}: ...' for k in unknown)}}}"
                        + keyword_hint(unknown, [k for k in params if k != into], f"{name}()")
                    )
            return func(*args, **kwargs)

        wrapper.__deprecated_args__ = {  # type: ignore[attr-defined]
            "renamed": renamed,
            "positional": positional,
            "into": into,
        }
        return wrapper  # type: ignore[return-value]

    return decorate
