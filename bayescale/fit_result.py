"""The :class:`Fit` object (re-exported by :mod:`bayescale.fit`): a fitted law's posterior with
its summary, diagnostics and warnings, priors for a next fit, predictive and prior groups,
save/load entry points and its text and HTML displays.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_ci_prob, deprecated_args
from ._fit_common import (
    ESS_MIN,
    RHAT_MAX,
    SUMMARY_COLUMNS,
    DiagnosticWarning,
    _labels,
    _resolve_seed,
    convergence_rows,
    defer_log_likelihood,
    fill_log_likelihood,
    fit_html,
    table_text,
)
from .data import prepare_data
from .law import ScalingLaw
from .likelihoods import Likelihood
from .model import build_model
from .pooling import Pooling
from .priors import Prior
from .structure import Structure
from .xp import numpy_ns

__all__ = ["Fit"]


class Fit:
    """A fitted scaling law: law, priors, data and posterior.

    Created by :func:`fit` or :meth:`Fit.load`; not meant to be constructed by hand.

    Attributes
    ----------
    law : ScalingLaw
    likelihood : Likelihood
    priors : dict of Prior
        Every sampled parameter's prior, including the noise parameters.
    data : DataFrame
        The runs (canonical columns) the law was fitted to.
    reference : dict
        Reference scales computed from the data (e.g. ``logN_ref``).
    idata : xarray.DataTree
        Posterior (sampled, natural and derived parameters), sample_stats, log_likelihood,
        observed_data and constant_data.
    timings : dict
        Wall-clock seconds of each stage of the fit.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(n=40, random_seed=1)
    >>> f = bs.fit("chinchilla", runs, draws=200, tune=200, random_seed=1, progressbar=False,
    ...            warn=False)
    >>> bool(f.summary().loc["alpha", "median"] > 0)
    True
    """

    def __init__(
        self,
        law: ScalingLaw,
        likelihood: Likelihood,
        priors: Mapping[str, Prior],
        data: pd.DataFrame,
        reference: Mapping[str, float],
        idata: xr.DataTree,
        *,
        timings: Mapping[str, float] | None = None,
        sampler: str = "nutpie",
        random_seed: int | None = None,
        model: Any = None,
        structure: Structure | None = None,
        pooling: Pooling | None = None,
    ) -> None:
        self.law = law
        self.likelihood = likelihood
        self.priors = dict(priors)
        self.data = data
        self.reference = dict(reference)
        self.idata = idata
        self.timings = dict(timings or {})
        self.sampler = sampler
        self.random_seed = random_seed
        self._model = model
        self.structure = structure if structure is not None else Structure()
        #: per-group law parameters (:mod:`bayescale.pooling`), None for a fit without groups
        self.pooling = pooling

    # ------------------------------------------------------------------ the DataTree
    @property
    def idata(self) -> xr.DataTree:
        """The ArviZ ``DataTree``. A fit made by :func:`bayescale.fit` computes its pointwise
        ``log_likelihood`` group on first access of ``idata`` (LOO, WAIC, stacking, compare,
        save and any user of the tree see it; summaries and diagnostics do not need it), from
        the draws and runs it keeps: the same numbers as building it with the fit."""
        if self.__dict__.get("_loglik_pending") is not None:
            self._fill_log_likelihood()
        return self._idata

    @idata.setter
    def idata(self, tree: xr.DataTree) -> None:
        self._idata = tree
        self._loglik_pending = None

    def _defer_log_likelihood(self, *args: Any) -> None:
        defer_log_likelihood(self, *args)

    def _fill_log_likelihood(self) -> None:
        fill_log_likelihood(self)

    def _convergence(self, labels: list[str], xs: np.ndarray) -> np.ndarray:
        return convergence_rows(self, labels, xs)

    # ------------------------------------------------------------------ access
    @property
    def model(self) -> Any:
        """The PyMC model (rebuilt on demand for a loaded fit)."""
        if self._model is None:
            prepared = prepare_data(self.law, self.data, likelihood=self.likelihood)
            self._model = build_model(
                self.law,
                prepared,
                self.priors,
                self.likelihood,
                self.reference,
                structure=self.structure,
                codes=self.group_codes(),
                pooling=self.pooling,
            )
        return self._model

    def group_codes(self) -> dict[str, np.ndarray]:
        """Group code of each fitted run per grouping (``group_<column>``), from the data."""
        tree = self._idata
        const = tree["constant_data"].to_dataset() if "constant_data" in tree else {}
        out = {}
        for g in self.structure.groupings:
            if g.index_name in const:
                out[g.index_name] = np.asarray(const[g.index_name].to_numpy(), dtype=np.int64)
            else:
                out[g.index_name] = self.structure.codes(self.data)[g.index_name]
        if self.pooling is not None:
            name = self.pooling.index_name
            if name in const:
                out[name] = np.asarray(const[name].to_numpy(), dtype=np.int64)
            else:
                out[name] = self.pooling.grouping.assign(self.data[self.pooling.column].to_numpy())
        return out

    @property
    def posterior(self) -> xr.Dataset:
        """The posterior group as an ``xarray.Dataset`` over ``(chain, draw)``."""
        return self._idata["posterior"].to_dataset()

    @property
    def sample_stats(self) -> xr.Dataset | None:
        """The sampler's statistics after warm-up (``diverging``, ``n_steps``, ``step_size``,
        ...) as an ``xarray.Dataset`` over ``(chain, draw)``; None for a fit without them."""
        tree = self._idata
        return tree["sample_stats"].to_dataset() if "sample_stats" in tree.children else None

    @property
    def n_draws(self) -> int:
        """Total number of posterior draws (chains × draws)."""
        post = self.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def params(self, kind: str = "natural") -> dict[str, xr.DataArray]:
        """Posterior draws of the law's parameters as DataArrays over ``(chain, draw)``.

        ``kind="natural"`` gives the published-style parameters (A, B, E, α, β for Chinchilla),
        ``"sampled"`` the sampled ones, ``"noise"`` the likelihood's, ``"structure"`` the group
        offsets' sds and the drift (see :mod:`bayescale.structure`). Fixed parameters appear as
        constants broadcast over the draws.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> sorted(f.params())
        ['A', 'B', 'E', 'alpha', 'beta']
        """
        post = self.posterior
        if kind == "natural":
            names = list(self.law.natural_names)
        elif kind == "sampled":
            names = list(self.law.parameter_names)
        elif kind == "noise":
            names = list(self.likelihood.noise_priors)
        elif kind == "structure":
            names = list(self.structure.default_priors())
        else:
            raise ValueError(
                f"kind must be 'natural', 'sampled', 'noise' or 'structure', got {kind!r}"
            )
        out = {}
        template = xr.zeros_like(post[next(iter(post.data_vars))]).astype(float)
        for name in names:
            if name in post:
                out[name] = post[name]
            elif name in self.priors and self.priors[name].is_fixed:
                out[name] = template + float(self.priors[name].params["value"])
            else:
                raise KeyError(f"{name!r} is not in the posterior")
        return out

    # ------------------------------------------------------------------ diagnostics
    @deprecated_args(positional=("ci_prob",))
    def summary(
        self,
        var_names: Sequence[str] | None = None,
        *,
        ci_prob: float = CI_PROB,
        kind: str = "published",
    ) -> pd.DataFrame:
        """One row per parameter: mean, sd, median, central ``ci_prob`` interval (default
        :data:`~bayescale.CI_PROB`), bulk/tail ESS, R-hat.

        ``kind="published"`` (default) gives the parameters as papers report them: the law's
        natural parameters, its derived quantities, the noise parameters and the structure's
        (``drift``, ``group_sd_<col>``). ``kind="all"`` adds the internal ones: the sampled
        parameterisation (``log_*``, ``*_ref``) and every other posterior variable
        (``group_z_<col>``, ``group_offset_<col>``). ``var_names`` picks rows by name instead.
        The interval's columns carry its level (``ci95_lo``/``ci95_hi`` for ``ci_prob=0.95``).
        A ``flag`` column names any diagnostic problem of that row (R-hat above 1.01, bulk ESS
        below 400); ``attrs["divergences"]`` holds the number of divergent transitions.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> s = f.summary()
        >>> list(s.columns)[:8]
        ['mean', 'sd', 'median', 'ci95_lo', 'ci95_hi', 'ess_bulk', 'ess_tail', 'r_hat']
        >>> "log_A_ref" in s.index, "log_A_ref" in f.summary(kind="all").index
        (False, True)
        """
        ci_prob = check_ci_prob(ci_prob)
        if kind not in ("published", "all"):
            raise ValueError(f"kind must be 'published' or 'all', got {kind!r}")
        post = self.posterior
        if var_names is None:
            names = self._published_names()
            if kind == "all":
                # a parameter held fixed (Prior.fixed) has no draws
                names += [n for n in self.law.parameter_names if n not in names and n in post]
                names += [n for n in post.data_vars if n not in names]
                names = list(dict.fromkeys(names))
        else:
            if isinstance(var_names, str) or not (
                isinstance(var_names, Sequence) and all(isinstance(n, str) for n in var_names)
            ):
                raise TypeError(
                    f"var_names must be a list of variable names, got {var_names!r}"
                    + (
                        " (ci_prob is keyword-only: summary(ci_prob=0.9))"
                        if isinstance(var_names, float)
                        else ""
                    )
                )
            missing = [n for n in var_names if n not in post]
            if missing:
                raise KeyError(
                    f"not in the posterior: {missing}; available: {list(post.data_vars)}"
                )
            names = list(var_names)
        lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
        labels, parts = [], []
        for name in names:
            da = post[name]
            if da.dims[:2] != ("chain", "draw"):
                da = da.transpose("chain", "draw", ...)
            extra = da.dims[2:]
            arr = da.to_numpy()
            idx_iter = np.ndindex(*arr.shape[2:]) if extra else [()]
            for idx in idx_iter:
                parts.append(arr[(slice(None), slice(None), *idx)])
                labels.append(name if not idx else f"{name}[{','.join(_labels(da, idx))}]")
        # every row at once: (row, chain, draw), and (row, draw) for the moments and quantiles
        xs = np.stack(parts) if parts else np.empty((0, 0, 0))
        flat = xs.reshape(len(parts), -1) if parts else np.empty((0, 0))
        conv = self._convergence(labels, xs)
        n = flat.shape[1]
        columns = (
            {}
            if not labels
            else {
                "mean": flat.mean(axis=1),
                "sd": flat.std(axis=1, ddof=1) if n > 1 else np.full(len(parts), np.nan),
                "median": np.median(flat, axis=1),
                "ci95_lo": np.quantile(flat, lo_q, axis=1),
                "ci95_hi": np.quantile(flat, hi_q, axis=1),
                "ess_bulk": conv[:, 0],
                "ess_tail": conv[:, 1],
                "r_hat": conv[:, 2],
            }
        )
        if labels:
            table = pd.DataFrame(
                {c: np.asarray(columns[c], dtype=float) for c in SUMMARY_COLUMNS}, index=labels
            )
        else:
            table = pd.DataFrame.from_dict({}, orient="index", columns=SUMMARY_COLUMNS)
        if ci_prob != 0.95:
            pct = f"{100 * ci_prob:g}"
            table = table.rename(columns={"ci95_lo": f"ci{pct}_lo", "ci95_hi": f"ci{pct}_hi"})
        r_hat = table["r_hat"].to_numpy(dtype=float)
        ess_bulk = table["ess_bulk"].to_numpy(dtype=float)
        high = np.isfinite(r_hat) & (r_hat > RHAT_MAX)
        low = np.isfinite(ess_bulk) & (ess_bulk < ESS_MIN)
        table["flag"] = [
            ", ".join([f"r_hat>{RHAT_MAX}"] * bool(h) + [f"ess_bulk<{ESS_MIN}"] * bool(lo))
            for h, lo in zip(high, low, strict=True)
        ]
        table.index.name = "parameter"
        table.attrs["divergences"] = self.divergences
        table.attrs["law"] = self.law.key
        return table

    def _published_names(self) -> list[str]:
        """Rows of ``summary(kind="published")``: natural, derived, noise, structure."""
        post = self.posterior
        names = [*self.law.natural_names, *self.law.derived(numpy_ns, self._dummy_q())]
        names += list(self.likelihood.noise_priors)
        names += list(self.structure.default_priors())
        if self.pooling is not None:
            names += self.pooling.population_names()
        return [n for n in dict.fromkeys(names) if n in post]

    def _dummy_q(self) -> dict[str, float]:
        return {n: 1.0 for n in self.law.natural_names}

    @property
    def divergences(self) -> int:
        """Number of divergent transitions after warm-up."""
        stats = self.sample_stats
        if stats is None or "diverging" not in stats:
            return 0
        return int(stats["diverging"].sum())

    def diagnostics(self) -> dict[str, Any]:
        """Convergence figures and a list of problems (empty when the fit looks healthy).

        Examples
        --------
        >>> import bayescale as bs
        >>> d = bs.testing.pinned_fit(random_seed=0).diagnostics()
        >>> sorted(d)
        ['divergences', 'max_r_hat', 'min_ess_bulk', 'min_ess_tail', 'problems']
        """
        return self._diagnostics(self.summary(kind="all"))

    def _diagnostics(self, table: pd.DataFrame) -> dict[str, Any]:
        """:meth:`diagnostics` from a :meth:`summary` table already computed."""
        divergences = int(table.attrs["divergences"])
        problems = []
        if divergences:
            problems.append(f"{divergences} divergent transition(s) after warm-up")
        flagged = table[table["flag"].astype(bool)] if len(table) else table
        for name, row in flagged.iterrows():
            if row["flag"]:
                problems.append(
                    f"{name}: {row['flag']} (r_hat={row['r_hat']:.3f}, "
                    f"ess_bulk={row['ess_bulk']:.0f})"
                )
        return {
            "divergences": divergences,
            "max_r_hat": float(table["r_hat"].max()),
            "min_ess_bulk": float(table["ess_bulk"].min()),
            "min_ess_tail": float(table["ess_tail"].min()),
            "problems": problems,
        }

    def _warn_diagnostics(self) -> None:
        for problem in self.diagnostics()["problems"]:
            warnings.warn(f"{self.law.name}: {problem}", DiagnosticWarning, stacklevel=3)

    def as_priors(
        self, *, inflate: float = 1.0, names: Sequence[str] | None = None
    ) -> dict[str, Prior]:
        """This posterior summarised as priors for a fit to the next dataset.

        Each sampled law parameter that does not depend on the data's reference scales
        (exponents, ``log_E``; not ``log_A_ref``-type intercepts, whose meaning moves with the
        data) gets ``Normal(posterior mean, posterior sd × inflate)``; ``names`` picks a subset.
        Correlations between parameters are dropped, so ``inflate`` ≥ 1 is the honest choice.

        Examples
        --------
        >>> import bayescale as bs
        >>> pri = bs.testing.pinned_fit(random_seed=0).as_priors(inflate=2.0)
        >>> sorted(pri)
        ['alpha', 'beta', 'log_E']
        >>> pri["alpha"].dist
        'Normal'
        """
        if not (isinstance(inflate, int | float) and np.isfinite(inflate) and inflate > 0):
            raise ValueError(f"inflate must be a positive number, got {inflate!r}")
        post = self.posterior
        candidates = [
            p.name
            for p in self.law.parameters
            if not p.shape
            and not p.name.endswith("_ref")
            and p.name in post
            and post[p.name].ndim == 2
        ]
        if names is not None:
            unknown = sorted(set(names) - set(candidates))
            if unknown:
                raise ValueError(
                    f"as_priors: {unknown} are not data-independent sampled parameters of "
                    f"{self.law.name!r}; choose from {candidates}"
                )
            candidates = [n for n in candidates if n in set(names)]
        out = {}
        for name in candidates:
            values = post[name].to_numpy().ravel()
            out[name] = Prior(
                "Normal", mu=float(values.mean()), sigma=float(values.std(ddof=1) * inflate)
            )
        return out

    # ------------------------------------------------------------------ ArviZ groups
    def add_posterior_predictive(self, *, random_seed: int | None = None) -> xr.DataTree:
        """Add a ``posterior_predictive`` group: one simulated observation of every fitted run
        per posterior draw (PyMC's ``sample_posterior_predictive`` on :attr:`model`), on the
        scale of ``observed_data`` (log loss for loss laws), so that ArviZ's checks
        (``az.plot_ppc_dist``, ``az.plot_loo_pit``) run on ``fit.idata``. Returns the group.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> pp = f.add_posterior_predictive(random_seed=0)
        >>> pp["log_loss"].dims
        ('chain', 'draw', 'run')
        """
        import pymc as pm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            draws = pm.sample_posterior_predictive(
                self.idata, model=self.model, random_seed=random_seed, progressbar=False
            )
        group = draws["posterior_predictive"]
        self.idata["posterior_predictive"] = group
        return self.idata["posterior_predictive"]

    def add_prior(self, *, draws: int = 500, random_seed: int | None = None) -> xr.DataTree:
        """Add ``prior`` and ``prior_predictive`` groups: ``draws`` draws of every parameter
        (sampled, natural, derived) and of the fitted runs' observations from the priors alone
        (PyMC's ``sample_prior_predictive`` on :attr:`model`), so that
        ``az.plot_prior_posterior`` and prior predictive checks run on ``fit.idata``. Returns
        the ``prior`` group.

        Examples
        --------
        >>> import bayescale as bs
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> sorted(set(f.add_prior(draws=50, random_seed=0).data_vars) & {"alpha", "A"})
        ['A', 'alpha']
        """
        import pymc as pm

        if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
            raise ValueError(f"draws must be a positive integer, got {draws!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            sampled = pm.sample_prior_predictive(
                draws=int(draws), model=self.model, random_seed=random_seed
            )
        seed = _resolve_seed(random_seed)
        prior = self.structure.with_prior_only(sampled["prior"].to_dataset(), self.priors, seed)
        self.idata["prior"] = xr.DataTree(prior)
        self.idata["prior_predictive"] = sampled["prior_predictive"]
        return self.idata["prior"]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str) -> str:
        """Write the fit to a NetCDF file (posterior, stats, data, priors; no pickles).

        The file carries SHA-256 checksums of its values and a fingerprint of the law, and is
        written whole (:func:`bayescale.io.atomic_write`): a failure leaves an existing file as
        it was.

        Examples
        --------
        >>> import bayescale as bs, tempfile, os
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> path = f.save(os.path.join(tempfile.mkdtemp(), "fit.nc"))
        >>> bs.Fit.load(path).law.key
        'chinchilla@1'
        """
        from .io import save_fit

        return save_fit(self, path)

    @classmethod
    def load(cls, path: str) -> Fit:
        """Read a fit written by :meth:`save`; the law must be registered with the same version.

        A corrupt, truncated or edited file, or a law whose code changed since, is refused with
        one ``ValueError`` naming the path and the problem (see :func:`bayescale.io.load_fit`).

        Examples
        --------
        >>> import bayescale as bs, tempfile, os
        >>> f = bs.testing.pinned_fit(random_seed=0)
        >>> path = f.save(os.path.join(tempfile.mkdtemp(), "f.nc"))
        >>> bs.Fit.load(path).summary().shape[0] >= 7
        True
        """
        from .io import load_fit

        return load_fit(path)

    # ------------------------------------------------------------------ display
    def _tables(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The published summary and the diagnostics of every parameter (one summary pass)."""
        full = self.summary(kind="all")
        published = [n for n in self._published_names() if n in full.index]
        table = full.loc[published]
        table.attrs = dict(full.attrs)
        return table, self._diagnostics(full)

    def _headline(self, table: pd.DataFrame | None = None) -> list[tuple[str, str]]:
        from .display import interval

        if table is None:
            table = self.summary()
        out = []
        names = self.law.natural_names if self.pooling is None else self.pooling.population_names()
        for name in names:
            if name in table.index:
                r = table.loc[name]
                out.append((name, interval(r["median"], r["ci95_lo"], r["ci95_hi"], name)))
        return out

    def _title(self) -> str:
        post = self.posterior
        return (
            f"<bayescale.Fit {self.law.key}: {len(self.data)} runs, {self.likelihood.name} "
            f"likelihood, {post.sizes['chain']} chains x {post.sizes['draw']} draws>"
        )

    @staticmethod
    def _status(diag: dict[str, Any]) -> str:
        if not diag["problems"]:
            return "ok"
        shown = "; ".join(diag["problems"][:3])
        more = len(diag["problems"]) - 3
        return shown + (f"; and {more} more (fit.diagnostics())" if more > 0 else "")

    def __repr__(self) -> str:
        table, diag = self._tables()
        lines = [self._title(), "  median [95% interval]:"]
        lines += [f"  {n:>6} = {v}" for n, v in self._headline(table)]
        lines.append(f"  diagnostics: {self._status(diag)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        """The fit and its published parameters as a table fitted to the terminal's width.

        Every row and column is shown (wrapped, never cut to ``[12 rows x 9 columns]``);
        numbers have 3 significant digits, ESS whole numbers, R-hat 3 decimals.
        """
        table, diag = self._tables()
        lines = [self._title(), self._table_text(table), f"diagnostics: {self._status(diag)}"]
        return "\n".join(lines)

    @staticmethod
    def _table_text(table: pd.DataFrame, width: int | None = None) -> str:
        """A summary table as text for reading, wrapped to ``width`` (default: the terminal's)."""
        return table_text(table, width)

    def _repr_html_(self) -> str:
        return fit_html(self)
