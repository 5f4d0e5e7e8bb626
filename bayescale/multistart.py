"""Starting points of a multi-start mode search, from a law's declaration.

A law whose posterior may have several modes (break positions of a broken power law, the
midpoint of an emergence curve) declares a :class:`~bayescale.law.MultiStart`: explicit partial
points and/or a number of Sobol points over a box, both in the law's *sampled* parameters.
:func:`law_starts` turns the declaration into points of the model's unconstrained space (the
flat vector NUTS runs on): every coordinate the declaration does not name keeps the model's
initial point, the named ones go through the parameter's transform (identity, log or log-odds,
the transforms PyMC gives the priors laws use). The Sobol points are scrambled with a generator
drawn from the fit's ``random_seed`` alone, so the starts — and hence the mode, the chains'
starting points and every draw — depend on the seed and nothing else.
:func:`bayescale.sampling.sample_nutpie` runs a short L-BFGS from each start, keeps the best
mode, polishes it and starts every chain there.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["MULTISTART_STREAM", "law_starts", "multistart_rng", "prior_starts"]

#: Second entropy word of the seed sequence that scrambles the Sobol starts (the chains' streams
#: are children of ``SeedSequence(seed)``; this sequence has different entropy, so it never
#: coincides with one of them).
MULTISTART_STREAM = 0x6D756C74


def multistart_rng(seed: int) -> np.random.Generator:
    """The generator that scrambles a fit's Sobol starts, a function of ``seed`` alone.

    Examples
    --------
    >>> multistart_rng(3).random() == multistart_rng(3).random()
    True
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), MULTISTART_STREAM]))


def _forward(transform: Any, value: np.ndarray, name: str) -> np.ndarray:
    """A constrained value in the unconstrained space, for the transforms laws' priors get."""
    kind = type(transform).__name__ if transform is not None else None
    value = np.asarray(value, dtype=float)
    if kind is None:
        return value
    if kind == "LogTransform":
        return np.log(value)
    if kind == "LogOddsTransform":
        return np.log(value) - np.log1p(-value)
    raise ValueError(
        f"multistart: parameter {name!r} has a {kind} transform, which a multi-start "
        "declaration cannot map; name parameters with Normal, positive or (0, 1) priors"
    )


def _layout(model: Any, compiled: Any) -> dict[str, tuple[slice, Any, tuple[int, ...]]]:
    """Free variable name → (its slice of the flat unconstrained vector, transform, shape)."""
    out = {}
    offset = 0
    value_to_rv = {model.rvs_to_values[rv].name: rv for rv in model.free_RVs}
    for value_name, shape in zip(compiled.value_names, compiled.rv_shapes, strict=True):
        rv = value_to_rv[value_name]
        size = int(np.prod(shape)) if shape else 1
        out[rv.name] = (slice(offset, offset + size), model.rvs_to_transforms.get(rv), shape)
        offset += size
    return out


def law_starts(law: Any, model: Any, compiled: Any, seed: int) -> np.ndarray:
    """The starts of ``law``'s declared multi-start search for this model, shape (k, ndim).

    Rows: the declared points first, then the Sobol points; an empty array when the law
    declares no search. A vector parameter given a number gets it in every entry.

    Examples
    --------
    >>> import bayescale as bs
    >>> bs.get_law("chinchilla").multistart.n_starts
    0
    """
    spec = law.multistart
    if not spec.n_starts:
        return np.empty((0, compiled.ndim))
    layout = _layout(model, compiled)
    for name in [*(n for p in spec.points for n in p), *spec.box]:
        if name not in layout:
            raise ValueError(
                f"law {law.name!r}: multistart names {name!r}, which is not a free parameter "
                f"of the model (free: {sorted(layout)})"
            )

    def point(values: Mapping[str, Any]) -> np.ndarray:
        x = np.array(compiled.x0, dtype=float)
        for name, value in values.items():
            where, transform, shape = layout[name]
            full = np.broadcast_to(np.asarray(value, dtype=float), shape)
            x[where] = _forward(transform, full, name).ravel()
        return x

    rows = [point(p) for p in spec.points]
    if spec.sobol:
        from scipy.stats import qmc

        names = list(spec.box)
        sizes = [int(np.prod(layout[n][2])) if layout[n][2] else 1 for n in names]
        dim = sum(sizes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a sample size not a power of two
            unit = qmc.Sobol(dim, scramble=True, seed=multistart_rng(seed)).random(spec.sobol)
        lo = np.concatenate(
            [np.full(k, spec.box[n][0], float) for n, k in zip(names, sizes, strict=True)]
        )
        hi = np.concatenate(
            [np.full(k, spec.box[n][1], float) for n, k in zip(names, sizes, strict=True)]
        )
        values = lo + (hi - lo) * unit
        bounds = np.cumsum([0, *sizes])
        for row in values:
            rows.append(
                point(
                    {
                        n: row[bounds[i] : bounds[i + 1]].reshape(layout[n][2])
                        for i, n in enumerate(names)
                    }
                )
            )
    return np.array(rows)


def prior_starts(model: Any, compiled: Any, n: int, seed: int) -> np.ndarray:
    """``n`` starts drawn from the model's prior, shape (n, ndim): every free variable drawn
    from its prior (a generator from :func:`multistart_rng` of ``seed``) and mapped to the
    unconstrained space. A generic multi-start for laws that declare none; used by
    ``benchmarks/study_mode_finder.py`` to check that the mode finder does not miss the best mode.

    Examples
    --------
    >>> import numpy as np, pymc as pm
    >>> from bayescale.sampling import compile_model
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 3.0, 0.1)
    ...     sd = pm.HalfNormal("sd", 1.0)
    >>> rows = prior_starts(m, compile_model(m), 500, seed=0)
    >>> rows.shape, bool(abs(rows[:, 0].mean() - 3.0) < 0.02)
    ((500, 2), True)
    """
    import pymc as pm

    layout = _layout(model, compiled)
    rvs = list(model.free_RVs)
    seed_int = int(multistart_rng(seed).integers(2**63 - 1))
    draws = pm.draw(rvs, draws=int(n), random_seed=seed_int)
    rows = np.tile(np.asarray(compiled.x0, dtype=float), (int(n), 1))
    for rv, value in zip(rvs, draws, strict=True):
        where, transform, _ = layout[rv.name]
        value = np.asarray(value, dtype=float).reshape(int(n), -1)
        rows[:, where] = _forward(transform, value, rv.name)
    return rows
