"""Benchmark: the 240-run Chinchilla fit, cold and warm, against the classical procedure.

Scenarios (each run ``--repeats`` times; the table shows medians):

* ``cold process``  — a new Python process with empty compilation caches (PyTensor's base
  compile directory, which holds bayescale's stored rewritten graphs and PyTensor's numba
  cache, and ``NUMBA_CACHE_DIR``);
* ``warm process``  — a new Python process whose caches were filled by an earlier run;
* ``second fit``    — a second fit in the same process on new data (a bootstrap resample of the
  240 runs), reusing the compiled model;
* ``classical``     — Huber (δ = 1e-3) on log-loss residuals of the log-sum-exp Chinchilla law,
  analytic gradient, L-BFGS from every point of the 4500-point grid of starts, then 4000
  bootstrap refits (``benchmarks/classical.py``, vectorised over starts and resamples), in a new
  process; once in one process and once split over two (NUTS splits its chains over the cores
  the same way).
* ``warm (base)`` / ``second (base)`` — with ``--baseline DIR``: the warm and second fits of
  another bayescale source tree (e.g. ``git archive`` of an earlier commit), timed in the same
  run, so a change's effect on speed is measured on the same machine load.

Each bayescale scenario is a default ``bs.fit`` (diagnostics computed) followed by
``fit.summary()``; 'wall' runs from the start of ``import bayescale`` to the summary.

Columns: wall time split into import, build + compile, mode finding (init), tune and draws (the
sampling time split in proportion to the leapfrog steps of each phase); leapfrog steps per draw
after warm-up; minimum bulk and tail ESS over A, B, E, α, β; and ESS per second of the
scenario's whole wall time; 'cpu': CPU seconds of the process and its chains' processes (on a
shared machine a steadier measure of a change than wall time). For the classical procedure
the 4000 bootstrap refits play the role of draws (independent, so ESS = 4000).

Usage::

    python benchmarks/bench_chinchilla.py [--repeats 3] [--classical-repeats 1] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIVE = ["A", "B", "E", "alpha", "beta"]


def worker(second: bool) -> None:
    """Run inside a fresh process: import, fit (and optionally fit again), print JSON."""
    t0 = time.perf_counter()
    c0 = _cpu()
    import numpy as np

    import bayescale as bs

    t_import = time.perf_counter() - t0
    runs = bs.load_dataset("chinchilla_besiroglu2024")
    runs = runs.drop(index=runs["loss"].nlargest(5).index)
    results = []
    # a default fit: diagnostics computed (and warned about) as for any user, then the summary
    options = json.loads(os.environ.get("BENCH_FIT_OPTIONS", "{}"))
    fit = bs.fit("chinchilla", runs, random_seed=0, progressbar=False, **options)
    summary = fit.summary()
    results.append(_row(fit, summary, t_import, time.perf_counter() - t0, _cpu() - c0))
    if second:
        rng = np.random.default_rng(1)
        resample = runs.iloc[rng.integers(0, len(runs), len(runs))].reset_index(drop=True)
        t1, c1 = time.perf_counter(), _cpu()
        fit2 = bs.fit("chinchilla", resample, random_seed=1, progressbar=False, **options)
        summary2 = fit2.summary()
        results.append(_row(fit2, summary2, 0.0, time.perf_counter() - t1, _cpu() - c1))
    print("BENCH-JSON " + json.dumps(results))


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the chains' processes): less
    sensitive than wall time to other work on a shared machine."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _row(fit, summary, t_import: float, wall: float, cpu: float) -> dict:
    s = summary.loc[FIVE]
    stats = fit.idata["sample_stats"]
    n_draws = int(stats["n_steps"].size)
    return {
        "import": t_import,
        "compile": fit.timings["build"] + fit.timings["compile"],
        "init": fit.timings["init"],
        "tune": fit.timings["tune"],
        "draws": fit.timings["draws"],
        "wall": wall,
        "cpu": cpu,
        "steps_per_draw": float(stats["n_steps"].sum()) / n_draws,
        "ess_bulk": float(s["ess_bulk"].min()),
        "ess_tail": float(s["ess_tail"].min()),
        "divergences": fit.divergences,
    }


def _cache_env(base: dict, folder: str) -> dict:
    """``base`` with every compilation cache in ``folder``: PyTensor's base compile directory
    (its compile directory, bayescale's stored graphs and PyTensor's numba cache) and numba's."""
    return {
        **base,
        "NUMBA_CACHE_DIR": f"{folder}/numba",
        "PYTENSOR_FLAGS": f"base_compiledir={folder}/pytensor",
    }


def run_worker(env: dict, second: bool) -> list[dict]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    if second:
        cmd.append("--second")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line[len("BENCH-JSON ") :])
    raise RuntimeError(f"benchmark worker failed:\n{proc.stdout}\n{proc.stderr}")


def run_classical(env: dict, n_jobs: int = 1) -> dict:
    code = (
        "import json, sys, time; t0 = time.perf_counter();"
        f"sys.path.insert(0, {str(HERE)!r});"
        "import classical as c; ti = time.perf_counter() - t0;"
        "N, D, L = c.load_chinchilla();"
        f"r = c.run_classical(N, D, L, n_boot=4000, seed=42, n_jobs={n_jobs});"
        "print('BENCH-JSON ' + json.dumps({'import': ti, 'grid': r['grid_s'],"
        " 'bootstrap': r['bootstrap_s'], 'wall': time.perf_counter() - t0}))"
    )
    env = {**env, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line[len("BENCH-JSON ") :])
    raise RuntimeError(f"classical procedure failed:\n{proc.stdout}\n{proc.stderr}")


def median_row(rows: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--classical-repeats", type=int, default=1)
    parser.add_argument(
        "--baseline",
        default=None,
        help="a bayescale source tree whose warm and second fits are timed in the same run",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--second", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.second)
        return 0

    base = dict(os.environ)
    repo = HERE.parent
    if "BAYESCALE_DATA_DIR" not in base and (repo.parent / "shared" / "data").is_dir():
        base["BAYESCALE_DATA_DIR"] = str(repo.parent / "shared" / "data")
    cold, warm, second, plain, base_warm, base_second = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as keep:
        warm_env = _cache_env(base, keep)
        baseline_env = None
        if args.baseline:
            baseline_env = {
                **_cache_env(base, f"{keep}/baseline"),
                "PYTHONPATH": str(Path(args.baseline).resolve()),
            }
        for i in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                cold += run_worker(_cache_env(base, tmp), second=False)
            if i == 0:
                run_worker(warm_env, second=False)  # fill the warm cache
            first, again = run_worker(warm_env, second=True)
            warm.append(first)
            second.append(again)
            # the model before the calibration work (independent noise only), same engine
            old_env = {**warm_env, "BENCH_FIT_OPTIONS": json.dumps({"drift": False})}
            if i == 0:
                run_worker(old_env, second=False)
            plain.append(run_worker(old_env, second=False)[0])
            if baseline_env is not None:
                if i == 0:
                    run_worker(baseline_env, second=False)
                first_b, again_b = run_worker(baseline_env, second=True)
                base_warm.append(first_b)
                base_second.append(again_b)
            print(
                f"  repeat {i + 1}/{args.repeats}: cold {cold[-1]['wall']:.1f} s, "
                f"warm {first['wall']:.1f} s, second fit {again['wall']:.1f} s",
                flush=True,
            )
    classical, classical2 = [], []
    for i in range(args.classical_repeats):
        classical.append(run_classical(base))
        classical2.append(run_classical(base, n_jobs=2))
        print(
            f"  classical {i + 1}/{args.classical_repeats}: {classical[-1]['wall']:.1f} s "
            f"(1 process), {classical2[-1]['wall']:.1f} s (2 processes)",
            flush=True,
        )

    header = (
        f"{'scenario':<14}{'import':>8}{'compile':>9}{'init':>7}{'tune':>7}{'draws':>7}"
        f"{'wall':>8}{'cpu':>7}{'steps/draw':>11}{'ESS bulk':>9}{'ESS tail':>9}{'ESS/s':>8}"
        f"{'div':>5}"
    )
    print(
        f"\nChinchilla 240-run fit, 4 chains x 1000 draws (+ bs.fit's default warm-up); medians of "
        f"{args.repeats} runs; seconds"
    )
    print(header)
    print("-" * len(header))
    scenarios = (
        ("cold process", cold),
        ("warm process", warm),
        ("second fit", second),
        ("warm, no drift", plain),
    )
    if base_warm:
        scenarios += (("warm (base)", base_warm), ("second (base)", base_second))
    for name, rows in scenarios:
        m = median_row(rows)
        print(
            f"{name:<14}{m['import']:>8.2f}{m['compile']:>9.2f}{m['init']:>7.2f}{m['tune']:>7.2f}"
            f"{m['draws']:>7.2f}{m['wall']:>8.2f}{m['cpu']:>7.2f}{m['steps_per_draw']:>11.2f}"
            f"{m['ess_bulk']:>9.0f}{m['ess_tail']:>9.0f}{m['ess_bulk'] / m['wall']:>8.0f}"
            f"{m['divergences']:>5.0f}"
        )
    for name, rows in (("classical", classical), ("classical x2", classical2)):
        if not rows:  # --classical-repeats 0
            continue
        c = median_row(rows)
        print(
            f"{name:<14}{c['import']:>8.2f}{c['grid']:>9.2f}{'':>7}{'':>7}"
            f"{c['bootstrap']:>7.2f}{c['wall']:>8.2f}{'':>7}{'-':>11}{4000:>9}{4000:>9}"
            f"{4000 / c['wall']:>8.0f}{'-':>5}"
        )
    print(
        "(classical: 'compile' column = grid of 4500 L-BFGS starts, 'draws' = 4000 bootstrap "
        "refits; 'x2' = split over 2 processes, as the NUTS chains are)"
    )
    cold_w, w, s2 = (median_row(r)["wall"] for r in (cold, warm, second))
    for name, rows in (("1-process", classical), ("2-process", classical2)):
        if not rows:
            continue
        cl = median_row(rows)["wall"]
        print(
            f"speed-up over the {name} classical procedure: cold {cl / cold_w:.1f}x, "
            f"warm {cl / w:.1f}x, second fit {cl / s2:.1f}x"
        )
    if base_warm:
        print(
            f"this tree / baseline: warm {w / median_row(base_warm)['wall']:.2f}x, second fit "
            f"{s2 / median_row(base_second)['wall']:.2f}x (wall time; < 1 is faster)"
        )
        cw, cs = (median_row(r)["cpu"] for r in (warm, second))
        print(
            f"this tree / baseline, CPU time: warm {cw / median_row(base_warm)['cpu']:.2f}x, "
            f"second fit {cs / median_row(base_second)['cpu']:.2f}x"
        )
    print(
        f"default (with drift) / model before the calibration work, warm process: "
        f"{w / median_row(plain)['wall']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
