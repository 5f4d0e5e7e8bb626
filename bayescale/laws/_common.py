"""Small helpers shared by the built-in laws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..priors import Prior


def check_column(x: Any) -> str:
    """``x`` if it is a column name (a non-empty string); TypeError otherwise."""
    if not isinstance(x, str) or not x:
        raise TypeError(f"x must be a column name (a non-empty string), got {x!r}")
    return x


def mean_log(inputs: Mapping[str, np.ndarray], *names: str) -> dict[str, float]:
    """``{"log<name>_ref": mean(log inputs[name])}`` for each named input column."""
    return {
        f"log{n}_ref": float(np.mean(np.log(np.asarray(inputs[n], dtype=float)))) for n in names
    }


def mean_sd(values: Any) -> tuple[float, float]:
    """Mean and (population) standard deviation of ``values``; a zero spread is read as 1.0, so
    that dividing by it is always safe."""
    v = np.asarray(values, dtype=float)
    sd = float(np.std(v))
    return float(np.mean(v)), sd if sd > 0 else 1.0


def lognormal_median(median: float, sigma: float) -> Prior:
    """LogNormal prior with the given ``median`` and log-scale ``sigma``."""
    return Prior("LogNormal", mu=float(np.log(median)), sigma=sigma)


def exponent_prior(centre: float, sigma: float = 0.7) -> Prior:
    """LogNormal prior on a positive exponent with median ``centre``."""
    return lognormal_median(centre, sigma)
