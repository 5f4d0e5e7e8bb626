"""Throughput of ``bs.fit_many``: N Chinchilla fits on local processes and on a Dask cluster.

Each job fits the Chinchilla law to its own simulated 240-run isoFLOP design
(``bs.testing.chinchilla_design`` + ``bs.testing.simulate`` at Besiroglu et al.'s estimate,
design, noise and sampler seeded by the job's index) with ``bs.fit``'s defaults (4 chains ×
1000 draws after the default warm-up, 500 iterations from the mode) unless ``--draws``/
``--tune``/``--chains`` say otherwise. The batch runs

* on ``--processes`` local processes (``fit_many(processes=...)``),
* on a ``distributed.LocalCluster`` with ``--workers`` single-threaded worker processes
  (``fit_many(client=...)``; skipped when dask.distributed is not installed),
* and, with ``--serial``, in this process one fit after another,

checks that every job's draws are identical in every mode (a SHA-256 of each fit's draws and
sampler statistics, computed in the worker with the fit's diagnostics — R-hat, ESS,
divergences — by ``fit_many(reduce=...)``), and prints one row per mode: wall time (cluster
start-up excluded, shown apart), fits per minute, core-seconds per fit (wall time × workers /
fits: what the target of 1.2 core-s, 1,000 fits in 10 minutes on 2 cores, is about), the CPU
time the workers spent per fit (``JobResult.cpu_seconds``: the fit's cost whatever else the
machine runs), the time 1,000 fits would take at that rate, the compile time summed over the
fits, the median sampling time, the worst diagnostics and the CPU time of this (the parent)
process during the local batch (``parent_cpu_s``: warm-up compile, dispatch, results). The
load average is printed first and last: on a shared machine the wall times are those of the
cores actually available.

With the default sampler a batch this size runs its fits on the native log-density callback
(``bayescale.sampling.native``; the same draws as ``bs.fit``): see ``fit_many``.

Usage::

    python benchmarks/bench_batch.py [--fits 20] [--processes 2] [--workers 2] [--serial]
        [--sampler nutpie-compiled]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import time

import numpy as np
import pandas as pd

import bayescale as bs


def make_jobs(n: int, runs: int) -> list[bs.FitJob]:
    truth = bs.testing.BESIROGLU_TRUTH
    jobs = []
    for i in range(n):
        design = bs.testing.chinchilla_design(runs, random_seed=i)
        data = bs.testing.simulate("chinchilla", truth, design, random_seed=i)
        jobs.append(bs.FitJob("chinchilla", data, {"random_seed": i}, name=f"sim {i}"))
    return jobs


def digest(fit: bs.Fit) -> dict:
    """What a worker sends back for one fit (``fit_many(reduce=...)``): a SHA-256 of its draws
    and sampler statistics, its diagnostics (R-hat, ESS, divergences: computed here, as
    ``bs.fit(warn=True)`` would) and its timings. Reads ``fit.posterior`` and
    ``fit.sample_stats``, not ``fit.idata``, whose first access would compute the pointwise
    log-likelihood that no one here needs."""
    sha = hashlib.sha256()
    for ds in (fit.posterior, fit.sample_stats):
        for name in sorted(ds.data_vars):
            sha.update(name.encode())
            sha.update(np.ascontiguousarray(ds[name].to_numpy()).tobytes())
    diag = fit.diagnostics()
    return {"sha": sha.hexdigest(), "diagnostics": diag, "timings": dict(fit.timings)}


def digests_of(result: bs.BatchResult) -> list[str | None]:
    return [None if v is None else v["sha"] for v in result.values]


def row(
    mode: str, workers: int, result: bs.BatchResult, startup: float = 0.0, parent: float = np.nan
) -> dict:
    done = [r for r in result if r.ok]
    values = [r.value for r in done]
    n = len(result)
    per_fit = result.seconds / n
    timings = [v["timings"] for v in values]
    diags = [v["diagnostics"] for v in values]
    return {
        "mode": mode,
        "workers": workers,
        "fits": len(done),
        "failed": len(result.failures),
        "wall_s": result.seconds,
        "startup_s": startup,
        "fits_per_min": 60 * n / result.seconds,
        "core_s_per_fit": per_fit * workers,
        "cpu_s_per_fit": float(np.mean([r.cpu_seconds for r in done])) if done else np.nan,
        "parent_cpu_s": parent,
        "1000_fits_min": per_fit * 1000 / 60,
        "compile_s_sum": sum(t.get("compile", 0.0) for t in timings),
        "sampling_s_median": float(np.median([t["sampling"] for t in timings])),
        "max_r_hat": max(d["max_r_hat"] for d in diags),
        "min_ess_bulk": min(d["min_ess_bulk"] for d in diags),
        "divergent_fits": sum(d["divergences"] > 0 for d in diags),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--runs", type=int, default=240)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=None, help="default: bs.fit's")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--sampler", default=None, help="bs.fit's sampler= (default: nutpie)")
    parser.add_argument("--serial", action="store_true", help="also run in this process")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 160)

    kw = dict(draws=args.draws, tune=args.tune, chains=args.chains, warn=False, reduce=digest)
    if args.sampler:
        kw["sampler"] = args.sampler
    progress = not args.no_progress
    jobs = make_jobs(args.fits, args.runs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (np.nan,) * 3
    print(
        f"{args.fits} Chinchilla fits of {args.runs} simulated runs, {args.chains} chains × "
        f"{args.draws} draws (+{args.tune or 'default'} warm-up); {cores} cores, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )

    rows, reference, checks = [], None, []
    if args.serial:
        serial = bs.fit_many(jobs, processes=1, progressbar=progress, **kw)
        rows.append(row("in-process", 1, serial))
        reference = digests_of(serial)

    cpu = time.process_time()  # this process's own CPU (warm-up compile, dispatch, results)
    local = bs.fit_many(jobs, processes=args.processes, progressbar=progress, **kw)
    rows.append(row("local processes", args.processes, local, parent=time.process_time() - cpu))
    if reference is None:
        reference = digests_of(local)
    else:
        checks.append(("local processes vs in-process", digests_of(local) == reference))

    if not args.no_dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            print(
                "dask.distributed is not installed: Dask run skipped (pip install bayescale[dask])"
            )
        else:
            t0 = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                ) as cluster,
                Client(cluster) as client,
            ):
                startup = time.perf_counter() - t0
                dask = bs.fit_many(jobs, client=client, progressbar=progress, **kw)
            rows.append(row("Dask LocalCluster", args.workers, dask, startup))
            checks.append(("Dask vs local processes", digests_of(dask) == reference))

    table = pd.DataFrame(rows).set_index("mode")
    print()
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    print()
    for label, ok in checks:
        print(f"identical draws, {label}: {'yes' if ok else 'NO'}")
    for result in (local,):
        for failure in result.failures:
            print(f"{failure.job.label(failure.index)} failed: {failure.message}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (np.nan,) * 3
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if not all(ok for _, ok in checks):
        raise SystemExit("draws differ between modes")


if __name__ == "__main__":
    main()
