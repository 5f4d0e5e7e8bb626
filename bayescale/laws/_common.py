"""Small helpers shared by the built-in laws."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

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


def log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` values spread log-uniformly between ``lo`` and ``hi``."""
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def nd_design(n: int, seed: int) -> pd.DataFrame:
    """An isoFLOP-style design in N, D (and C = 6ND): :func:`bayescale.testing.chinchilla_design`
    with a clean index."""
    from ..testing import chinchilla_design

    return chinchilla_design(n, random_seed=seed).reset_index(drop=True)


def column_design(x: str, lo: float, hi: float) -> Callable[[int, int], pd.DataFrame]:
    """An example design of one column ``x`` spread log-uniformly over [lo, hi]."""

    def design(n: int, seed: int) -> pd.DataFrame:
        return pd.DataFrame({x: np.sort(log_uniform(np.random.default_rng(seed), lo, hi, n))})

    return design
