"""``bs.fit_many``: a batch of fits (laws × datasets × cutoffs × seeds × groupings) run in parallel.

A batch is parallel over *fits*: each fit runs its chains one after another in the process that
runs it (``processes=1``), so a worker holds one fit at a time and the draws of a job are those
``bs.fit`` gives with the same arguments — they depend on the job only, not on the number of
processes, the worker that ran it or the job's position in the batch (chains are seeded from
``(random_seed, chain)``, :func:`bayescale.sampling.chain_seed`).

Compilation: the compiled log density is cached in each process under the model's fingerprint
(law, priors, likelihood, structure; not the data), so a worker compiles each model structure at
most once and later jobs of that structure only swap the data. With local processes the parent
compiles every structure of the batch before the workers are forked, so they inherit the compiled
functions and compile nothing; Dask workers compile (or load from the on-disk graph store and
numba's cache, shared on one machine) once per structure each.

Where the jobs run:

* ``client=None``: local processes (``concurrent.futures.ProcessPoolExecutor`` over forked
  processes on Linux, spawned elsewhere), ``processes=`` of them (default: one per core);
  ``processes=1`` runs the batch in this process.
* ``client=`` a ``distributed.Client``: every job is a Dask task (``client.submit``), on a
  ``LocalCluster`` or a cluster reached through its scheduler's address.

Per-job cost: each fit runs as ``bs.fit`` runs it, on the native log-density callbacks
(:mod:`bayescale.sampling.native`), and a worker finds a structure it has compiled by its
definition without building the job's PyMC model (``sampling.backends.definition_key``).

A job that fails is reported with its error in the result and does not stop the others; an
option given to every job that every fit would refuse is one error before any job runs.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .batch_options import check_shared_options
from .fit import Fit
from .fit import fit as fit_law
from .law import ScalingLaw

__all__ = ["BatchResult", "FitJob", "JobResult", "fit_many"]


@dataclass
class FitJob:
    """One fit of a batch: ``bs.fit(law, data, **kwargs)``.

    ``kwargs`` are :func:`bayescale.fit`'s keyword arguments (``random_seed``, ``priors``,
    ``likelihood``, ``groups``, ``drift``, ``draws``, ``chains``, ``columns``, ...), on top of the
    ones given to :func:`fit_many` for every job. Give each job a ``random_seed`` for
    reproducible draws. ``name`` labels the job in progress messages and reports.

    Examples
    --------
    >>> import bayescale as bs
    >>> job = bs.FitJob("chinchilla", bs.testing.simulate_chinchilla(n=30), {"random_seed": 1})
    >>> job.label(0)
    'job 0 (chinchilla)'
    """

    law: str | ScalingLaw
    data: pd.DataFrame | Mapping[str, Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    def label(self, index: int) -> str:
        """``name`` or ``job <index> (<law>)``."""
        if self.name is not None:
            return str(self.name)
        law = self.law if isinstance(self.law, str) else getattr(self.law, "name", "law")
        return f"job {index} ({law})"


@dataclass
class JobResult:
    """What became of one job: its :class:`~bayescale.Fit`, or the error it raised.

    Attributes
    ----------
    index : int
        Position of the job in the batch.
    job : FitJob
    fit : Fit or None
        The fit (without its PyMC model, rebuilt on demand by ``fit.model``); None on failure
        or when :func:`fit_many` was given ``reduce``.
    value : Any
        ``reduce(fit)`` when :func:`fit_many` was given ``reduce``, else the fit (None on
        failure).
    error : BaseException or None
        The exception the job raised (a ``RuntimeError`` carrying its message when the original
        could not be sent back from the worker).
    traceback : str
        The formatted traceback of ``error`` in the worker ("" on success).
    warnings : list of (category, message)
        Warnings the fit emitted in the worker (re-emitted by :func:`fit_many`).
    seconds : float
        Wall-clock time of the job in its worker.
    cpu_seconds : float
        CPU time of the worker process (all its threads) while it ran the job: the job's cost
        in core-seconds, whatever else the machine was doing.
    worker : str
        ``host:pid`` of the process that ran the job.
    """

    index: int
    job: FitJob
    fit: Fit | None = None
    value: Any = None
    error: BaseException | None = None
    traceback: str = ""
    warnings: list[tuple[type[Warning], str]] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the job returned a fit."""
        return self.error is None

    @property
    def message(self) -> str:
        """``ErrorType: message`` of a failed job ("" on success)."""
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"


@dataclass
class BatchResult:
    """Outcome of :func:`fit_many`: one :class:`JobResult` per job, in job order.

    ``result[i]`` / ``result.fits[i]`` is the fit of job ``i`` (None if it failed),
    ``result.failures`` lists the failed jobs with their errors, ``result.raise_on_failure()``
    raises the first failure's error.
    """

    results: list[JobResult]
    seconds: float = 0.0
    where: str = ""

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[JobResult]:
        return iter(self.results)

    def __getitem__(self, index: int) -> JobResult:
        return self.results[index]

    @property
    def fits(self) -> list[Fit | None]:
        """The fit of each job in job order, None where the job failed."""
        return [r.fit for r in self.results]

    @property
    def values(self) -> list[Any]:
        """``reduce(fit)`` of each job in job order (the fits without ``reduce``), None where
        the job failed."""
        return [r.value for r in self.results]

    @property
    def successes(self) -> list[JobResult]:
        return [r for r in self.results if r.ok]

    @property
    def failures(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        """True when every job returned a fit."""
        return not self.failures

    def raise_on_failure(self) -> None:
        """Raise the error of the first failed job (with every failure listed in a note)."""
        failures = self.failures
        if not failures:
            return
        first = failures[0]
        if len(failures) > 1 and hasattr(first.error, "add_note"):
            others = "; ".join(f"{r.job.label(r.index)}: {r.message}" for r in failures[1:])
            first.error.add_note(f"{len(failures) - 1} other job(s) failed too: {others}")
        raise first.error

    def summary(self) -> pd.DataFrame:
        """One row per job: ``label``, ``ok``, ``seconds``, ``cpu_seconds``, ``worker`` and
        ``error`` (``ErrorType: message``, empty on success); ``str(result)`` is the text
        report."""
        import pandas as pd

        return pd.DataFrame(
            {
                "label": [r.job.label(r.index) for r in self.results],
                "ok": [r.ok for r in self.results],
                "seconds": [r.seconds for r in self.results],
                "cpu_seconds": [r.cpu_seconds for r in self.results],
                "worker": [r.worker for r in self.results],
                "error": [r.message for r in self.results],
            }
        )

    def __str__(self) -> str:
        lines = [
            f"fit_many: {len(self.successes)} of {len(self)} jobs fitted, "
            f"{len(self.failures)} failed, {self.seconds:.1f} s ({self.where})"
        ]
        lines += [f"  {r.job.label(r.index)} failed: {r.message}" for r in self.failures]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ._api import result_html

        return result_html(str(self), self.summary())

    def __repr__(self) -> str:
        return f"<BatchResult>\n{self}"


# ---------------------------------------------------------------------- running one job


def _portable_error(err: BaseException) -> BaseException:
    """``err`` if it survives a round trip through pickle, else a RuntimeError with its text."""
    import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(err))
        return err
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")


def _run_job(
    index: int,
    job: FitJob,
    common: Mapping[str, Any],
    reduce: Callable[[Fit], Any] | None,
) -> JobResult:
    """Run one job here and now; every error is caught and returned in the result."""
    start, cpu = time.perf_counter(), time.process_time()
    out = JobResult(index, job, worker=f"{socket.gethostname()}:{os.getpid()}")
    # the worker's own filters decide what is recorded, as they would for bs.fit
    with warnings.catch_warnings(record=True) as caught:
        try:
            kwargs = {**common, **dict(job.kwargs)}
            kwargs.update(progressbar=False, processes=1)
            fit = fit_law(job.law, job.data, **kwargs)
            fit._model = None  # the PyMC model does not pickle; Fit.model rebuilds it
            if reduce is None:
                out.fit = out.value = fit
            else:
                out.value = reduce(fit)
        except Exception as err:
            out.error = _portable_error(err)
            out.traceback = traceback.format_exc()
    out.warnings = [(w.category, str(w.message)) for w in caught]
    out.seconds = time.perf_counter() - start
    out.cpu_seconds = time.process_time() - cpu
    return out


def _run_pickled(index: int, payload: bytes) -> bytes:
    """:func:`_run_job` on a cloudpickled ``(job, common, reduce)``; the result comes back
    cloudpickled too (laws and likelihoods may hold lambdas, which the standard pickle
    refuses)."""
    import cloudpickle

    result = _run_job(index, *cloudpickle.loads(payload))
    try:
        return cloudpickle.dumps(result)
    except Exception as err:  # a result that cannot travel is a failure of that job
        result.fit = result.value = None
        result.error = RuntimeError(f"the fit could not be sent back from the worker: {err}")
        return cloudpickle.dumps(result)


# ---------------------------------------------------------------------- the batch


def _as_job(item: Any, index: int) -> FitJob:
    if isinstance(item, FitJob):
        job = item
    elif isinstance(item, tuple) and len(item) in (2, 3):
        job = FitJob(*item)
    else:
        raise TypeError(
            f"jobs[{index}] must be a bs.FitJob(law, data, kwargs) or a (law, data[, kwargs]) "
            f"tuple, got {type(item).__name__}"
        )
    if not isinstance(job.kwargs, Mapping):
        raise TypeError(f"jobs[{index}].kwargs must be a mapping, got {type(job.kwargs).__name__}")
    return job


def _n_local(processes: int | None, n_jobs: int) -> int:
    if processes is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cores = os.cpu_count() or 1
        return max(1, min(cores, n_jobs))
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer, got {processes!r}")
    return max(1, min(processes, n_jobs))


def _structure_key(job: FitJob, common: Mapping[str, Any]) -> str | None:
    """What decides a job's compiled model besides the data (None: nothing to compile here)."""
    kwargs = {**common, **dict(job.kwargs)}
    if not str(kwargs.get("sampler") or "nutpie").lower().startswith("nutpie"):
        return None
    law = job.law if isinstance(job.law, str) else f"{job.law.key}{job.law.options}"
    keys = ("sampler", "likelihood", "priors", "groups", "drift", "scatter", "group", "pool")
    parts = [law] + [repr(kwargs.get(k)) for k in keys]
    return "\x00".join(parts)


def _warm_up(jobs: list[FitJob], common: Mapping[str, Any]) -> None:
    """Compile each model structure of the batch once in this process (a one-draw fit of its
    first job), so forked workers inherit the compiled functions and the disk caches are warm.
    A job that fails here is left to fail (and be reported) in its worker."""
    seen: set[str] = set()
    for job in jobs:
        key = _structure_key(job, common)
        if key is None or key in seen:
            continue
        seen.add(key)
        kwargs = {**common, **dict(job.kwargs)}
        kwargs.update(draws=1, tune=1, chains=1, processes=1, progressbar=False, warn=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit_law(job.law, job.data, **kwargs)
            except Exception:
                pass


def _emit(results: list[JobResult]) -> None:
    for r in results:
        for category, message in r.warnings:
            if not (isinstance(category, type) and issubclass(category, Warning)):
                category = UserWarning
            warnings.warn(f"{r.job.label(r.index)}: {message}", category, stacklevel=3)


def _lost(index: int, job: FitJob, err: BaseException) -> JobResult:
    """A job whose worker died or whose task was lost."""
    return JobResult(index, job, error=RuntimeError(f"{type(err).__name__}: {err}"))


def fit_many(
    jobs: Sequence[FitJob | tuple],
    *,
    client: Any = None,
    processes: int | None = None,
    progressbar: bool = True,
    reduce: Callable[[Fit], Any] | None = None,
    **fit_kwargs: Any,
) -> BatchResult:
    """Run a batch of fits in parallel: local processes by default, a Dask cluster on request.

    Parameters
    ----------
    jobs : sequence of FitJob
        One :class:`FitJob` per fit (or a ``(law, data[, kwargs])`` tuple).
    client : distributed.Client, optional
        Run every job as a task of this Dask cluster (``distributed.LocalCluster`` or
        ``Client("tcp://scheduler:8786")``). The workers need bayescale installed.
    processes : int, optional
        Local worker processes (default: one per core, at most one per job); 1 runs the jobs
        one after another in this process. Ignored with ``client``.
    progressbar : bool
        One progress bar over the jobs (on stderr).
    reduce : callable, optional
        ``reduce(fit)`` is called in the worker on each job's fit and only its result comes
        back (``result.values``), e.g. ``lambda f: f.summary()``: a batch of thousands of fits
        is best reduced where it runs. A whole fit travels without its pointwise
        log-likelihood (1.0 MB for 240 runs × 4000 draws; the 8 MB group is computed where
        ``fit.idata`` is first read). An error it raises is the job's error.
    **fit_kwargs
        Keyword arguments of :func:`bayescale.fit` given to every job; a job's own ``kwargs``
        take precedence. Each fit runs its chains in its own process (``processes=1``), and
        its sampler shows no progress bar. An option here that every fit would refuse (an
        unknown name, a bad value) is one error before any job runs
        (:func:`bayescale.batch_options.check_shared_options`).

    Returns
    -------
    BatchResult
        One :class:`JobResult` per job, in job order: ``result.fits[i]`` is job ``i``'s
        :class:`~bayescale.Fit` (None if it failed; ``result.failures`` lists the errors).
        Warnings of the fits (divergences, small data, ...) are re-emitted here, prefixed by the
        job's label. A job's draws are those of ``bs.fit`` with its arguments: they do not
        depend on ``processes``, ``client``, the worker or the job's position.

    Examples
    --------
    >>> import bayescale as bs
    >>> jobs = [bs.FitJob("chinchilla", bs.testing.simulate_chinchilla(n=30, random_seed=s),
    ...                   {"random_seed": s}) for s in (1, 2)]
    >>> out = bs.fit_many(jobs, processes=1, draws=100, tune=100, chains=2, warn=False,
    ...                   progressbar=False)
    >>> [r.ok for r in out], out.fits[1].random_seed
    ([True, True], 2)
    """
    from .sbc import _Progress

    if client is not None and not (
        callable(getattr(client, "submit", None))
        and callable(getattr(client, "scheduler_info", None))
    ):
        raise TypeError(
            f"fit_many(client=...) must be a distributed.Client (or None for local processes), "
            f"got {type(client).__name__} {str(client)[:60]!r}; to use a running scheduler, "
            "connect first: from distributed import Client; fit_many(jobs, "
            "client=Client('tcp://host:8786'))"
        )
    jobs = [_as_job(item, i) for i, item in enumerate(jobs)]
    if reduce is not None and not callable(reduce):
        raise TypeError(f"reduce must be a function of a Fit (or None), got {reduce!r}")
    for i, job in enumerate(jobs):
        if job.kwargs.get("processes", 1) != 1:
            raise ValueError(
                f"jobs[{i}] asks for processes={job.kwargs['processes']!r}: in a batch each fit "
                "runs its chains in one process; fit_many(processes=...) sets how many jobs run "
                "at once"
            )
    # an option given to every job that every fit would refuse: one error, before any job runs
    check_shared_options(fit_kwargs)
    for i, job in enumerate(jobs):  # and a job's own misspelt or bad option, naming the job
        own = dict(job.kwargs)
        if "sampler" not in own and "sampler" in fit_kwargs:
            own["sampler"] = fit_kwargs["sampler"]
        check_shared_options(own, caller=f"fit_many jobs[{i}]", scope=f"jobs[{i}]'s own option")
    start = time.perf_counter()
    results: list[JobResult | None] = [None] * len(jobs)
    bar = _Progress(len(jobs), "fit_many", progressbar)

    def done(result: JobResult) -> None:
        results[result.index] = result
        failed = sum(1 for r in results if r is not None and not r.ok)
        bar.advance(f"failed {failed}")

    try:
        if client is not None:
            n_workers = len(client.scheduler_info().get("workers", {}))
            where = f"Dask cluster ({n_workers} workers)"
            _run_dask(client, jobs, fit_kwargs, reduce, done)
        else:
            n_proc = _n_local(processes, len(jobs))
            where = f"{n_proc} local process{'es' if n_proc > 1 else ''}"
            if n_proc == 1:
                for i, job in enumerate(jobs):
                    done(_run_job(i, job, fit_kwargs, reduce))
            else:
                _run_local(jobs, fit_kwargs, reduce, n_proc, done)
    finally:
        bar.close()
    final = [r for r in results if r is not None]
    assert len(final) == len(jobs)
    _emit(final)
    return BatchResult(final, seconds=time.perf_counter() - start, where=where)


def _one_thread() -> None:
    """In a local worker: BLAS and OpenMP on one thread (the workers share the cores; Dask's
    nanny sets the same limits through the environment)."""
    if os.environ.get("BAYESCALE_BATCH_THREADS") == "keep":  # for benchmarks only
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - comes with PyMC
        return
    _LIMITS.append(threadpool_limits(limits=1))


_LIMITS: list[Any] = []


def _run_local(
    jobs: list[FitJob],
    common: Mapping[str, Any],
    reduce: Any,
    n_proc: int,
    done: Any,
) -> None:
    """Jobs on a pool of ``n_proc`` local processes (forked after the warm-up when possible)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import cloudpickle

    try:
        ctx = mp.get_context("fork") if sys.platform.startswith("linux") else None
    except ValueError:  # pragma: no cover
        ctx = None
    if ctx is None:  # pragma: no cover - spawned workers compile (or load) themselves
        ctx = mp.get_context("spawn")
    else:
        _warm_up(jobs, common)
    pool = ProcessPoolExecutor(max_workers=n_proc, mp_context=ctx, initializer=_one_thread)
    # Garbage of the warm-up (a sampler whose Rust threads exist in this process only) must not
    # be collected in a forked worker, where dropping it waits for those threads for ever:
    # collect it here, and freeze what is left for the workers' lifetime (they never collect
    # what they inherit; the freeze is lifted here once they are forked).
    import gc

    gc.collect()
    gc.freeze()
    try:
        with warnings.catch_warnings():
            # the workers are forked at the first submit; the parent may hold idle BLAS or
            # sampler threads, the children only run fits
            warnings.filterwarnings(
                "ignore", message=".*use of fork\\(\\) may lead", category=DeprecationWarning
            )
            futures = {
                pool.submit(_run_pickled, i, cloudpickle.dumps((job, common, reduce))): i
                for i, job in enumerate(jobs)
            }
        gc.unfreeze()
        for future in as_completed(futures):
            i = futures[future]
            try:
                result = cloudpickle.loads(future.result())
            except Exception as err:  # the worker died (BrokenProcessPool) or similar
                result = _lost(i, jobs[i], err)
            done(result)
    except BaseException:  # interrupted: drop the jobs not started, stop the workers
        gc.unfreeze()
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in workers:
            proc.terminate()
        raise
    pool.shutdown()


def _run_dask(
    client: Any,
    jobs: list[FitJob],
    common: Mapping[str, Any],
    reduce: Any,
    done: Any,
) -> None:
    """Jobs as tasks of a Dask cluster, one task per job."""
    import uuid

    import cloudpickle
    from distributed import as_completed

    batch = uuid.uuid4().hex[:8]
    futures = {}
    for i, job in enumerate(jobs):
        future = client.submit(
            _run_pickled,
            i,
            cloudpickle.dumps((job, common, reduce)),
            key=f"bayescale-fit-{batch}-{i}",
            pure=False,
        )
        futures[future] = i
    try:
        for future in as_completed(list(futures)):
            i = futures[future]
            try:
                result = cloudpickle.loads(future.result())
            except Exception as err:  # KilledWorker, cancelled, lost connection
                result = _lost(i, jobs[i], err)
            future.release()
            done(result)
    except BaseException:  # interrupted: cancel what is left
        client.cancel(list(futures))
        raise
