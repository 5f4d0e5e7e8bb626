"""``bs.fit``: sample a law's posterior with NUTS and return a :class:`Fit`.

A :class:`Fit` holds everything that defines the result — the law (name and version), the priors,
the likelihood, the runs and the reference scales — next to the ArviZ ``DataTree`` (posterior,
sample_stats, log_likelihood, observed and constant data). It reports convergence diagnostics,
summarises the parameters and saves to / loads from NetCDF without pickles.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._api import CI_PROB, check_flag, check_seed, deprecated_args
from .data import data_warnings, prepare_data
from .law import IdentifiabilityWarning, ScalingLaw, get_law
from .likelihoods import Likelihood, get_likelihood
from .model import build_model, data_values, observed_name
from .pooling import Pooling, resolve_pooling
from .posterior import assemble_datatree, clean_sample_stats
from .priors import Prior, merge_priors
from .pseudo_forecast import law_mode_fit
from .structure import Structure, resolve_structure
from .xp import numpy_ns

__all__ = ["DiagnosticWarning", "Fit", "SmallDataWarning", "fit"]

RHAT_MAX = 1.01
ESS_MIN = 400
SUMMARY_COLUMNS = ["mean", "sd", "median", "ci95_lo", "ci95_hi", "ess_bulk", "ess_tail", "r_hat"]


class DiagnosticWarning(UserWarning):
    """Raised (as a warning) when a fit shows divergences, high R-hat or low ESS."""


#: Distributions whose density does not integrate to one (a fit with fewer runs than
#: parameters is refused when any prior is one of these).
IMPROPER = frozenset({"Flat", "HalfFlat"})


class SmallDataWarning(UserWarning):
    """A fit has fewer runs than free parameters: the priors carry the rest."""


def _group_frame(
    frame: pd.DataFrame, data: Any, columns: Mapping[str, str] | None, groups: Any
) -> pd.DataFrame:
    """The canonical runs plus the grouping columns named in ``groups`` that are not canonical
    (``C`` from the data when it has one: isoFLOP budgets are often snapped, not exactly 6ND;
    otherwise 6ND)."""
    if groups is None or groups is False or (isinstance(groups, str) and groups == "auto"):
        return frame
    source = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    rename = {v: k for k, v in (columns or {}).items()}
    out = frame.copy()
    names = [groups] if isinstance(groups, str) else list(groups)
    for name in names:
        if name in out.columns:
            continue
        original = next((c for c in source.columns if rename.get(c, c) == name), None)
        if original is None and name == "C" and {"N", "D"} <= set(out.columns):
            continue  # computed as 6ND
        if original is None:
            raise ValueError(
                f"groups: column {name!r} is not in the data (columns: {list(source.columns)})"
            )
        out[name] = source.loc[frame.index, original].to_numpy()
    return out


def _labels(da: xr.DataArray, idx: tuple[int, ...]) -> list[str]:
    """Index ``idx`` of ``da``'s extra dimensions as text: the group's label on a ``group``
    dimension (pooled fits), the position otherwise."""
    out = []
    for dim, i in zip(da.dims[2:], idx, strict=True):
        out.append(str(da[dim].to_numpy()[i]) if dim == "group" and dim in da.coords else str(i))
    return out


def _flat(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).reshape(-1, *np.shape(values)[2:])


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
        const = self.idata["constant_data"].to_dataset() if "constant_data" in self.idata else {}
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
        return self.idata["posterior"].to_dataset()

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
        from . import convergence

        if not (isinstance(ci_prob, int | float) and 0 < float(ci_prob) < 1):
            raise ValueError(f"ci_prob must be a number in (0, 1), got {ci_prob!r}")
        if kind not in ("published", "all"):
            raise ValueError(f"kind must be 'published' or 'all', got {kind!r}")
        post = self.posterior
        if var_names is None:
            names = self._published_names()
            if kind == "all":
                names += [n for n in self.law.parameter_names if n not in names]
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
        rows = {}
        for name in names:
            da = post[name].transpose("chain", "draw", ...)
            extra = da.dims[2:]
            arr = da.to_numpy()
            idx_iter = np.ndindex(*arr.shape[2:]) if extra else [()]
            for idx in idx_iter:
                x = arr[(slice(None), slice(None), *idx)]
                label = name if not idx else f"{name}[{','.join(_labels(da, idx))}]"
                flat = x.ravel()
                with np.errstate(invalid="ignore", divide="ignore"):
                    ess_b = convergence.ess(x, method="bulk")
                    ess_t = convergence.ess(x, method="tail", prob=(0.05, 0.95))
                    r_hat = convergence.rhat(x)
                rows[label] = {
                    "mean": float(flat.mean()),
                    "sd": float(flat.std(ddof=1)) if flat.size > 1 else np.nan,
                    "median": float(np.median(flat)),
                    "ci95_lo": float(np.quantile(flat, lo_q)),
                    "ci95_hi": float(np.quantile(flat, hi_q)),
                    "ess_bulk": ess_b,
                    "ess_tail": ess_t,
                    "r_hat": r_hat,
                }
        table = pd.DataFrame.from_dict(rows, orient="index", columns=SUMMARY_COLUMNS)
        if ci_prob != 0.95:
            pct = f"{100 * ci_prob:g}"
            table = table.rename(columns={"ci95_lo": f"ci{pct}_lo", "ci95_hi": f"ci{pct}_hi"})
        flags = []
        for _, row in table.iterrows():
            issues = []
            if np.isfinite(row["r_hat"]) and row["r_hat"] > RHAT_MAX:
                issues.append(f"r_hat>{RHAT_MAX}")
            if np.isfinite(row["ess_bulk"]) and row["ess_bulk"] < ESS_MIN:
                issues.append(f"ess_bulk<{ESS_MIN}")
            flags.append(", ".join(issues))
        table["flag"] = flags
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
        stats = self.idata["sample_stats"].to_dataset() if "sample_stats" in self.idata else None
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
        for name, row in table.iterrows():
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
        import shutil

        from .display import cell

        shown = table.drop(columns=["flag"]) if not table["flag"].any() else table
        text = pd.DataFrame(
            {c: [cell(v, c) for v in shown[c]] for c in shown.columns}, index=shown.index
        )
        width = width or shutil.get_terminal_size((100, 24)).columns
        with pd.option_context(
            "display.max_rows", None, "display.max_columns", None, "display.width", width
        ):
            return text.to_string(line_width=width)

    def _repr_html_(self) -> str:
        import html

        from .display import cell
        from .export import to_html_table

        table, diag = self._tables()
        post = self.posterior
        ok = not diag["problems"]
        badge = (
            '<span style="background:#2e7d32;color:white;padding:1px 6px;border-radius:3px">'
            "converged</span>"
            if ok
            else '<span style="background:#c62828;color:white;padding:1px 6px;'
            f'border-radius:3px">{len(diag["problems"])} problem(s)</span>'
        )
        rows = "".join(
            f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(v)}</td></tr>"
            for n, v in self._headline(table)
        )
        problems = "".join(f"<li>{html.escape(p)}</li>" for p in diag["problems"])
        details = to_html_table(table.drop(columns=["flag"]))
        return (
            f"<div><b>bayescale.Fit</b> <code>{self.law.key}</code> {badge}<br>"
            f"{len(self.data)} runs · {self.likelihood.name} likelihood · "
            f"{post.sizes['chain']}×{post.sizes['draw']} draws · "
            f"max R-hat {cell(diag['max_r_hat'], 'r_hat')} · "
            f"min ESS {cell(diag['min_ess_bulk'], 'ess_bulk')} · "
            f"{diag['divergences']} divergences"
            f"<table><tr><th>parameter</th><th>median [95% interval]</th></tr>{rows}</table>"
            + (f"<ul>{problems}</ul>" if problems else "")
            + f"<details><summary>all published parameters</summary>{details}</details>"
            + "</div>"
        )


def _resolve_seed(random_seed: int | None) -> int:
    if random_seed is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return check_seed(random_seed)


def _build_and_sample(
    law: ScalingLaw,
    prepared: Any,
    all_priors: Mapping[str, Prior],
    lik: Any,
    reference: Mapping[str, float],
    codes: Any,
    structure: Any,
    sampler: str,
    settings: Mapping[str, Any],
    sampler_kwargs: Mapping[str, Any],
    t_start: float,
    pooling: Any = None,
) -> tuple[Any, dict[str, float], Any, Any, Any]:
    """The PyMC model and its draws (the part of :func:`fit` that runs inside PyMC, PyTensor
    and nutpie)."""
    values = data_values(law, prepared, reference, lik, codes)
    model = build_model(
        law, prepared, all_priors, lik, reference, values, structure, pooling=pooling
    )
    t_build = time.perf_counter()
    timings: dict[str, float] = {"build": t_build - t_start}
    from .sampling import get_backend

    backend = get_backend(sampler)
    compiled = backend.compile(model)
    timings["compile"] = time.perf_counter() - t_build
    options = dict(sampler_kwargs)
    if backend.name == "nutpie":
        if pooling is not None and "init" not in options:
            # a pooled fit's mode sits in the neck of its funnels (group spreads at zero): on
            # the 6 non-Llama isoFLOP experiments (2 x 300 draws) starting at the model's
            # initial point took 552 leapfrog steps per draw and R-hat 1.022, against 1006 and
            # 1.085 from the mode with its Laplace metric; centred (7 experiments, 4 x 500),
            # 15 steps and R-hat 1.011 against R-hat 1.098 from the mode (a skewed group)
            options["init"] = "point"
        # the multi-start search refines the mode: a fit started at the model's initial point
        # (init="point", pooled fits) has none, and its law parameters may be pooled names
        if (
            law.multistart.n_starts
            and "starts" not in options
            and options.get("init", "mode") == "mode"
        ):
            from .multistart import law_starts

            options["starts"] = law_starts(law, model, compiled, settings["seed"])
    ready = backend.set_data(compiled, values)
    trace = backend.sample(
        ready,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        random_seed=settings["seed"],
        progressbar=settings["progressbar"],
        **options,
    )
    timings.update(ready.timings)
    # the nutpie fast path's compiled log density serves the pseudo-forecast's mode fit
    return trace, timings, values, model, compiled if backend.name == "nutpie" else None


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


TUNE_FROM_MODE = 500  # warm-up from the Laplace-whitened mode
TUNE_OTHERWISE = 1000
RUNS_PER_PARAMETER_FROM_MODE = 10  # fewer runs per law parameter: the priors shape the posterior


def default_tune(
    law: ScalingLaw,
    sampler: str,
    pooling: Any = None,
    options: Mapping[str, Any] | None = None,
    *,
    n_runs: int | None = None,
) -> int:
    """Warm-up iterations per chain when ``fit`` is not given ``tune``.

    500 (``TUNE_FROM_MODE``) when nutpie starts from the posterior mode with the Laplace
    approximation's metric — the default for a law without a multi-start declaration and
    without pooling: the chains start in the bulk, on an already round posterior, and the
    Chinchilla fits (240 and 245 runs, seeds 0-2) had the same step size, leapfrog steps per draw,
    R-hat (≤ 1.004) and bulk ESS (≥ 2300 of 4000) after 300, 500 or 1000 warm-up iterations.
    1000 (``TUNE_OTHERWISE``) otherwise: pooled fits (started at the initial point, the metric
    learnt from the identity), multi-start laws (multimodal surfaces), ``init="point"``,
    ``sampler="nutpie-compiled"`` and ``"pymc"``, and fits with fewer than
    ``RUNS_PER_PARAMETER_FROM_MODE`` (10) runs per law parameter (``n_runs``), whose posterior
    the priors shape and the Laplace metric fits less well: the 6-run card-prior fit of
    ``examples/small_data.py`` had max R-hat 1.046 after 500 warm-up iterations and 1.016 after
    1000.

    Examples
    --------
    >>> import bayescale as bs
    >>> default_tune(bs.get_law("chinchilla"), "nutpie"), default_tune(bs.get_law("bnsl"), "nutpie")
    (500, 1000)
    >>> default_tune(bs.get_law("chinchilla"), "nutpie", n_runs=6)
    1000
    """
    options = options or {}
    from_mode = (
        sampler == "nutpie"
        and pooling is None
        and not law.multistart.n_starts
        and options.get("init", "mode") == "mode"
        and options.get("starts") is None
        and (n_runs is None or n_runs >= RUNS_PER_PARAMETER_FROM_MODE * len(law.parameter_names))
    )
    return TUNE_FROM_MODE if from_mode else TUNE_OTHERWISE


def _sampling_failure(
    err: Exception, law: ScalingLaw, prepared: Any, columns: Mapping[str, str] | None
) -> Exception:
    """An error raised inside PyMC, PyTensor or nutpie while building or sampling, restated
    as a bayescale error: the law, the dependency's own first line, and what in the runs
    probably caused it (the data warnings, e.g. a loss given in percent, naming the column).
    Errors bayescale raised itself pass through unchanged."""
    frames = traceback.extract_tb(err.__traceback__)
    path = frames[-1].filename.replace(os.sep, "/") if frames else ""
    # a failure in a forked sampler process reaches the parent as sampling.py's RuntimeError
    worker = isinstance(err, RuntimeError) and str(err).startswith("sampling failed in a worker")
    if not worker and (
        "-packages/" not in path or path.startswith(_PACKAGE_DIR.replace(os.sep, "/"))
    ):
        return err  # raised by bayescale itself (or by the caller's own code): unchanged
    source = {k: (columns or {}).get(k, k) for k in prepared.frame.columns}
    hints = data_warnings(law, prepared.frame, source)
    where = "a sampler process" if worker else path.split("-packages/")[-1].split("/")[0]
    first = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
    unknown = re.search(r"Unknown settings attribute: (\w+)", str(err))
    cause = (
        "; a possible cause in the runs: " + " | ".join(hints)
        if hints
        else "; check the runs' units and the priors (bs.prior_predictive shows what they imply)"
    )
    if unknown:
        cause = (
            f"; {unknown.group(1)!r} is not an option of bs.fit or of the sampler (a misspelt "
            "keyword? bs.fit takes draws, tune, chains, random_seed, priors, ...)" + cause
        )
    return ValueError(
        f"fitting law {law.name!r} failed inside {where} ({type(err).__name__}: "
        f"{first[:200]}){cause}"
    )


def fit(
    law: str | ScalingLaw,
    data: pd.DataFrame | Mapping[str, Any],
    *,
    priors: Mapping[str, Prior] | None = None,
    likelihood: str | Likelihood | None = None,
    draws: int = 1000,
    tune: int | None = None,
    chains: int = 4,
    random_seed: int | None = None,
    sampler: str | None = None,
    progressbar: bool = True,
    columns: Mapping[str, str] | None = None,
    warn: bool = True,
    groups: Any = None,
    drift: bool = True,
    group: str | None = None,
    pool: Mapping[str, str] | str | None = None,
    **sampler_kwargs: Any,
) -> Fit:
    """Fit a scaling law to training runs with NUTS.

    Parameters
    ----------
    law : str or ScalingLaw
        A registered law's name (``"chinchilla"``) or a law object.
    data : DataFrame or mapping
        One row per run with the law's input columns and ``loss``.
    priors : mapping, optional
        Overrides of the default priors by parameter name (noise parameters ``sigma``/``nu``
        included). ``Prior.fixed(v)`` holds a parameter constant. Unknown names are an error.
    likelihood : str or Likelihood, optional
        Observation model. Loss laws: ``"studentt"`` (default; robust to outlying runs) or
        ``"normal"`` on log-loss. Default: the law's ``default_likelihood``.
    draws, tune, chains : int
        Posterior draws and warm-up iterations per chain, and the number of chains. ``tune``
        defaults to :func:`default_tune`: 500 when nutpie starts from the Laplace-whitened mode
        (the default path: no pooling, no multi-start declaration, ``init="mode"``), 1000
        otherwise (pooled fits, multi-start laws, ``init="point"``, the other samplers).
    random_seed : int, optional
        Seed for reproducible draws (recorded in the fit). With nutpie, chain ``c`` is seeded
        from ``(random_seed, c)`` (:func:`bayescale.sampling.chain_seed`): the draws depend on
        the data, law, priors, likelihood, settings and this seed only, not on the number of
        processes, the caches or other fits run before in the process.
    sampler : {"nutpie", "nutpie-compiled", "pymc"}, optional
        ``"nutpie"`` (default): nutpie with low-rank mass-matrix adaptation on the cached compiled
        model. ``"nutpie-compiled"``: nutpie's own compiled PyMC model (data swapped between
        fits of one structure; nutpie's initialisation). ``"pymc"``: PyMC's own NUTS. See
        :mod:`bayescale.sampling.backends`.
    progressbar : bool
        Show the sampler's progress bar.
    columns : mapping, optional
        Canonical name → column in ``data`` (e.g. ``{"N": "params", "loss": "val_loss"}``).
    warn : bool
        Emit a :class:`DiagnosticWarning` per problem (divergences, R-hat, ESS).
    groups : None, "auto", str or sequence of str
        Columns whose runs share a residual offset (structured noise, see
        :mod:`bayescale.structure`): a column name such as ``"N"`` (runs of one model size) or
        ``"experiment"``, a list of names, or ``"auto"`` (``N`` when model sizes repeat).
        Default None: independent noise — on the real splits of
        ``benchmarks/bench_calibration.py`` group offsets by N did not improve coverage over the
        drift alone, cost ≈ 5× the sampling time and sampled badly on outlier-heavy isoFLOP data;
        they do widen the parameters' posteriors (α's sd ×1.27 on Chinchilla), as the runs'
        correlation demands. Loss-type (positive) outputs only.
    drift : bool
        Add the extrapolation drift term (default True; loss-type outputs only): predictions
        beyond the fitted runs (in compute, size or tokens) widen by ``drift · √d`` at ``d``
        decades out (see :mod:`bayescale.structure`).
    group : str, optional
        A column (e.g. ``"experiment"``) whose groups get their own values of the law's
        parameters (:mod:`bayescale.pooling`): many families in one hierarchical model.
    pool : str or mapping, optional
        With ``group``: per sampled law parameter ``"shared"``, ``"partial"`` (hierarchical,
        non-centred; the default), ``"partial_centred"`` (hierarchical, centred: for groups
        their data pin down, see ``bayescale.pooling.centring_ratio``) or ``"independent"``;
        one string applies to all. The priors of the between-group spreads are named
        ``<parameter>_tau``.
    **sampler_kwargs
        Passed to the sampler: e.g. ``target_accept`` (default 0.9) or ``processes`` (nutpie
        only; chains are split between forked processes, one per core by default; the draws do
        not depend on it).

    Returns
    -------
    Fit

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(n=40, random_seed=2)
    >>> f = bs.fit("chinchilla", runs, draws=200, tune=200, random_seed=0, progressbar=False,
    ...            warn=False)
    >>> f.idata["posterior"]["alpha"].shape
    (4, 200)
    """
    t_start = time.perf_counter()
    law = get_law(law)
    lik = get_likelihood(likelihood if likelihood is not None else law.default_likelihood)
    if law.likelihoods and lik.name not in law.likelihoods:
        raise ValueError(
            f"law {law.name!r} supports the likelihoods {list(law.likelihoods)}, not {lik.name!r}"
        )
    for name, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if name == "tune" and value is None:
            continue
        if (
            isinstance(value, bool | np.bool_)
            or not isinstance(value, int | np.integer)
            or value < (0 if name == "tune" else 1)
        ):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(drift, bool | np.bool_):
        raise TypeError(f"drift must be True or False, got {drift!r}")
    check_flag(progressbar, "progressbar")
    check_flag(warn, "warn")
    if not (
        groups is None
        or groups is False
        or isinstance(groups, str)
        or (
            isinstance(groups, Sequence | tuple)
            and not isinstance(groups, bytes)
            and all(isinstance(g, str) for g in groups)
        )
    ):
        raise TypeError(
            f"groups must be None, 'auto', a column name or a list of column names, got {groups!r}"
        )
    loss_like = lik.output_domain == "positive"
    if not loss_like and groups not in (None, False, "auto", ()):
        raise ValueError(
            f"groups={groups!r}: group offsets act on a positive (loss-type) output; the "
            f"{lik.name!r} likelihood observes proportions or counts"
        )
    prepared = prepare_data(law, data, columns, likelihood=lik, warn=True)
    frame = _group_frame(prepared.frame, data, columns, groups)
    if group is not None:
        if not isinstance(group, str):
            raise TypeError(f"group must be a column name, got {group!r}")
        if group == law.output or group == (columns or {}).get(law.output):
            raise ValueError(
                f"group={group!r} is the law's output column; group by a label such as the "
                "experiment or corpus of each run"
            )
        named = (
            [groups]
            if isinstance(groups, str)
            else groups
            if isinstance(groups, list | tuple)
            else []
        )
        if group in named:
            raise ValueError(
                f"group={group!r} is also in groups=: one column either pools the law's "
                "parameters (group=) or shares a residual offset (groups=), not both; drop it "
                "from groups="
            )
        frame = _group_frame(frame, data, columns, group)
    structure, codes = resolve_structure(
        groups if loss_like else None,
        bool(drift) and loss_like,
        frame,
        law.inputs,
        law.required_positive,
    )
    if priors is not None and not isinstance(priors, Mapping):
        merge_priors({}, priors)  # the one error for priors that are not a mapping
    law_priors = merge_priors(
        law.default_priors, {k: v for k, v in (priors or {}).items() if k in law.parameter_names}
    )
    pooling, pool_codes = resolve_pooling(law, group, pool, frame, law_priors)
    defaults = {**law.default_priors, **lik.noise_priors, **structure.default_priors()}
    if pooling is not None:
        defaults.update(pooling.default_priors(law_priors))
        codes = {**codes, **pool_codes}
    all_priors = merge_priors(defaults, priors)
    for par in law.parameters:
        sizes = {k: np.size(v) for k, v in all_priors[par.name].params.items()}
        if not par.shape and any(n > 1 for n in sizes.values()):
            raise ValueError(
                f"the prior of {par.name!r} has vector arguments {sizes} but {par.name!r} is a "
                "scalar parameter: give numbers, e.g. Prior('Normal', mu=0.3, sigma=0.1)"
            )
        if par.shape and all_priors[par.name].is_fixed:
            raise ValueError(
                f"cannot fix the vector parameter {par.name!r} (shape {par.shape}) with "
                "Prior.fixed; give it a narrow prior instead, e.g. "
                f"Prior('Normal', mu=..., sigma=1e-3, shape={par.shape})"
            )
    n_law = sum(not all_priors[n].is_fixed for n in law.parameter_names) + sum(
        not all_priors[n].is_fixed for n in lik.noise_priors
    )
    if prepared.n < n_law:
        improper = sorted(n for n, p in all_priors.items() if p.dist in IMPROPER)
        if improper:
            raise ValueError(
                f"{prepared.n} runs for {n_law} free parameters of {law.name!r}, and the priors "
                f"of {improper} are improper: give them proper priors (e.g. from "
                "bs.load_card(...).as_priors()) or add runs"
            )
        warnings.warn(
            f"{law.name}: {prepared.n} runs for {n_law} free parameters; the priors carry "
            "the rest, so the posterior is only as good as they are",
            SmallDataWarning,
            stacklevel=2,
        )
    for message in law.check_data(prepared.inputs):
        warnings.warn(f"{law.name}: {message}", IdentifiabilityWarning, stacklevel=2)
    reference = law.compute_reference(prepared.inputs)
    seed = _resolve_seed(random_seed)
    sampler = (sampler or "nutpie").lower()
    if sampler not in ("nutpie", "nutpie-compiled", "pymc"):
        raise ValueError(f"sampler must be 'nutpie', 'nutpie-compiled' or 'pymc', got {sampler!r}")
    if tune is None:
        tune = default_tune(law, sampler, pooling, sampler_kwargs, n_runs=prepared.n)
    if sampler.startswith("nutpie") and tune == 0:
        raise ValueError(
            "tune=0: nutpie needs at least one warm-up iteration (tune >= 1); "
            "sampler='pymc' accepts tune=0"
        )

    try:
        trace, timings, values, model, compiled = _build_and_sample(
            law, prepared, all_priors, lik, reference, codes, structure, sampler,
            dict(draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar),
            sampler_kwargs, t_start, pooling,
        )  # fmt: skip
    except BaseException as err:  # nutpie's Rust panics (PanicException) are BaseExceptions
        if not isinstance(err, Exception) and type(err).__name__ != "PanicException":
            raise  # KeyboardInterrupt, SystemExit
        failure = _sampling_failure(err, law, prepared, columns)
        if failure is err:
            raise
        raise failure from err
    law_sampled = (
        pooling.sampled_names(law.parameter_names) if pooling else list(law.parameter_names)
    )
    sampled = [*law_sampled, *lik.noise_priors, *structure.parameter_names()]
    post = trace["posterior"].to_dataset()
    post = post[[n for n in sampled if n in post]]
    if structure.drift and pooling is None and "drift" not in (priors or {}):
        # the drift's prior median from the law's in-sample pseudo-forecast (structure.py)
        mode_fit = law_mode_fit(law, model, values, reference, all_priors, compiled)
        obs_log = values[f"{observed_name(law, lik)}_data"]
        structure = structure.adapt_drift(prepared.inputs, obs_log, mode_fit, n_law + 2)
        all_priors = {**all_priors, "drift": structure.default_priors()["drift"]}
    post = structure.with_prior_only(post, all_priors, seed)
    stats = clean_sample_stats(trace["sample_stats"].to_dataset())
    attrs = {
        "bayescale_law": law.name,
        "bayescale_law_version": law.version,
        "bayescale_likelihood": lik.name,
        "bayescale_law_options": json.dumps(law.options, sort_keys=True),
        "bayescale_sampler": sampler,
        "bayescale_random_seed": seed,
        "bayescale_structure": json.dumps(structure.to_dict()),
    }
    if pooling is not None:
        attrs["bayescale_pooling"] = json.dumps(pooling.to_dict())
    if "warmup_sample_stats" in trace and "n_steps" in trace["warmup_sample_stats"]:
        attrs["bayescale_tune_steps"] = int(trace["warmup_sample_stats"]["n_steps"].sum())
    observed = values[f"{observed_name(law, lik)}_data"]
    idata = assemble_datatree(
        law,
        lik,
        all_priors,
        prepared,
        reference,
        post,
        stats,
        attrs,
        observed=observed,
        structure=structure,
        codes=codes,
        pooling=pooling,
    )
    timings["total"] = time.perf_counter() - t_start
    result = Fit(
        law,
        lik,
        all_priors,
        frame,
        reference,
        idata,
        timings=timings,
        sampler=sampler,
        random_seed=seed,
        model=model,
        structure=structure,
        pooling=pooling,
    )
    if warn:
        result._warn_diagnostics()
    return result
