"""NUTS for bayescale models, behind one small backend interface.

PyMC builds the model graph; a :class:`~bayescale.sampling.backends.Backend` compiles it once
per model *structure* (law, priors, likelihood), takes each fit's data and returns the draws as
a ``DataTree`` (``bs.fit(sampler=...)`` picks one). The default, ``"nutpie"``, compiles the
log density and gradient with the data and reference scales as arguments (so a second fit of
the same law to new runs reuses the compiled function), finds the mode by L-BFGS and runs
nutpie with low-rank mass-matrix adaptation from jittered starts in Laplace-whitened
coordinates; ``"nutpie-compiled"`` uses nutpie's compiled PyMC model with data swapping;
``"pymc"`` PyMC's own NUTS.

Modules: ``compile`` (the compiled function, in-process cache), ``fingerprint`` (the cache
key), ``store`` (rewritten graphs kept across processes), ``nuts`` (mode, whitening, seeded
chains), ``processes`` (chains in forked workers), ``trace`` (raw trace → ``DataTree``),
``backends`` (the interface and its three implementations) and ``_internals`` (every use of a
dependency's private layout, each checked by ``tests/test_sampling_internals.py``).
"""

from __future__ import annotations

from .backends import (
    BACKENDS,
    Backend,
    NutpieBackend,
    NutpieCompiledBackend,
    PymcBackend,
    Ready,
    get_backend,
    sample_model,
    sample_pymc,
)
from .compile import CompiledModel, compile_model
from .fingerprint import model_fingerprint
from .nuts import chain_seed, find_mode, sample_nutpie, whitening
from .store import GRAPH_CACHE_ENV, graph_store_on
from .trace import trace_to_datatree

__all__ = [
    "BACKENDS",
    "GRAPH_CACHE_ENV",
    "Backend",
    "CompiledModel",
    "NutpieBackend",
    "NutpieCompiledBackend",
    "PymcBackend",
    "Ready",
    "chain_seed",
    "compile_model",
    "find_mode",
    "get_backend",
    "graph_store_on",
    "model_fingerprint",
    "sample_model",
    "sample_nutpie",
    "sample_pymc",
    "trace_to_datatree",
    "whitening",
]
