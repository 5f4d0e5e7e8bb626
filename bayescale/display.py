"""Numbers as a person reads them: 70.2B parameters, 1.36T tokens, 5.88e23 FLOPs.

Every place a person reads a number (``Fit.__repr__``/``_repr_html_``/``__str__``, the report,
the command line, Markdown/LaTeX/HTML tables, tick labels) goes through this module; CSV, JSON
and DataFrames keep every digit.

- :func:`number` — a plain number with 3 significant digits (``0.348``, ``2085``, ``1.2e-05``);
- :func:`count` — a count with a K/M/B/T suffix (``70.2B``), with its unit when given;
- :func:`flops` — compute in scientific notation (``5.88e23 FLOPs``);
- :func:`human` — one of the above chosen by the quantity's name (``N``, ``D``, ``C``, ...);
- :func:`interval` — ``median [lo, hi]`` in the same style;
- :class:`HumanFormatter` / :func:`human_log_axis` — the same on matplotlib axes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "DIGITS",
    "HumanFormatter",
    "cell",
    "count",
    "flops",
    "human",
    "human_log_axis",
    "interval",
    "number",
    "prior_text",
    "quantity_of",
]

#: significant digits of every number shown to a person
DIGITS = 3

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))

#: what each canonical quantity is: a count (with its unit) or compute
QUANTITIES: dict[str, tuple[str, str]] = {
    "N": ("count", "parameters"),
    "N_opt": ("count", "parameters"),
    "D": ("count", "tokens"),
    "D_opt": ("count", "tokens"),
    "U": ("count", "tokens"),
    "C": ("flops", "FLOPs"),
    "compute": ("flops", "FLOPs"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _sci(value: float, digits: int) -> str:
    """``5.88e23`` (no ``+``, no leading zeros in the exponent)."""
    mant, _, exp = f"{value:.{digits - 1}e}".partition("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def number(value: Any, digits: int = DIGITS) -> str:
    """``value`` with ``digits`` significant digits (text passes through; NaN/inf as "–"/"∞").

    Whole digits are never dropped below 1e6 (``2085``, not ``2.09e3``); beyond 1e6 or below
    1e-3 the number is written in scientific notation.

    Examples
    --------
    >>> number(0.347512), number(2085.43), number(1.694), number(3.2e-5), number(5.88e23)
    ('0.348', '2085', '1.69', '3.2e-5', '5.88e23')
    >>> number(float("nan")), number(-float("inf")), number("ok"), number(12)
    ('–', '−∞', 'ok', '12')
    """
    if not _is_number(value):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == 0:
        return "0"
    mag = abs(value)
    if mag >= 1e6 or mag < 1e-3:
        return _sci(value, digits)
    whole = math.floor(math.log10(mag)) + 1
    text = f"{value:.{max(digits, whole)}g}"
    if "e" in text:  # rounding up across a power of ten (999.7 -> 1e+03)
        text = f"{round(value):d}" if mag >= 1 else _sci(value, digits)
    return text


def count(value: Any, unit: str = "", digits: int = DIGITS) -> str:
    """A count with a K/M/B/T suffix: ``70.2B parameters``, ``1.36T tokens``.

    Counts of 1e15 and beyond are written in scientific notation.

    Examples
    --------
    >>> count(70.2e9, "parameters"), count(1.36e12, "tokens"), count(999.6e6), count(512)
    ('70.2B parameters', '1.36T tokens', '1B', '512')
    >>> count(4.2e16, "tokens")
    '4.2e16 tokens'
    """
    if not _is_number(value) or not math.isfinite(float(value)):
        text = number(value, digits)
    else:
        value = float(value)
        mag = abs(value)
        text = None
        if mag < 1e15:
            for scale, suffix in _SUFFIXES:
                # rounding decides the suffix: 999.6M is shown as 1B
                if float(f"{mag / scale:.{digits}g}") >= 1:
                    text = f"{float(f'{value / scale:.{digits}g}'):g}{suffix}"
                    break
        if text is None:
            text = number(value, digits)
    return f"{text} {unit}" if unit else text


def flops(value: Any, digits: int = DIGITS, unit: bool = True) -> str:
    """Compute in scientific notation: ``5.88e23 FLOPs``.

    Examples
    --------
    >>> flops(5.88e23), flops(1e21, unit=False)
    ('5.88e23 FLOPs', '1e21')
    """
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) == 0:
        text = number(value, digits)
    else:
        text = _sci(float(value), digits)
    return f"{text} FLOPs" if unit else text


def quantity_of(name: str) -> tuple[str, str] | None:
    """``(kind, unit)`` of a quantity's name (``"N"``, ``"D_opt"``, ``"compute"``), else None.

    Examples
    --------
    >>> quantity_of("N_opt"), quantity_of("alpha")
    (('count', 'parameters'), None)
    """
    return QUANTITIES.get(name)


def human(value: Any, name: str | None = None, *, unit: bool = True, digits: int = DIGITS) -> str:
    """``value`` written for a person as the quantity ``name`` (``N``, ``D``, ``C``, ...).

    Examples
    --------
    >>> human(7.02e10, "N"), human(1.4e12, "D", unit=False), human(5.88e23, "C"), human(0.34, "a")
    ('70.2B parameters', '1.4T', '5.88e23 FLOPs', '0.34')
    """
    what = quantity_of(name) if name else None
    if what is None:
        return number(value, digits)
    kind, u = what
    if kind == "flops":
        return flops(value, digits, unit=unit)
    return count(value, u if unit else "", digits)


def interval(mid: Any, lo: Any, hi: Any, name: str | None = None, *, digits: int = DIGITS) -> str:
    """``median [lo, hi]`` in the style of :func:`human` (the unit once, at the end).

    Examples
    --------
    >>> interval(70.2e9, 52e9, 95.3e9, "N")
    '70.2B [52B, 95.3B] parameters'
    >>> interval(0.348, 0.31, 0.39)
    '0.348 [0.31, 0.39]'
    """
    parts = [human(v, name, unit=False, digits=digits) for v in (mid, lo, hi)]
    what = quantity_of(name) if name else None
    tail = f" {what[1]}" if what else ""
    return f"{parts[0]} [{parts[1]}, {parts[2]}]{tail}"


def _base(column: str) -> str:
    for tail in ("_median", "_mean", "_lo", "_hi"):
        head, sep, rest = column.rpartition(tail)
        if sep and (not rest or rest.replace(".", "").isdigit()):
            return head
    return column


def cell(value: Any, column: Any = None, digits: int = DIGITS) -> str:
    """A table cell for reading: by its column, ESS as whole numbers, R-hat to 3 decimals,
    counts with K/M/B/T (``N_opt_median``: ``70.2B``), compute as ``1e23``, else
    :func:`number`.

    Examples
    --------
    >>> cell(2084.6, "ess_bulk"), cell(1.00123, "r_hat"), cell(7.02e10, "N_opt_lo80")
    ('2085', '1.001', '70.2B')
    >>> cell(0.34751, "mean"), cell(1e22, "compute")
    ('0.348', '1e22')
    """
    if not _is_number(value) or not math.isfinite(float(value)):
        return number(value, digits)
    col = str(column) if column is not None else ""
    if col.startswith("ess"):
        return f"{float(value):.0f}"
    if col == "r_hat":
        return f"{float(value):.3f}"
    if col:
        return human(value, _base(col), unit=False, digits=digits)
    return number(value, digits)


GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lam": "λ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "zeta": "ζ",
}

#: distributions whose ``mu`` is the log of the median (written ``μ=log 0.3``)
_LOG_LOCATION = frozenset({"LogNormal"})


def _param_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_param_value(v) for v in value) + "]"
    return number(value)


def prior_text(name: str, prior: Any) -> str:
    """A prior in plain notation: ``α ~ LogNormal(μ=log 0.3, σ=0.7)``, ``β = 0.28 (fixed)``.

    Examples
    --------
    >>> import math
    >>> from bayescale import Prior
    >>> prior_text("alpha", Prior("LogNormal", mu=math.log(0.3), sigma=0.7))
    'α ~ LogNormal(μ=log 0.3, σ=0.7)'
    >>> prior_text("log_E", Prior("Normal", mu=0.5, sigma=1.0))
    'log_E ~ Normal(μ=0.5, σ=1)'
    >>> prior_text("beta", Prior.fixed(0.28))
    'β = 0.28 (fixed)'
    """
    label = GREEK.get(name, name)
    params = dict(getattr(prior, "params", {}))
    if getattr(prior, "is_fixed", False):
        return f"{label} = {number(params.get('value'))} (fixed)"
    parts = []
    for key, value in params.items():
        key_text = GREEK.get(key, key)
        if key == "mu" and prior.dist in _LOG_LOCATION and _is_number(value):
            parts.append(f"{key_text}=log {number(math.exp(float(value)))}")
        else:
            parts.append(f"{key_text}={_param_value(value)}")
    return f"{label} ~ {prior.dist}({', '.join(parts)})"


# ---------------------------------------------------------------------------- matplotlib
def _tick_text(value: float, kind: str) -> str:
    if kind == "count":
        return count(value)
    if kind == "flops":
        return flops(value, unit=False)
    return number(value)


class HumanFormatter:
    """Tick labels in :func:`human` style: ``100M``, ``1B`` for counts, ``1e21`` for compute.

    ``kind`` is ``"count"``, ``"flops"`` or ``"number"``. With ``subs`` (mantissas such as
    ``(2, 5)``) only ticks at those multiples of a power of ten are labelled (minor ticks).
    A plain callable ``(x, pos) -> str``: matplotlib's ``set_major_formatter`` wraps it in a
    ``FuncFormatter``, so importing bayescale does not import matplotlib.

    Examples
    --------
    >>> f = HumanFormatter("count")
    >>> f(7e10), f(1e12), HumanFormatter("flops")(1e23), HumanFormatter("number")(2.5)
    ('70B', '1T', '1e23', '2.5')
    """

    def __init__(self, kind: str = "number", subs: tuple[float, ...] | None = None) -> None:
        if kind not in ("count", "flops", "number"):
            raise ValueError(f"kind must be 'count', 'flops' or 'number', got {kind!r}")
        self.kind = kind
        self.subs = subs

    def __call__(self, x: float, pos: int | None = None) -> str:
        if not np.isfinite(x) or (x <= 0 and self.kind != "number"):
            return ""
        if self.subs is not None and x > 0:
            mant = x / 10 ** math.floor(math.log10(x) + 1e-9)
            if not any(abs(mant - s) < 1e-6 * s for s in self.subs):
                return ""
        return _tick_text(float(x), self.kind)


def human_log_axis(axis: Any, kind: str = "number") -> None:
    """Human tick labels on a log ``axis``; intermediate labels where it spans ≤ 2 decades.

    Call after the data (and limits) are set. Beyond 2.5 decades the powers of ten are
    labelled; from one to 2.5 decades 1, 2 and 5 times each power of ten; below one decade
    about five evenly spaced round numbers — so at least three ticks carry a label.
    """
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

    axes = axis.axes
    # the limits, autoscaled to the data drawn so far (get_*lim settles a pending autoscale)
    lim = axes.get_xlim() if axis is axes.xaxis else axes.get_ylim()
    lo, hi = sorted(lim)
    axis.set_major_formatter(HumanFormatter(kind))
    axis.set_minor_formatter(NullFormatter())
    if not (lo > 0 and np.isfinite(hi)):
        return
    decades = math.log10(hi / lo)
    if decades < 1:
        axis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    elif decades <= 2.5:
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
