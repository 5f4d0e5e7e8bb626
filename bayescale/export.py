"""Plain-text tables for reports: Markdown rendering without extra dependencies."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["format_number", "to_markdown"]


def format_number(value: object, digits: int = 4) -> str:
    """A number with ``digits`` significant digits for display (text passes through).

    Examples
    --------
    >>> format_number(2085.4312), format_number(0.000123456), format_number("n/a")
    ('2085', '0.0001235', 'n/a')
    """
    if isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool):
        if not np.isfinite(value):
            return "–"
        return f"{value:.{digits}g}"
    return str(value)


def to_markdown(frame: pd.DataFrame, *, digits: int = 4, index: bool = True) -> str:
    """Render ``frame`` as a GitHub-flavoured Markdown table (numbers rounded for display only).

    Examples
    --------
    >>> import pandas as pd
    >>> print(to_markdown(pd.DataFrame({"x": [1.23456]}, index=["a"])))
    | | x |
    |---|---|
    | a | 1.235 |
    """
    header = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in frame.iterrows():
        cells = ([str(label)] if index else []) + [format_number(v, digits) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines).replace("|  |", "| |")
