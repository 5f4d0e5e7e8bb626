"""Chains split between forked worker processes, which inherit the compiled model."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np


def _n_processes(processes: int | None, chains: int) -> int:
    if processes is None and os.environ.get("BAYESCALE_PROCESSES"):
        try:
            processes = int(os.environ["BAYESCALE_PROCESSES"])
        except ValueError:
            raise ValueError(
                f"BAYESCALE_PROCESSES must be a positive integer, "
                f"got {os.environ['BAYESCALE_PROCESSES']!r}"
            ) from None
    if processes is not None:
        if processes < 1:
            raise ValueError(f"processes must be a positive integer, got {processes}")
        return min(int(processes), chains)
    if not sys.platform.startswith("linux"):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count() or 1
    return max(1, min(cores, chains))


def _worker(conn: Any, run: Any, chain_ids: list[int], progress: bool) -> None:
    """Run ``chain_ids`` in a forked process; send ``("progress", chain, finished, divergences)``
    messages while sampling (if ``progress``), then ``("ok", results)`` or ``("error", text)``.
    The child never writes to the terminal or a notebook: the parent draws the one bar."""
    import pickle

    lock = threading.Lock()  # nutpie reports from its own thread

    def send(message: tuple) -> None:
        with lock:
            conn.send_bytes(pickle.dumps(message))

    def report(chain: int, finished: int, divergences: int) -> None:
        send(("progress", chain, finished, divergences))

    try:
        send(("ok", run(chain_ids, report if progress else None)))
    except BaseException as err:  # report any failure to the parent
        send(("error", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()


def _sample_in_processes(run: Any, chains: int, n_proc: int, report: Any) -> list | None:
    """Run ``run(chain_ids, report)`` for consecutive blocks of chains in ``n_proc`` forked
    processes; returns the results of all chains, in chain order. The workers' progress
    messages are passed to ``report(chain, finished, divergences)`` here, in the parent.

    Returns None (so the caller samples in-process) if processes cannot be forked here.
    """
    import multiprocessing as mp
    import pickle
    import warnings
    from multiprocessing.connection import wait

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return None
    split = [chains // n_proc + (1 if k < chains % n_proc else 0) for k in range(n_proc)]
    bounds = np.cumsum([0, *split])
    workers = []
    try:
        for k in range(n_proc):
            chain_ids = list(range(bounds[k], bounds[k + 1]))
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(send, run, chain_ids, report is not None))
            with warnings.catch_warnings():
                # the parent may hold idle BLAS threads; the child only runs the sampler
                warnings.filterwarnings(
                    "ignore", message=".*use of fork\\(\\) may lead", category=DeprecationWarning
                )
                proc.start()
            send.close()
            workers.append((proc, recv))
    except OSError as err:  # pragma: no cover - e.g. process limits
        for proc, _ in workers:
            proc.kill()
        warnings.warn(
            f"could not start sampler processes ({err}); sampling in-process",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    results: dict[int, list] = {}
    pending = {recv: (k, proc) for k, (proc, recv) in enumerate(workers)}
    failure = None
    while pending and failure is None:
        for recv in wait(list(pending)):
            k, proc = pending[recv]
            try:
                message = pickle.loads(recv.recv_bytes())
            except EOFError:
                message = ("error", f"sampler process exited with code {proc.exitcode}")
            if message[0] == "progress":
                if report is not None:
                    report(*message[1:])
                continue
            del pending[recv]
            proc.join()
            if message[0] != "ok":
                failure = message[1]
                break
            results[k] = message[1]
    if failure is not None:
        for other, _ in workers:
            other.kill()
        raise RuntimeError(f"sampling failed in a worker process: {failure}")
    return [chain for k in range(n_proc) for chain in results[k]]
