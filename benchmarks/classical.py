"""Classical point-estimate baseline for the Chinchilla Approach-3 scaling law.

This module implements the frequentist procedure of Besiroglu et al. (2024),
"Chinchilla Scaling: A replication attempt" (arXiv:2404.10102), which serves
as the reference against which the Bayesian fits in ``bayescale`` are timed
and compared.

The parametric law is

.. math::

    \\hat L(N, D) = E + A N^{-\\alpha} + B D^{-\\beta},

parameterised on the log scale as

.. math::

    \\log \\hat L = \\operatorname{LSE}(a - \\alpha \\log N,\\;
                                      b - \\beta \\log D,\\; e),

with :math:`A = e^a`, :math:`B = e^b`, :math:`E = e^e`.  The point estimate
minimises the *summed* Huber loss (``delta = 1e-3``) of the log-loss residuals
:math:`\\log \\hat L - \\log L` (analytic gradient), using L-BFGS started from
every point of a 4500-point grid of initialisations and keeping the best
optimum.  Uncertainty is quantified by a nonparametric bootstrap over training
runs: each resample is refit by L-BFGS starting from the full-data point
estimate, and standard errors / 95% percentile intervals are read off the
bootstrap distribution.

The 4500 starts are optimised *together* (:func:`lbfgs_batch`, one numpy
evaluation of the objective for every start still running), and so are the
4000 resamples (a resample is a vector of run counts, i.e. weights on the 240
runs): the whole procedure takes ≈ 30 s on two cores instead of minutes of
per-start SciPy calls.  Passing ``options`` uses SciPy's L-BFGS-B one start at
a time instead.

Running the module as a script performs the full procedure on the 240
Chinchilla runs (the 245 extracted points minus the 5 with highest loss),
prints the estimates next to the published ones, and reports wall-clock
timings::

    python benchmarks/classical.py [--n-boot 4000] [--seed 42] [--n-jobs 1]
"""

import argparse
import itertools
import multiprocessing as mp
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

if __name__ == "__main__":
    # Tiny per-call problems: threaded BLAS inside L-BFGS-B only adds overhead.
    # Must be set before NumPy/SciPy load; an explicit user setting wins.
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "BATCH_OPTIONS",
    "DEFAULT_GRID",
    "LBFGS_OPTIONS",
    "PARAM_NAMES",
    "GridFit",
    "bootstrap",
    "default_data_path",
    "default_grid",
    "fit_grid",
    "huber_objective",
    "huber_objective_batch",
    "lbfgs_batch",
    "load_chinchilla",
    "natural_params",
    "refit",
    "run_classical",
    "summarize_bootstrap",
]

#: Names of the natural-scale parameters, in the order of ``natural_params``.
PARAM_NAMES = ("A", "B", "E", "alpha", "beta")

#: Besiroglu et al.'s grid of initial values for each log-scale coordinate.
DEFAULT_GRID = {
    "a": np.arange(0.0, 30.0, 5.0),  # 0, 5, ..., 25
    "b": np.arange(0.0, 30.0, 5.0),  # 0, 5, ..., 25
    "e": np.arange(-1.0, 1.5, 0.5),  # -1, -0.5, ..., 1
    "alpha": np.arange(0.0, 2.5, 0.5),  # 0, 0.5, ..., 2
    "beta": np.arange(0.0, 2.5, 0.5),  # 0, 0.5, ..., 2
}

#: L-BFGS-B settings used for every minimisation.  The summed Huber objective
#: is O(1e-3) at the optimum, while SciPy's relative-reduction test compares the
#: change in f against ``max(|f|, 1)``: with the default ``ftol`` (2.2e-9) and
#: ``gtol`` (1e-5) a refit started at the point estimate typically stops after
#: ~10 iterations, far from the resample's optimum, which collapses bootstrap
#: spreads by one to two orders of magnitude.  These tolerances let the
#: optimiser run to (near) machine-precision convergence.
LBFGS_OPTIONS = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 15000}

#: Published estimates (Besiroglu et al. 2024, Huber-likelihood MLE with
#: 4000-sample bootstrap): name -> (estimate, SE, CI low, CI high).
PUBLISHED = {
    "A": (482.01, 124.52, 285.2, 743.6),
    "B": (2085.43, 1293.28, 1042.4, 5810.3),
    "E": (1.817, 0.026, 1.769, 1.871),
    "alpha": (0.3478, 0.0154, 0.317, 0.373),
    "beta": (0.3659, 0.0206, 0.331, 0.415),
}

#: Plain summed-Huber grid fit (no scale parameter) reported alongside.
PUBLISHED_PLAIN_GRID = {
    "A": 477.8,
    "B": 2143.9,
    "E": 1.8172,
    "alpha": 0.34731,
    "beta": 0.36718,
}

#: Hoffmann et al. (2022) Approach-3 estimates.
HOFFMANN = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28}


# ---------------------------------------------------------------------------
# Objective
# ---------------------------------------------------------------------------
def huber_objective(theta, logN, logD, logL, delta=1e-3):
    """Summed Huber loss of log-loss residuals and its analytic gradient.

    Parameters
    ----------
    theta : array_like, shape (5,)
        Log-scale parameters ``[a, b, e, alpha, beta]``.
    logN : ndarray, shape (n,)
        Log parameter counts.
    logD : ndarray, shape (n,)
        Log training-token counts.
    logL : ndarray, shape (n,)
        Log observed losses.
    delta : float, default 1e-3
        Huber threshold; residuals with ``|r| <= delta`` are penalised
        quadratically (``r**2 / 2``), larger ones linearly
        (``delta * (|r| - delta / 2)``).

    Returns
    -------
    value : float
        ``sum_i huber_delta(log L_hat_i - log L_i)``.
    grad : ndarray, shape (5,)
        Gradient of ``value`` with respect to ``theta``.

    Notes
    -----
    The log-sum-exp is evaluated stably by subtracting the row-wise maximum;
    its partial derivatives are the softmax weights ``w_k`` of the three
    terms, so ``d log L_hat / d(a, b, e, alpha, beta)
    = (w_1, w_2, w_3, -w_1 log N, -w_2 log D)``.
    """
    a, b, e, alpha, beta = (float(t) for t in theta)
    u1 = a - alpha * logN
    u2 = b - beta * logD
    m = np.maximum(np.maximum(u1, u2), e)
    x1 = np.exp(u1 - m)
    x2 = np.exp(u2 - m)
    x3 = np.exp(e - m)
    s = x1 + x2 + x3
    r = m + np.log(s) - logL

    absr = np.abs(r)
    quad = absr <= delta
    value = float(np.sum(np.where(quad, 0.5 * r * r, delta * (absr - 0.5 * delta))))

    # psi(r) = d huber / d r, scaled by the softmax normaliser once.
    psi = np.where(quad, r, delta * np.sign(r)) / s
    g1 = psi * x1
    g2 = psi * x2
    grad = np.array(
        [
            g1.sum(),
            g2.sum(),
            (psi * x3).sum(),
            -(g1 @ logN),
            -(g2 @ logD),
        ]
    )
    return value, grad


def huber_objective_batch(theta, logN, logD, logL, weights=None, delta=1e-3):
    """:func:`huber_objective` for many parameter vectors at once (vectorised numpy).

    Parameters
    ----------
    theta : ndarray, shape (K, 5)
        One ``[a, b, e, alpha, beta]`` per row.
    logN, logD, logL : ndarray, shape (n,)
        The runs (shared by every row).
    weights : ndarray, shape (K, n), optional
        Weight of each run in each row's sum (a bootstrap resample is the count of each run);
        default 1.
    delta : float
        Huber threshold.

    Returns
    -------
    value : ndarray, shape (K,)
    grad : ndarray, shape (K, 5)

    Every operation is row by row (no matrix products), so a row's value and gradient are the
    same bits whichever other rows are evaluated with it.
    """
    a, b, e, alpha, beta = (theta[:, k : k + 1] for k in range(5))
    u1 = a - alpha * logN
    u2 = b - beta * logD
    m = np.maximum(np.maximum(u1, u2), e)
    x1 = np.exp(u1 - m)
    x2 = np.exp(u2 - m)
    x3 = np.exp(e - m)
    s = x1 + x2 + x3
    r = m + np.log(s) - logL
    absr = np.abs(r)
    quad = absr <= delta
    h = np.where(quad, 0.5 * r * r, delta * (absr - 0.5 * delta))
    psi = np.where(quad, r, delta * np.sign(r)) / s
    if weights is not None:
        h = h * weights
        psi = psi * weights
    g1 = psi * x1
    g2 = psi * x2
    grad = np.stack(
        [g1.sum(1), g2.sum(1), (psi * x3).sum(1), -(g1 * logN).sum(1), -(g2 * logD).sum(1)],
        axis=1,
    )
    return h.sum(1), grad


#: Settings of the vectorised L-BFGS (:func:`lbfgs_batch`): history length, and the stopping
#: rules — the largest gradient entry below ``gtol`` times the run count, or a relative decrease
#: of the objective below ``ftol`` over an iteration, or ``maxiter`` iterations.
BATCH_OPTIONS = {"m": 10, "gtol": 1e-13, "ftol": 1e-13, "maxiter": 3000}


def lbfgs_batch(fun, x0, *, m=10, gtol=1e-13, ftol=1e-13, maxiter=3000, max_ls=40):
    """Minimise ``K`` independent smooth problems at once with L-BFGS (vectorised numpy).

    ``fun(x, rows)`` returns the values ``(len(rows),)`` and gradients ``(len(rows), d)`` of
    problems ``rows`` at the points ``x`` (one row each). Each problem keeps its own history of
    ``m`` steps, its own step length (backtracking from 1 with the Armijo condition and a
    safeguarded quadratic interpolation) and its own stopping rule; only the problems still
    running are evaluated. A problem's path does not depend on the others.

    Returns ``(x, f, converged, iterations)``.
    """
    x = np.array(x0, dtype=np.float64)
    K, d = x.shape
    f, g = fun(x, np.arange(K))
    S = np.zeros((K, m, d))
    Y = np.zeros((K, m, d))
    rho = np.zeros((K, m))
    newest = np.full(K, -1)  # slot of the newest pair (-1: no history)
    n_iter = np.zeros(K, dtype=np.int64)
    done = ~np.isfinite(f) | (np.abs(g).max(1) <= gtol)
    converged = done & np.isfinite(f)
    for _ in range(maxiter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        xa, fa, ga = x[act], f[act], g[act]
        Sa, Ya, ra, na = S[act], Y[act], rho[act], newest[act]
        rows = np.arange(act.size)
        # two-loop recursion, newest pair first (empty slots have rho = 0 and do nothing)
        q = ga.copy()
        alphas = np.zeros((act.size, m))
        for j in range(m):
            slot = (na - j) % m
            sj, yj, rj = Sa[rows, slot], Ya[rows, slot], ra[rows, slot]
            alphas[:, j] = rj * (sj * q).sum(1)
            q -= alphas[:, j : j + 1] * yj
        have = na >= 0
        s_new, y_new = Sa[rows, na % m], Ya[rows, na % m]
        yy = (y_new * y_new).sum(1)
        gamma = np.where(
            have & (yy > 0),
            (s_new * y_new).sum(1) / np.where(yy > 0, yy, 1.0),
            1.0 / np.maximum(np.sqrt((ga * ga).sum(1)), 1e-300),
        )
        gamma = np.where(have, gamma, np.minimum(gamma, 1.0))
        r = gamma[:, None] * q
        for j in range(m - 1, -1, -1):
            slot = (na - j) % m
            sj, yj, rj = Sa[rows, slot], Ya[rows, slot], ra[rows, slot]
            beta = rj * (yj * r).sum(1)
            r += sj * (alphas[:, j] - beta)[:, None]
        p = -r
        slope = (p * ga).sum(1)
        bad = ~(slope < 0) | ~np.all(np.isfinite(p), axis=1)
        if bad.any():  # not a descent direction: forget the history, steepest descent
            scale = 1.0 / np.maximum(np.sqrt((ga[bad] * ga[bad]).sum(1)), 1e-300)
            p[bad] = -ga[bad] * np.minimum(scale, 1.0)[:, None]
            slope[bad] = (p[bad] * ga[bad]).sum(1)
            ra[bad] = 0.0
            na[bad] = -1
        # backtracking line search, problem by problem
        t = np.ones(act.size)
        f_new = np.full(act.size, np.inf)
        g_new = np.zeros_like(ga)
        pending = np.arange(act.size)
        accepted = np.zeros(act.size, dtype=bool)
        for _ls in range(max_ls):
            xt = xa[pending] + t[pending, None] * p[pending]
            ft, gt = fun(xt, act[pending])
            ok = np.isfinite(ft) & (ft <= fa[pending] + 1e-4 * t[pending] * slope[pending])
            f_new[pending[ok]] = ft[ok]
            g_new[pending[ok]] = gt[ok]
            accepted[pending[ok]] = True
            rest = pending[~ok]
            if rest.size == 0:
                break
            # safeguarded minimum of the quadratic through f(0), f'(0) and f(t)
            tr, fr = t[rest], ft[~ok]
            denom = 2.0 * (fr - fa[rest] - slope[rest] * tr)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                t_q = -slope[rest] * tr * tr / denom
            t_q = np.where(np.isfinite(t_q) & np.isfinite(fr), t_q, 0.1 * tr)
            t[rest] = np.clip(t_q, 0.1 * tr, 0.5 * tr)
            pending = rest
        s_step = t[:, None] * p
        y_step = g_new - ga
        sy = (s_step * y_step).sum(1)
        store = accepted & (
            sy > 1e-12 * np.sqrt((y_step * y_step).sum(1) * (s_step * s_step).sum(1))
        )
        slot = (na + 1) % m
        idx = np.flatnonzero(store)
        Sa[idx, slot[idx]] = s_step[idx]
        Ya[idx, slot[idx]] = y_step[idx]
        ra[idx, slot[idx]] = 1.0 / sy[idx]
        na[idx] = slot[idx]
        # write back
        xa[accepted] = xa[accepted] + s_step[accepted]
        decrease = np.where(accepted, fa - f_new, 0.0)
        fa = np.where(accepted, f_new, fa)
        ga[accepted] = g_new[accepted]
        x[act], f[act], g[act] = xa, fa, ga
        S[act], Y[act], rho[act], newest[act] = Sa, Ya, ra, na
        n_iter[act] += 1
        small_g = np.abs(ga).max(1) <= gtol
        small_f = decrease <= ftol * np.maximum(np.abs(fa), 1e-300)
        stop = ~accepted | small_g | small_f
        done[act[stop]] = True
        converged[act[stop]] = (accepted | small_g)[stop]
    return x, f, converged, n_iter


def _batch_fun(logN, logD, logL, delta, weights=None):
    def fun(x, rows):
        w = None if weights is None else weights[rows]
        return huber_objective_batch(x, logN, logD, logL, w, delta)

    return fun


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------
@dataclass
class GridFit:
    """Result of a multi-start L-BFGS-B fit.

    Attributes
    ----------
    theta : ndarray, shape (5,)
        Best log-scale parameters ``[a, b, e, alpha, beta]``.
    fun : float
        Objective value at ``theta``.
    n_starts : int
        Number of initialisations that were optimised.
    n_success : int
        Number of runs for which the optimiser reported success.
    best_start : ndarray, shape (5,)
        Initialisation that produced ``theta``.
    all_fun : ndarray, shape (n_starts,)
        Final objective value of every start, in grid order.
    """

    theta: np.ndarray
    fun: float
    n_starts: int
    n_success: int
    best_start: np.ndarray
    all_fun: np.ndarray = field(default=None, repr=False)

    @property
    def params(self):
        """dict : Natural-scale parameters ``A, B, E, alpha, beta``."""
        return dict(zip(PARAM_NAMES, natural_params(self.theta), strict=True))


def default_grid():
    """Besiroglu et al.'s 4500 initialisations.

    Returns
    -------
    ndarray, shape (4500, 5)
        Rows ``[a, b, e, alpha, beta]`` forming the Cartesian product of
        :data:`DEFAULT_GRID`.
    """
    g = DEFAULT_GRID
    return _product_grid(g["a"], g["b"], g["e"], g["alpha"], g["beta"])


def _product_grid(a, b, e, alpha, beta):
    rows = itertools.product(alpha, beta, e, a, b)
    # reorder each (alpha, beta, e, a, b) tuple to theta order
    return np.array([[r[3], r[4], r[2], r[0], r[1]] for r in rows], dtype=np.float64)


def _as_grid(grid):
    if grid is None:
        return default_grid()
    if isinstance(grid, dict):
        return _product_grid(
            *(np.atleast_1d(np.asarray(grid[k], float)) for k in ("a", "b", "e", "alpha", "beta"))
        )
    arr = np.atleast_2d(np.asarray(grid, dtype=np.float64))
    if arr.shape[1] != 5:
        raise ValueError("grid must have shape (n_starts, 5) or be a dict of axes")
    return arr


def refit(theta0, logN, logD, logL, delta=1e-3, options=None):
    """Run one L-BFGS-B minimisation of :func:`huber_objective`.

    Parameters
    ----------
    theta0 : array_like, shape (5,)
        Initial ``[a, b, e, alpha, beta]``.
    logN, logD, logL : ndarray, shape (n,)
        Log model size, log tokens and log loss.
    delta : float, default 1e-3
        Huber threshold.
    options : dict, optional
        L-BFGS-B options for :func:`scipy.optimize.minimize`
        (default :data:`LBFGS_OPTIONS`).

    Returns
    -------
    scipy.optimize.OptimizeResult
        The optimiser output (``x``, ``fun``, ``success``, ...).
    """
    return minimize(
        huber_objective,
        np.asarray(theta0, dtype=np.float64),
        args=(logN, logD, logL, delta),
        method="L-BFGS-B",
        jac=True,
        options=LBFGS_OPTIONS if options is None else options,
    )


def _n_workers(n_jobs, n_tasks):
    if n_jobs is None or n_jobs == 1:
        return 1
    if n_jobs < 0:
        n_jobs = os.cpu_count() or 1
    if "fork" not in mp.get_all_start_methods():
        return 1
    return max(1, min(int(n_jobs), n_tasks))


def _child(func, chunk, conn):
    try:
        conn.send(("ok", func(chunk)))
    except BaseException as exc:  # pragma: no cover - reported in the parent
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


def _map_chunks(func, items, n_jobs):
    """Apply ``func`` to chunks of ``items``; return its outputs in item order.

    ``func`` maps an array of items to a tuple of arrays with one row per
    item. With ``n_jobs > 1`` the items are dealt round-robin (grid starts
    differ a lot in cost along the grid) to forked worker processes, which
    inherit ``func`` and the data; only results travel back through pipes,
    so the output is identical to the serial computation.
    """
    n_workers = _n_workers(n_jobs, len(items))
    if n_workers == 1:
        return func(items)
    ctx = mp.get_context("fork")
    chunks = [np.arange(w, len(items), n_workers) for w in range(n_workers)]
    procs, conns = [], []
    with warnings.catch_warnings():
        # Python >= 3.12 warns about forking a process that has BLAS threads;
        # the children only run NumPy/SciPy code on private data.
        warnings.simplefilter("ignore", DeprecationWarning)
        for idx in chunks:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(func, items[idx], send), daemon=True)
            proc.start()
            send.close()
            procs.append(proc)
            conns.append(recv)
    parts = []
    try:
        for conn in conns:
            status, payload = conn.recv()
            if status != "ok":
                raise RuntimeError(f"worker failed: {payload}")
            parts.append(payload)
    finally:
        for proc in procs:
            proc.join()
    order = np.argsort(np.concatenate(chunks), kind="stable")
    return tuple(np.concatenate(p)[order] for p in zip(*parts, strict=True))


def fit_grid(logN, logD, logL, delta=1e-3, grid=None, options=None, n_jobs=1):
    """Multi-start L-BFGS-B fit from a grid of initialisations.

    Parameters
    ----------
    logN, logD, logL : array_like, shape (n,)
        Log model size, log training tokens and log loss.
    delta : float, default 1e-3
        Huber threshold.
    grid : None, dict or array_like, optional
        Initialisations. ``None`` uses Besiroglu et al.'s full 4500-point
        grid (:func:`default_grid`). A dict with keys ``a, b, e, alpha,
        beta`` gives per-coordinate axes whose Cartesian product is used;
        an array of shape ``(n_starts, 5)`` lists starts explicitly.
    options : dict, optional
        SciPy L-BFGS-B options (e.g. :data:`LBFGS_OPTIONS`): optimise one start
        at a time with SciPy. Default: all starts at once with
        :func:`lbfgs_batch` (:data:`BATCH_OPTIONS`).
    n_jobs : int, default 1
        Number of worker processes (``-1``: all CPUs). The result does not
        depend on it.

    Returns
    -------
    GridFit
        Best parameters, objective value and bookkeeping. Every start is
        optimised; the run with the lowest finite objective wins (ties go to
        the earliest start).
    """
    logN, logD, logL = (np.asarray(v, dtype=np.float64) for v in (logN, logD, logL))
    starts = _as_grid(grid)

    if options is None:  # every start at once: vectorised L-BFGS

        def run(block):
            fun = _batch_fun(logN, logD, logL, delta)
            xs, funs, ok, _ = lbfgs_batch(fun, block, **BATCH_OPTIONS)
            return xs, funs, ok

    else:  # SciPy's L-BFGS-B, one start at a time, with the given options

        def run(block):
            xs = np.empty_like(block)
            funs = np.empty(len(block))
            ok = np.empty(len(block), dtype=bool)
            for k, x0 in enumerate(block):
                res = refit(x0, logN, logD, logL, delta, options)
                xs[k], funs[k], ok[k] = res.x, res.fun, res.success
            return xs, funs, ok

    xs, funs, ok = _map_chunks(run, starts, n_jobs)
    finite = np.isfinite(funs)
    if not finite.any():
        raise RuntimeError("no start produced a finite objective")
    best = int(np.argmin(np.where(finite, funs, np.inf)))
    return GridFit(
        theta=xs[best].copy(),
        fun=float(funs[best]),
        n_starts=len(starts),
        n_success=int(ok.sum()),
        best_start=starts[best].copy(),
        all_fun=funs,
    )


def bootstrap(
    logN, logD, logL, n_boot=4000, seed=42, start=None, delta=1e-3, options=None, n_jobs=1
):
    """Nonparametric bootstrap over runs, refitting from the point estimate.

    Parameters
    ----------
    logN, logD, logL : array_like, shape (n,)
        Log model size, log training tokens and log loss.
    n_boot : int, default 4000
        Number of resamples.
    seed : int, default 42
        Seed for :func:`numpy.random.default_rng`; all resample indices are
        drawn up front, so results do not depend on ``n_jobs``.
    start : array_like, shape (5,), optional
        Initialisation for every refit, normally the full-data point estimate
        ``theta_hat``. If ``None`` it is computed with :func:`fit_grid`
        over the full grid.
    delta : float, default 1e-3
        Huber threshold.
    options : dict, optional
        L-BFGS-B options (default :data:`LBFGS_OPTIONS`).
    n_jobs : int, default 1
        Number of worker processes (``-1``: all CPUs).

    Returns
    -------
    ndarray, shape (n_boot, 5)
        Log-scale estimates ``[a, b, e, alpha, beta]``, one row per resample
        (``n`` rows drawn with replacement).
    """
    logN, logD, logL = (np.asarray(v, dtype=np.float64) for v in (logN, logD, logL))
    if start is None:
        start = fit_grid(logN, logD, logL, delta=delta, options=options, n_jobs=n_jobs).theta
    start = np.asarray(start, dtype=np.float64)
    n = logN.size
    rng = np.random.default_rng(seed)
    resamples = rng.integers(0, n, size=(n_boot, n))

    def run(block):
        if options is None:  # all resamples at once: a resample is a count per run
            weights = np.stack([np.bincount(idx, minlength=n) for idx in block]).astype(float)
            fun = _batch_fun(logN, logD, logL, delta, weights)
            x0 = np.repeat(start[None, :], len(block), axis=0)
            return (lbfgs_batch(fun, x0, **BATCH_OPTIONS)[0],)
        out = np.empty((len(block), 5))
        for k, idx in enumerate(block):
            out[k] = refit(start, logN[idx], logD[idx], logL[idx], delta, options).x
        return (out,)

    return _map_chunks(run, resamples, n_jobs)[0]


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------
def natural_params(theta):
    """Map log-scale parameters to ``(A, B, E, alpha, beta)``.

    Parameters
    ----------
    theta : array_like, shape (..., 5)
        ``[a, b, e, alpha, beta]`` (a single vector or a stack of them).

    Returns
    -------
    ndarray, shape (..., 5)
        ``[exp(a), exp(b), exp(e), alpha, beta]``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    out = theta.copy()
    out[..., :3] = np.exp(theta[..., :3])
    return out


def summarize_bootstrap(theta_hat, boot, level=0.95):
    """Point estimate, bootstrap SE and percentile CI for each parameter.

    Parameters
    ----------
    theta_hat : array_like, shape (5,)
        Full-data log-scale estimate.
    boot : array_like, shape (n_boot, 5)
        Bootstrap log-scale estimates from :func:`bootstrap`.
    level : float, default 0.95
        Confidence level of the percentile interval.

    Returns
    -------
    dict
        ``{name: {"estimate", "se", "ci_low", "ci_high"}}`` for
        ``A, B, E, alpha, beta`` on the natural scale (SE is the standard
        deviation of the bootstrap draws, ``ddof=1``).
    """
    est = natural_params(theta_hat)
    draws = natural_params(boot)
    q = 100.0 * np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    lo, hi = np.percentile(draws, q, axis=0)
    se = draws.std(axis=0, ddof=1)
    return {
        name: {
            "estimate": float(est[k]),
            "se": float(se[k]),
            "ci_low": float(lo[k]),
            "ci_high": float(hi[k]),
        }
        for k, name in enumerate(PARAM_NAMES)
    }


def run_classical(N, D, L, n_boot=4000, seed=42, delta=1e-3, grid=None, options=None, n_jobs=1):
    """Full classical procedure: grid fit, then bootstrap, with timings.

    Parameters
    ----------
    N, D, L : array_like, shape (n,)
        Parameter counts, training tokens and final losses (natural scale).
    n_boot : int, default 4000
        Number of bootstrap resamples.
    seed : int, default 42
        Bootstrap seed.
    delta : float, default 1e-3
        Huber threshold.
    grid : optional
        Initialisations for :func:`fit_grid` (default: full 4500-point grid).
    options : dict, optional
        L-BFGS-B options (default :data:`LBFGS_OPTIONS`).
    n_jobs : int, default 1
        Worker processes for the grid and the bootstrap (``-1``: all CPUs).
        Estimates do not depend on it.

    Returns
    -------
    dict
        Keys ``grid_s``, ``bootstrap_s``, ``total_s`` (wall-clock seconds),
        ``theta`` (log-scale point estimate), ``fun`` (objective value),
        ``n_starts``, ``n_boot``, ``estimate``, ``se``, ``ci_low``,
        ``ci_high`` (dicts keyed by ``A, B, E, alpha, beta``), ``summary``
        (as returned by :func:`summarize_bootstrap`) and ``boot`` (the
        ``(n_boot, 5)`` log-scale bootstrap draws).

    Notes
    -----
    Each L-BFGS-B call works on 240 points, far too little for threaded
    BLAS to help; multi-threaded OpenBLAS inside SciPy's L-BFGS-B only burns
    a second core (and costs wall time). For timing, run with
    ``OPENBLAS_NUM_THREADS=1`` (the script entry point sets this default)
    and use ``n_jobs`` for parallelism.
    """
    logN = np.log(np.asarray(N, dtype=np.float64))
    logD = np.log(np.asarray(D, dtype=np.float64))
    logL = np.log(np.asarray(L, dtype=np.float64))

    t0 = time.perf_counter()
    fit = fit_grid(logN, logD, logL, delta=delta, grid=grid, options=options, n_jobs=n_jobs)
    t1 = time.perf_counter()
    boot = bootstrap(
        logN,
        logD,
        logL,
        n_boot=n_boot,
        seed=seed,
        start=fit.theta,
        delta=delta,
        options=options,
        n_jobs=n_jobs,
    )
    t2 = time.perf_counter()

    summary = summarize_bootstrap(fit.theta, boot)
    return {
        "grid_s": t1 - t0,
        "bootstrap_s": t2 - t1,
        "total_s": t2 - t0,
        "theta": fit.theta,
        "fun": fit.fun,
        "n_starts": fit.n_starts,
        "n_boot": n_boot,
        "n_jobs": n_jobs,
        "estimate": {k: v["estimate"] for k, v in summary.items()},
        "se": {k: v["se"] for k, v in summary.items()},
        "ci_low": {k: v["ci_low"] for k, v in summary.items()},
        "ci_high": {k: v["ci_high"] for k, v in summary.items()},
        "summary": summary,
        "boot": boot,
    }


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def default_data_path():
    """Location of the Chinchilla CSV.

    Returns
    -------
    pathlib.Path
        ``$BAYESCALE_DATA_DIR/chinchilla_besiroglu2024/svg_extracted_data.csv``
        if the environment variable is set, otherwise the same relative path
        under ``../shared/data`` next to the repository root.
    """
    env = os.environ.get("BAYESCALE_DATA_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "chinchilla_besiroglu2024" / "svg_extracted_data.csv"


def load_chinchilla(path=None, drop_highest=5):
    """Load the extracted Chinchilla runs.

    Parameters
    ----------
    path : str or Path, optional
        CSV location (default :func:`default_data_path`).
    drop_highest : int, default 5
        Number of highest-loss rows to discard (Besiroglu et al. protocol).

    Returns
    -------
    N, D, L : ndarray
        Parameter counts ``round(Model Size)``, tokens ``C / (6 N)`` and
        losses, as float64 arrays in file order.
    """
    import pandas as pd

    df = pd.read_csv(default_data_path() if path is None else path)
    if drop_highest:
        df = df.drop(df["loss"].nlargest(drop_highest).index)
    N = np.round(df["Model Size"].to_numpy(dtype=np.float64))
    C = df["Training FLOP"].to_numpy(dtype=np.float64)
    L = df["loss"].to_numpy(dtype=np.float64)
    return N, C / (6.0 * N), L


# ---------------------------------------------------------------------------
# Script entry point
# ---------------------------------------------------------------------------
def _fmt(x):
    return f"{x:.4g}" if abs(x) >= 10 else f"{x:.4f}"


def _main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-jobs", type=int, default=1, help="worker processes (-1: all CPUs)")
    parser.add_argument("--data", type=Path, default=None, help="CSV path override")
    args = parser.parse_args(argv)

    N, D, L = load_chinchilla(args.data)
    print(f"Chinchilla runs: n = {N.size}")
    res = run_classical(N, D, L, n_boot=args.n_boot, seed=args.seed, n_jobs=args.n_jobs)

    header = (
        f"{'param':>6} | {'grid fit':>10} {'boot SE':>9} {'95% CI':>21} | "
        f"{'plain grid':>10} | {'published (SE)':>20} {'pub. 95% CI':>19} | {'Hoffmann':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in PARAM_NAMES:
        s = res["summary"][name]
        pe, pse, plo, phi = PUBLISHED[name]
        ci = f"{_fmt(s['ci_low'])} - {_fmt(s['ci_high'])}"
        pci = f"{_fmt(plo)} - {_fmt(phi)}"
        pub = f"{_fmt(pe)} ({_fmt(pse)})"
        print(
            f"{name:>6} | {_fmt(s['estimate']):>10} {_fmt(s['se']):>9} {ci:>21} | "
            f"{_fmt(PUBLISHED_PLAIN_GRID[name]):>10} | {pub:>20} {pci:>19} | "
            f"{_fmt(HOFFMANN[name]):>8}"
        )
    th = res["theta"]
    print(
        f"theta_hat = [a, b, e, alpha, beta] = {np.array2string(th, precision=5)}; "
        f"objective = {res['fun']:.6e}"
    )
    print(
        f"timings: grid ({res['n_starts']} starts) {res['grid_s']:.2f} s, "
        f"bootstrap ({res['n_boot']} refits) {res['bootstrap_s']:.2f} s, "
        f"total {res['total_s']:.2f} s (n_jobs={res['n_jobs']}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
    )
    return res


if __name__ == "__main__":
    _main()
