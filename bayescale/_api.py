"""The public API's shared vocabulary and its deprecation shim.

bayescale speaks one dialect (``tests/test_vocabulary.py`` enforces it on every public
function, the functions of ``bs.plots``, ``bs.testing`` and ``bs.emergence`` and the methods
of the result classes):

- ``random_seed`` for every seed;
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

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["CI_PROB", "deprecated_args", "result_html"]

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
                    )
            return func(*args, **kwargs)

        wrapper.__deprecated_args__ = {  # type: ignore[attr-defined]
            "renamed": renamed,
            "positional": positional,
            "into": into,
        }
        return wrapper  # type: ignore[return-value]

    return decorate
