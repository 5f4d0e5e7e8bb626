"""The fast single-fit path: the mode by L-BFGS, a Laplace-whitened metric, and nutpie on the
compiled log density as a Python callback, one seeded nutpie run per chain."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _internals
from . import native as _native
from .compile import CompiledModel
from .processes import _n_processes, _sample_in_processes
from .trace import _datatree_from_chains

__all__ = [
    "TARGET_ACCEPT",
    "chain_seed",
    "check_target_accept",
    "find_mode",
    "sample_nutpie",
    "whitening",
]

#: ``sample_nutpie``'s default ``target_accept`` (nutpie's own is 0.8). Measured on 90 simulated
#: 240-run Chinchilla designs (``bench_batch.py``'s simulation, seeds 0-89, default ``bs.fit``):
#: at 0.9, 22 fits (24%) had ≥ 1 divergence (29 in all), in the tails of the curved E-exponent
#: ridge that the Laplace whitening leaves curved (21 fits at low E with low alpha or beta, E's
#: median quantile ≈ 0.5%; 1 at high E; nu and sigma anywhere in their posteriors); 1000 warm-up
#: iterations instead of 500 left 6 of 30 divergent. At 0.95: 0 of 90, for 1.20× the leapfrog
#: steps per draw (8.0 vs 6.7), 1.15× the CPU time per fit (seeds 0-29, interleaved), median
#: bulk ESS 1975 vs 2467 (min 1232 vs 956). The real Chinchilla runs: 0 divergences at either.
TARGET_ACCEPT = 0.95

#: ``find_mode`` restarts L-BFGS from its end point (at most ``MODE_RESTARTS`` times) while a
#: restart raises the log density by at least ``MODE_GAIN`` nats.
MODE_RESTARTS = 5
MODE_GAIN = 0.01


def check_target_accept(value: Any) -> float:
    """``value`` as a float if it is a finite number strictly between 0 and 1, else a
    ``ValueError`` naming ``target_accept`` (at 1.5 nutpie's step size collapses to ~1e-30;
    at 0 or 1 the adaptation has no target).

    Examples
    --------
    >>> check_target_accept(0.9)
    0.9
    >>> check_target_accept(1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: target_accept=1.5: ...
    """
    ok = (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
        and np.isfinite(value)
        and 0.0 < float(value) < 1.0
    )
    if not ok:
        raise ValueError(
            f"target_accept={value!r}: the target acceptance rate must be a finite number "
            "strictly between 0 and 1 (default 0.95)"
        )
    return float(value)


def find_mode(
    compiled: CompiledModel,
    data: Mapping[str, np.ndarray],
    x0: np.ndarray,
    starts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode in the unconstrained space by L-BFGS, and a diagonal scale estimate.

    Returns ``(x_mode, scale)``; ``scale`` is the square root of the diagonal of the
    optimiser's inverse-Hessian approximation (clipped to a sensible range).

    ``starts`` (rows of unconstrained points, e.g. a law's multi-start declaration,
    :func:`bayescale.multistart.law_starts`) adds a multi-start search: a short L-BFGS
    (≤ 100 iterations) runs from ``x0`` and from every start, and the best end point (highest
    log density; ties to the earliest) is then optimised to convergence. Deterministic given
    the starts.
    """
    from scipy import optimize

    args = compiled.data_args(data, compiled.data_names)
    fn = compiled.logp_fn

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            value, grad = fn(x, *args)[:2]
        except Exception:  # a parameter check of the model failed: outside the support
            return 1e300, np.zeros_like(x)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return -float(value), -np.asarray(grad)

    def minimise(start: np.ndarray, maxiter: int) -> Any:
        # L-BFGS-B's products are tiny: BLAS threads only contend (≈ 10× slower on a busy
        # machine), so one thread
        with _one_blas_thread():
            return optimize.minimize(
                negative,
                start,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": maxiter, "maxcor": 20},
            )

    if starts is not None and len(starts):
        scouts = [minimise(s, 100) for s in (x0, *np.asarray(starts, dtype=float))]
        scouts = [r for r in scouts if np.all(np.isfinite(r.x)) and r.fun < 1e299]
        if scouts:
            x0 = min(scouts, key=lambda r: r.fun).x  # min keeps the earliest of equal values
    best = None
    for start in (x0, np.zeros_like(x0)):
        res = minimise(start, 2000)
        if np.all(np.isfinite(res.x)) and (best is None or res.fun < best.fun):
            best = res
        if best is not None and best.fun < 1e299 and (best.success or best.nit > 50):
            break
    if best is None:
        raise RuntimeError("could not find a finite starting point for the sampler")
    # L-BFGS-B's false convergence: its test on the relative reduction of the objective can
    # stop after a tiny step far from the mode and report success (Llama 3's isoFLOP runs
    # below 3e21 FLOPs: log density 277 at E = 0.38, gradient norm 3.6e3, against 485 at
    # E = 0.61). Restart from the end point with a fresh memory while a restart gains
    # >= MODE_GAIN nats; a converged mode gains nothing and is kept bit for bit.
    for _ in range(MODE_RESTARTS):
        again = minimise(best.x, 2000)
        if not (np.all(np.isfinite(again.x)) and again.fun < best.fun - MODE_GAIN):
            break
        best = again
    try:
        diag = np.diag(best.hess_inv.todense())
        scale = np.sqrt(np.clip(diag, 1e-8, 4.0))
    except Exception:  # pragma: no cover - optimiser without Hessian estimate
        scale = np.full_like(best.x, 0.1)
    if not np.all(np.isfinite(scale)):
        scale = np.full_like(best.x, 0.1)
    return best.x, scale


def _one_blas_thread() -> Any:
    """BLAS limited to one thread in this block (threadpoolctl, which comes with PyMC's
    dependencies); a no-op without threadpoolctl."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def whitening(
    compiled: CompiledModel, data: Mapping[str, np.ndarray], x_mode: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """A matrix ``L`` with ``L Lᵀ`` ≈ the posterior covariance at the mode (Laplace approximation).

    The Hessian of the log density at the mode is taken by central differences of the gradient
    (2 × ndim gradient evaluations). If it is not negative definite the diagonal ``scale`` from
    the optimiser is used instead. Sampling ``z`` with ``x = x_mode + L z`` gives NUTS a posterior
    that is close to round from the first warm-up iteration.
    """
    args = compiled.data_args(data, compiled.data_names)
    fn = compiled.logp_fn
    n = x_mode.size
    hess = np.empty((n, n))
    for i in range(n):
        h = 1e-4 * max(scale[i], 1e-3)
        step = np.zeros(n)
        step[i] = h
        g_hi = np.asarray(fn(x_mode + step, *args)[1])
        g_lo = np.asarray(fn(x_mode - step, *args)[1])
        hess[:, i] = (g_hi - g_lo) / (2 * h)
    precision = -(hess + hess.T) / 2
    try:
        if not np.all(np.isfinite(precision)):
            raise np.linalg.LinAlgError("non-finite Hessian")
        chol_p = np.linalg.cholesky(precision)
        # L = chol(P)^-T so that L Lᵀ = P⁻¹
        return np.linalg.solve(chol_p.T, np.eye(n))
    except np.linalg.LinAlgError:
        return np.diag(scale)


def chain_seed(seed: int, chain: int) -> tuple[int, np.random.Generator]:
    """The random streams of chain ``chain`` of a fit with ``random_seed=seed``.

    Chain ``c`` gets the ``c``-th child of ``numpy.random.SeedSequence(seed)``
    (``SeedSequence(seed, spawn_key=(c,))``, the same as ``SeedSequence(seed).spawn(c + 1)[c]``),
    which is split in two: one part gives nutpie's seed (a 64-bit integer), the other the
    generator of the chain's starting point. A chain's streams depend on the seed and the chain's
    index only — not on the number of chains, processes or cores.

    Examples
    --------
    >>> chain_seed(1, 0)[0] == chain_seed(1, 0)[0] != chain_seed(1, 1)[0]
    True
    """
    sampler, start = np.random.SeedSequence(seed, spawn_key=(chain,)).spawn(2)
    return int(sampler.generate_state(1, np.uint64)[0]), np.random.default_rng(start)


def sample_nutpie(
    compiled: CompiledModel,
    data: Mapping[str, np.ndarray],
    x0: np.ndarray,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    progressbar: bool,
    cores: int | None = None,
    adaptation: str = "low_rank",
    jitter: float = 1.0,
    target_accept: float = TARGET_ACCEPT,
    processes: int | None = None,
    starts: np.ndarray | None = None,
    init: str = "mode",
    **kwargs: Any,
) -> tuple[Any, dict[str, float]]:
    """Run nutpie on a compiled model; returns the DataTree and timing information.

    Every chain is its own nutpie run (one chain, seeded by :func:`chain_seed` from ``seed`` and
    the chain's index, starting point included), so a chain's draws are the same whichever
    process runs it and however many chains there are. The log density is a Python callback,
    so one process runs one chain at a time: with ``processes`` > 1 (default: one per available
    core, at most one per chain, on Linux) the chains are split into consecutive blocks between
    forked worker processes, which inherit the compiled model and send back their chains' draws
    and statistics.
    ``processes=1`` (or the environment variable ``BAYESCALE_PROCESSES=1``) samples in this
    process; the draws are the same. ``cores`` is accepted for compatibility and must be None
    or 1 (chains within a process run one after another).

    NUTS runs in whitened coordinates ``z`` (``x = x_mode + L z``, see :func:`whitening`), and
    chains start at ``z = jitter × N(0, I)``, i.e. about one posterior sd from the mode.
    Timings: ``init`` (mode finding), ``sampling`` (wall clock) and its split into ``tune`` and
    ``draws`` in proportion to the leapfrog steps taken in each phase.

    ``starts`` (rows of unconstrained points) makes the mode search multi-start
    (:func:`find_mode`): every chain starts around the best mode found. ``init="point"`` skips
    the mode and its Laplace metric: chains start around the model's initial point with an
    identity metric that nutpie adapts (for hierarchical fits, whose mode is in a funnel's neck).

    ``target_accept`` defaults to ``TARGET_ACCEPT`` (0.95) rather than nutpie's 0.8: the smaller
    step size removes the divergences in the curved tail of the E-exponent ridge that 0.9 left
    in a quarter of simulated Chinchilla fits, for about 20% more gradient evaluations.
    """
    target_accept = check_target_accept(target_accept)
    if cores not in (None, 1):
        raise ValueError(
            f"cores={cores!r}: each process runs its chains one after another (so that a chain's "
            "draws do not depend on how chains are grouped); use processes= to run chains in "
            "parallel"
        )
    nutpie = _internals.import_nutpie()

    t0 = time.perf_counter()
    if init == "mode":
        x_mode, scale = find_mode(compiled, data, x0, starts)
        # NUTS runs on z with x = x_mode + L z, L from the Laplace approximation at the mode.
        L = whitening(compiled, data, x_mode, scale)
    elif init == "point":
        # hierarchical posteriors: the mode sits in the neck of the funnels (group spreads at
        # zero), where the Laplace metric is useless; start at the model's initial point and
        # let nutpie's adaptation find the metric
        x_mode, L = np.asarray(x0, dtype=float), np.eye(len(x0))
    else:
        raise ValueError(f"init must be 'mode' or 'point', got {init!r}")
    Lt = np.ascontiguousarray(L.T)
    t_init = time.perf_counter() - t0

    logp_args = compiled.data_args(data, compiled.data_names)
    logp_fn = compiled.logp_fn
    names, shapes = compiled.rv_names, compiled.rv_shapes
    sizes = [int(np.prod(s)) for s in shapes]
    ends = list(np.cumsum(sizes))
    offsets = [0, *ends[:-1]]

    # Every draw nutpie stores is a point where the log density was already evaluated during the
    # trajectory, and that evaluation returned the constrained values too. Keep them by position
    # so that storing a draw does not cost a second evaluation; a position not found (or an
    # emptied store) is simply evaluated again.
    seen: dict[bytes, np.ndarray] = {}

    def position(z: np.ndarray) -> np.ndarray:
        return x_mode + L @ z

    def z_density(z: np.ndarray, out: Any) -> tuple[float, np.ndarray]:
        return float(out[0]), Lt @ out[1]

    def make_logp() -> Any:
        def logp(z: np.ndarray, **_: Any) -> tuple[float, np.ndarray]:
            try:
                out = logp_fn(position(z), *logp_args)
            except ValueError:  # a parameter check failed (e.g. nu > 0 underflowed): no density;
                return -np.inf, np.zeros_like(z)  # raised into nutpie it would panic the sampler
            if len(seen) >= 4096:
                seen.clear()
            seen[z.tobytes()] = out[2]
            return z_density(z, out)

        return logp

    def make_expand(seed1: int, seed2: int, chain: int) -> Any:
        def expand(z: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            flat = seen.get(z.tobytes())
            if flat is None:
                flat = logp_fn(position(z), *logp_args)[2]
            return {
                n: flat[a:b].reshape(s)
                for n, a, b, s in zip(names, offsets, ends, shapes, strict=True)
            }

        return expand

    def run_chain(chain: int, report: Any) -> dict[str, dict[str, np.ndarray]]:
        """Chain ``chain`` alone, as numpy arrays by group (see :func:`_internals.chain_arrays`);
        ``report(chain, finished, divergences)`` (or None) receives its progress."""
        nutpie_seed, rng = chain_seed(seed, chain)
        callback = None
        if report is not None:

            def callback(progress: list[Any]) -> None:
                report(chain, *_internals.progress_state(progress))

        def initial_point(_: int) -> np.ndarray:
            # nutpie's own seed argument is not used: the chain's generator decides
            for _ in range(20):
                z = jitter * rng.standard_normal(x_mode.shape)
                value = logp_fn(position(z), *logp_args)[0]
                if np.isfinite(value):
                    return z
            return np.zeros_like(x_mode)

        if native is not None:
            model = _internals.native_model(native, names, shapes, initial_point)
        else:
            model = _internals.pyfunc_model(
                compiled.ndim, make_logp, make_expand, names, shapes, initial_point
            )
        raw = nutpie.sample(
            model,
            draws=draws,
            tune=tune,
            chains=1,
            cores=1,
            seed=nutpie_seed,
            progress_bar=False,  # progress goes to the parent's one bar (bayescale.progress)
            progress_callback=callback,
            adaptation=adaptation,
            target_accept=target_accept,
            save_warmup=True,
            return_raw_trace=True,
            **kwargs,
        )
        (draw_batch,), (stat_batch,) = _internals.raw_trace_batches(raw)
        arrays = _internals.chain_arrays(draw_batch, stat_batch, names, shapes)
        if report is not None:
            report(chain, tune + draws, int(np.sum(arrays["sample_stats"].get("diverging", 0))))
        # numpy arrays of what is kept: small and fast to send from a worker process
        return arrays

    native = None
    if _native.enabled():
        native = _native.native_model(compiled, logp_args, x_mode, L)

    def run(chain_ids: list[int], report: Any) -> list[dict[str, dict[str, np.ndarray]]]:
        return [run_chain(c, report) for c in chain_ids]

    from ..progress import ChainProgress

    t1 = time.perf_counter()
    n_proc = _n_processes(processes, chains)
    bar = ChainProgress(chains, tune + draws, enabled=progressbar)
    report = bar.update if progressbar else None
    per_chain = None
    try:
        if n_proc > 1:
            per_chain = _sample_in_processes(run, chains, n_proc, report)
        if per_chain is None:
            per_chain = run(list(range(chains)), report)
    finally:
        bar.close()
    trace = _datatree_from_chains(per_chain)
    elapsed = time.perf_counter() - t1
    # Chains interleave in wall-clock time; split the sampling time in proportion to the
    # leapfrog steps (gradient evaluations) of each phase.
    tune_steps = int(trace["warmup_sample_stats"]["n_steps"].sum()) if tune else 0
    draw_steps = int(trace["sample_stats"]["n_steps"].sum())
    share = tune_steps / max(tune_steps + draw_steps, 1)
    timings = {
        "init": t_init,
        "sampling": elapsed,
        "tune": elapsed * share,
        "draws": elapsed * (1 - share),
    }
    return trace, timings
