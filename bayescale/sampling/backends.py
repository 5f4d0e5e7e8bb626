"""The sampler backends behind ``bs.fit(sampler=...)``: one small interface, three engines.

A :class:`Backend` turns a PyMC model into draws in three steps — ``compile(model)`` once per
model structure, ``set_data(compiled, data)`` per fit (the values of the model's data
containers), ``sample(ready, ...)`` → a ``DataTree`` with ``posterior`` and ``sample_stats``
(and, for nutpie, the warm-up groups) — so a batch of fits of one structure compiles once and
only swaps the data.

* ``"nutpie"`` (:class:`NutpieBackend`, the default): bayescale's compiled log density
  (:func:`~bayescale.sampling.compile_model`, cached by fingerprint), the mode by L-BFGS, a
  Laplace-whitened metric and one seeded nutpie run per chain (:func:`sample_nutpie`); draws
  depend on the data, model, settings and ``random_seed`` only.
* ``"nutpie-compiled"`` (:class:`NutpieCompiledBackend`): nutpie's own compiled PyMC model
  (``nutpie.compile_pymc_model``, numba), cached in-process by fingerprint, data swapped with
  its ``with_data``; no Python callback, nutpie's own initialisation and warm-up, chains in
  nutpie's threads.
* ``"pymc"`` (:class:`PymcBackend`): PyMC's own NUTS, for cross-checks and models nutpie
  cannot run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from . import _internals
from .compile import _model_data, compile_model
from .fingerprint import model_fingerprint, structure_key
from .nuts import sample_nutpie
from .trace import trace_to_datatree

__all__ = [
    "BACKENDS",
    "Backend",
    "NutpieBackend",
    "NutpieCompiledBackend",
    "PymcBackend",
    "Ready",
    "get_backend",
    "sample_model",
    "sample_pymc",
]


@dataclass
class Ready:
    """A compiled model with the data of one fit: what :meth:`Backend.sample` samples.

    ``timings`` is filled by ``sample``: ``init`` (before sampling, e.g. the mode), ``sampling``
    (wall clock) and its split into ``tune`` and ``draws`` (NaN where unknown).
    """

    compiled: Any
    data: dict[str, np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """compile → set data → sample → ``DataTree``."""

    name: str

    def compile(self, model: Any) -> Any:
        """What the backend samples for ``model``'s structure (reused for new data)."""

    def set_data(self, compiled: Any, data: Mapping[str, np.ndarray]) -> Ready:
        """``compiled`` with the values of the model's data containers, by name."""

    def sample(
        self,
        ready: Ready,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed: int,
        progressbar: bool,
        **options: Any,
    ) -> Any:
        """Draws of ``ready`` as a ``DataTree``; ``ready.timings`` records the times."""


class NutpieBackend:
    """The fast single-fit path (see the module docstring); ``options`` go to
    :func:`sample_nutpie` (``target_accept``, ``processes``, ``starts``, ``init``, ...)."""

    name = "nutpie"

    def __init__(self, *, cache: bool = True) -> None:
        self.cache = cache

    def compile(self, model: Any) -> Any:
        return compile_model(model, cache=self.cache)

    def set_data(self, compiled: Any, data: Mapping[str, np.ndarray]) -> Ready:
        return Ready(compiled, dict(data))

    def sample(
        self,
        ready: Ready,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed: int,
        progressbar: bool,
        **options: Any,
    ) -> Any:
        trace, ready.timings = sample_nutpie(
            ready.compiled,
            ready.data,
            ready.compiled.x0,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=random_seed,
            progressbar=progressbar,
            **options,
        )
        return trace


_BY_DEFINITION: dict[str, tuple[Any, Any, Any]] = {}  # key → (law, likelihood, compiled)
_BY_DEFINITION_LOCK = threading.Lock()


def definition_key(
    law: Any,
    likelihood: Any,
    priors: Mapping[str, Any],
    structure: Any,
    pooling: Any,
    values: Mapping[str, np.ndarray],
) -> str | None:
    """What a fit's PyMC model is built from, apart from the data's values — the law and
    likelihood *objects* (by identity: a compiled model is only reused for the same objects,
    held alive by the cache), the priors, the residual structure's groups (labels included) and
    parameters, the pooling and the names, dtypes and shapes of the data — as a digest; None if
    something cannot be written down.

    The batch path (:func:`bayescale.fit_many`'s native fits) finds the compiled model of a
    job's structure by this key without building its PyMC model (≈ 50 ms a fit); a miss
    builds and compiles as usual (:func:`remember_definition`).
    """
    import hashlib
    import json

    try:
        parts = {
            "law": [id(law), law.name, str(law.version)],
            "likelihood": [id(likelihood), likelihood.name],
            "priors": {k: p.to_dict() for k, p in sorted(priors.items())},
            # what the model reads of the structure (its groups, which parameters it adds),
            # not the fitted ranges behind the prior-only drift, which change with the data
            "structure": None
            if structure is None
            else [[g.to_dict() for g in structure.groupings], structure.parameter_names()],
            "pooling": None if pooling is None else pooling.to_dict(),
            "values": {
                k: [np.asarray(v).dtype.str, list(np.shape(v))] for k, v in sorted(values.items())
            },
        }
        text = json.dumps(parts, sort_keys=True, allow_nan=True, default=_plain)
    except Exception:  # something without a plain description: no shortcut
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """numpy arrays and scalars (e.g. a vector prior's parameters) for :func:`definition_key`;
    anything else is refused (no key)."""
    if isinstance(value, np.ndarray | np.generic):
        return [np.asarray(value).dtype.str, list(np.shape(value)), np.asarray(value).tolist()]
    raise TypeError(f"no plain description of {type(value).__name__}")


def compiled_for_definition(key: str | None, law: Any, likelihood: Any) -> Any:
    """The compiled model remembered under ``key`` for these very law and likelihood objects,
    or None."""
    if key is None:
        return None
    with _BY_DEFINITION_LOCK:
        hit = _BY_DEFINITION.get(key)
    if hit is None or hit[0] is not law or hit[1] is not likelihood:
        return None
    return hit[2]


def remember_definition(key: str | None, law: Any, likelihood: Any, compiled: Any) -> None:
    """Remember ``compiled`` under ``key`` (:func:`definition_key`)."""
    if key is not None:
        with _BY_DEFINITION_LOCK:
            _BY_DEFINITION[key] = (law, likelihood, compiled)


_NUTPIE_MODELS: dict[str, Any] = {}
_NUTPIE_KEYS: dict[str, str] = {}  # structure_key → fingerprint
_NUTPIE_MODELS_LOCK = threading.Lock()


class NutpieCompiledBackend:
    """nutpie's compiled PyMC model (numba), one per model structure in this process, its data
    swapped for each fit. ``options`` go to ``nutpie.sample`` (default ``adaptation="low_rank"``,
    ``target_accept`` = :data:`~bayescale.sampling.nuts.TARGET_ACCEPT` as on the default path,
    ``cores`` or ``processes``: nutpie's threads, default one per chain, ``fit_many`` gives 1);
    chain ``c`` is seeded by nutpie from ``(random_seed, c)``.

    Unlike the default backend it does not start from the posterior mode with a Laplace metric:
    it is nutpie's own path end to end (its initial points, jittered around the model's initial
    point, and its own mass-matrix adaptation from the identity), which is what makes it a
    useful cross-check of the default path (``tests/test_sampling_backends.py`` compares the
    two posteriors); a mode search would need bayescale's compiled log density as well, the
    compile this backend exists to do without. ``fit`` gives it 1000 warm-up iterations
    (``default_tune``) instead of 500 for this reason."""

    name = "nutpie-compiled"

    def compile(self, model: Any) -> Any:
        _internals.import_nutpie()
        shortcut = structure_key(model)  # as compile_model: no log-density graph on a hit
        if shortcut is not None:
            with _NUTPIE_MODELS_LOCK:
                hit = _NUTPIE_MODELS.get(_NUTPIE_KEYS.get(shortcut, ""))
            if hit is not None:
                return hit
        try:
            key = model_fingerprint(model, extra=self.name)
        except Exception:  # something the fingerprint cannot describe: not cached
            key = None
        if key is not None:
            with _NUTPIE_MODELS_LOCK:
                hit = _NUTPIE_MODELS.get(key)
                if hit is not None and shortcut is not None:
                    _NUTPIE_KEYS[shortcut] = key
            if hit is not None:
                return hit
        import nutpie

        with _internals.exact_float_flags():
            compiled = nutpie.compile_pymc_model(model, backend="numba", freeze_model=False)
        if key is not None:
            with _NUTPIE_MODELS_LOCK:
                compiled = _NUTPIE_MODELS.setdefault(key, compiled)
                if shortcut is not None:
                    _NUTPIE_KEYS[shortcut] = key
        return compiled

    def set_data(self, compiled: Any, data: Mapping[str, np.ndarray]) -> Ready:
        names = _internals.pymc_compiled_data_names(compiled)
        updates = {k: v for k, v in data.items() if k in names}
        return Ready(compiled.with_data(**updates) if updates else compiled, dict(data))

    def sample(
        self,
        ready: Ready,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed: int,
        progressbar: bool,
        **options: Any,
    ) -> Any:
        nutpie = _internals.import_nutpie()
        # processes= (how many chains run at once, as for the default backend) is nutpie's cores
        processes = options.pop("processes", None)
        cores = options.pop("cores", None) or processes or chains
        from .nuts import TARGET_ACCEPT

        options = {
            "adaptation": "low_rank",
            "target_accept": TARGET_ACCEPT,
            "cores": cores,
            **options,
        }
        t0 = time.perf_counter()
        raw = nutpie.sample(
            ready.compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=random_seed,
            progress_bar=progressbar,
            save_warmup=True,
            return_raw_trace=True,
            **options,
        )
        names, shapes = _internals.pymc_compiled_layout(ready.compiled)
        trace = trace_to_datatree(raw, names, shapes)
        ready.timings = _split_timings(trace, 0.0, time.perf_counter() - t0, tune)
        return trace


class PymcBackend:
    """PyMC's own NUTS; ``options`` (e.g. ``target_accept``) go to ``pm.sample``."""

    name = "pymc"

    def compile(self, model: Any) -> Any:
        return model  # PyMC compiles inside pm.sample

    def set_data(self, compiled: Any, data: Mapping[str, np.ndarray]) -> Ready:
        import pymc as pm

        own = {name for name, var in compiled.named_vars.items() if hasattr(var, "get_value")}
        updates = {k: v for k, v in data.items() if k in own}
        if updates:
            pm.set_data(updates, model=compiled)
        return Ready(compiled, dict(data))

    def sample(
        self,
        ready: Ready,
        *,
        draws: int,
        tune: int,
        chains: int,
        random_seed: int,
        progressbar: bool,
        **options: Any,
    ) -> Any:
        trace, ready.timings = sample_pymc(
            ready.compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=random_seed,
            progressbar=progressbar,
            **options,
        )
        return trace


BACKENDS: dict[str, type] = {
    "nutpie": NutpieBackend,
    "nutpie-compiled": NutpieCompiledBackend,
    "pymc": PymcBackend,
}


def get_backend(sampler: str) -> Backend:
    """The backend called ``sampler`` (``"nutpie"``, ``"nutpie-compiled"`` or ``"pymc"``).

    Examples
    --------
    >>> get_backend("nutpie").name
    'nutpie'
    """
    try:
        return BACKENDS[sampler]()
    except (KeyError, TypeError):
        names = ", ".join(repr(n) for n in BACKENDS)
        raise ValueError(f"sampler must be one of {names}, got {sampler!r}") from None


def _split_timings(trace: Any, init: float, elapsed: float, tune: int) -> dict[str, float]:
    """Sampling time split into warm-up and draws in proportion to their leapfrog steps."""
    tune_steps = 0
    if tune and "warmup_sample_stats" in trace and "n_steps" in trace["warmup_sample_stats"]:
        tune_steps = int(trace["warmup_sample_stats"]["n_steps"].sum())
    draw_steps = int(trace["sample_stats"]["n_steps"].sum())
    share = tune_steps / max(tune_steps + draw_steps, 1)
    return {
        "init": init,
        "sampling": elapsed,
        "tune": elapsed * share,
        "draws": elapsed * (1 - share),
    }


def sample_model(
    model: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool = False,
    sampler: str = "nutpie",
    **kwargs: Any,
) -> Any:
    """Sample a self-contained PyMC model (no law, no data containers) the way ``bs.fit`` does.

    ``sampler="nutpie"``: compiled once (cached by fingerprint) and sampled in this process
    with each chain seeded from ``(seed, chain)``, so the draws depend on the seed alone —
    unlike ``pm.sample(nuts_sampler="nutpie")``, whose draws change with the process.
    ``"pymc"``: :func:`sample_pymc` (``kwargs`` such as ``target_accept`` go to it). Returns
    the trace (a DataTree with ``posterior`` and
    ``sample_stats``); the posterior holds the free variables only.
    """
    if sampler == "nutpie":
        backend: Backend = NutpieBackend(cache=False)
        kwargs = {"processes": 1}  # as before: chains in this process; kwargs not passed on
    else:
        backend = get_backend(sampler)
    compiled = backend.compile(model)
    # the model's own data containers and dimension lengths: a graph compiled here takes them
    # as arguments (the nutpie-compiled and PyMC backends read them from the model itself)
    own = _model_data(model) if sampler == "nutpie" else {}
    ready = backend.set_data(compiled, own)
    return backend.sample(
        ready,
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=seed,
        progressbar=progressbar,
        **kwargs,
    )


def sample_pymc(
    model: Any, *, draws: int, tune: int, chains: int, seed: int, progressbar: bool, **kwargs: Any
) -> tuple[Any, dict[str, float]]:
    """PyMC's own NUTS (``sampler="pymc"``), for cross-checks and models nutpie cannot run."""
    import pymc as pm

    t1 = time.perf_counter()
    with model:
        trace = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=seed,
            progressbar=progressbar,
            nuts_sampler="pymc",
            compute_convergence_checks=False,
            **kwargs,
        )
    return trace, {
        "init": 0.0,
        "sampling": time.perf_counter() - t1,
        "tune": np.nan,
        "draws": np.nan,
    }
