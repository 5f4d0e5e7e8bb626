"""The :class:`StackedFit` object (re-exported by :mod:`bayescale.stacking`, whose docstring
describes the mixing rule) and the checks of its members and weights: the mixture's parameters
and posterior, ``mix``, summary, save/load entry points and displays.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._stacking_common import (
    _SUMMARY_COLUMNS,
    _check_alike,
    _params_dataset,
    _posterior_of,
    _take,
    draw_counts,
    member_seed,
)
from .fit import Fit


# ---------------------------------------------------------------------- validation
def _check_fits(fits: Mapping[str, Fit] | Sequence[Fit]) -> dict[str, Fit]:
    if isinstance(fits, StackedFit):
        return dict(fits.fits)
    if isinstance(fits, Fit):
        raise TypeError("stack takes several fits (a mapping name → Fit or a list), not one Fit")
    if isinstance(fits, Mapping):
        named = dict(fits)
        for name in named:
            if not isinstance(name, str) or not name:
                raise TypeError(f"stack member names must be non-empty strings, got {name!r}")
    elif isinstance(fits, Sequence) and not isinstance(fits, str):
        named = {}
        for i, f in enumerate(fits):
            if not isinstance(f, Fit):
                raise TypeError(f"fits[{i}] is not a bayescale.Fit but {type(f).__name__}")
            base = f"{f.law.key}:{f.likelihood.name}"
            name, k = base, 2
            while name in named:
                name, k = f"{base}_{k}", k + 1
            named[name] = f
    else:
        raise TypeError(
            f"stack takes a mapping name → Fit or a list of Fit, got {type(fits).__name__}"
        )
    if not named:
        raise ValueError("stack needs at least one fit")
    for name, f in named.items():
        if not isinstance(f, Fit):
            raise TypeError(f"stack member {name!r} is not a bayescale.Fit but {type(f).__name__}")
    if len(named) > 1:
        from .validation import _same_runs

        try:
            _same_runs(named)
        except ValueError as err:
            raise ValueError(f"stack: {err}".replace("compare needs", "stack needs")) from err
    from .stacking_groups import stack_pooling

    stack_pooling(named)  # pooled members: one group column, the same groups
    return named


def _check_weights(names: Sequence[str], weights: Mapping[str, Any] | pd.Series) -> pd.Series:
    if not isinstance(weights, Mapping | pd.Series):
        raise TypeError(f"weights must be a mapping name → weight, got {type(weights).__name__}")
    given = dict(weights.items())
    unknown = [k for k in given if k not in names]
    missing = [k for k in names if k not in given]
    if unknown or missing:
        raise ValueError(
            f"weights: unknown names {unknown}, missing names {missing}; the stack's members "
            f"are {list(names)}"
        )
    values = {}
    for name in names:
        v = given[name]
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise TypeError(f"weight of {name!r} must be a number, got {v!r}")
        v = float(v)
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"weight of {name!r} must be finite and >= 0, got {v!r}")
        values[name] = v
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"weights must sum to 1, got {total:.6g} ({values})")
    out = pd.Series(values, name="weight", dtype=float) / total
    out.index.name = "member"
    return out


# ---------------------------------------------------------------------- the stacked fit
class StackedFit:
    """A weighted mixture of fits to the same runs (result of :func:`stack`).

    Pass it wherever a function takes a :class:`~bayescale.Fit`
    (:func:`~bayescale.compute_optimal`, :func:`~bayescale.predict_loss`,
    :func:`~bayescale.compute_for_loss`, :func:`~bayescale.loss_at`,
    :func:`~bayescale.overtraining_penalty`, :func:`~bayescale.inference_optimal`,
    :func:`~bayescale.data_wall`, :func:`~bayescale.misallocation_cost`,
    :func:`~bayescale.rule_of_thumb_check`, :func:`~bayescale.predict_accuracy`,
    :func:`~bayescale.emergence_threshold`, :func:`~bayescale.chain`,
    :func:`~bayescale.compare_to_card`, :func:`~bayescale.tradeoff`,
    :func:`~bayescale.posterior_predictive_check`, :func:`~bayescale.next_runs`,
    :func:`~bayescale.plan`, :func:`~bayescale.backtest` (members refitted per cutoff),
    :func:`~bayescale.report`, :func:`~bayescale.export_summary`): the answer is the mixture of
    the members' answers, one chain of :attr:`n_draws` draws (see :mod:`bayescale.stacking`).
    The figures of :mod:`bayescale.plots` (``plot_fit``, ``plot_isoflops``, ``plot_residuals``,
    ``plot_frontier``, ``plot_tokens_per_param``, ``plot_params``) and
    :mod:`bayescale.plots_decisions` take it too, and so does the CLI (a saved stack folder).

    Attributes
    ----------
    fits : dict
        Member name → :class:`~bayescale.Fit`, in order.
    weights : pandas.Series
        Member name → weight (non-negative, summing to 1).
    method : str
        ``"stacking"``, ``"BB-pseudo-BMA"``, ``"pseudo-BMA"`` or ``"given"``.

    Examples
    --------
    >>> import bayescale as bs
    >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
    >>> a = bs.testing.pinned_fit(random_seed=0, data=runs)
    >>> b = bs.testing.pinned_fit(random_seed=1, data=runs, rel_sd=0.03)
    >>> st = bs.stack({"a": a, "b": b}, weights={"a": 0.75, "b": 0.25})
    >>> st.draw_counts().tolist()
    [750, 250]
    >>> bs.compute_optimal(st, compute=1e22)["N_opt"].sizes
    Frozen({'chain': 1, 'draw': 1000, 'compute': 1})
    """

    def __init__(
        self,
        fits: Mapping[str, Fit],
        weights: Mapping[str, float] | pd.Series,
        *,
        method: str = "given",
        comparison: pd.DataFrame | None = None,
    ) -> None:
        self.fits = _check_fits(fits)
        self.weights = _check_weights(list(self.fits), weights)
        self.method = method
        self._comparison = comparison

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        """Member names, in order."""
        return list(self.fits)

    @property
    def n_draws(self) -> int:
        """Draws of every mixed result: the first member's chains × draws."""
        return next(iter(self.fits.values())).n_draws

    @property
    def pooling(self) -> Any:
        """The groups of the stack's pooled members (their :class:`~bayescale.pooling.Pooling`;
        None when no member is pooled): a pooled stack answers per group, each group the
        mixture of the members' answers for it (:mod:`bayescale.stacking_groups`)."""
        from .stacking_groups import stack_pooling

        return stack_pooling(self.fits)

    @property
    def law_names(self) -> list[str]:
        """The distinct law names of the members, in order."""
        return list(dict.fromkeys(f.law.name for f in self.fits.values()))

    @property
    def data(self) -> pd.DataFrame:
        """The runs every member was fitted to."""
        return next(iter(self.fits.values())).data

    # ------------------------------------------------------------------ the mixture as a posterior
    def _one(self, what: str, key: Callable[[Fit], Any], need: str) -> Fit:
        """The first member, after checking every member has the same ``key``."""
        values = {name: key(f) for name, f in self.fits.items()}
        if len(set(values.values())) > 1:
            listed = ", ".join(f"{n}: {v}" for n, v in values.items())
            raise ValueError(
                f"the stack's members have different {what} ({listed}); {need} — use a member "
                "(stack.fits[name]) or stack fits of one " + what.rstrip("s")
            )
        return next(iter(self.fits.values()))

    @property
    def law(self) -> Any:
        """The members' law when they all share it (same name, version and options): what
        functions of the parameters (:func:`~bayescale.compare_to_card`,
        :func:`~bayescale.tradeoff`, ``plot_params``) read. Members of different laws raise a
        ``ValueError``: a mixture of laws has no one set of parameters."""
        need = "this needs the parameters of one law"
        return self._one("laws", lambda f: f.law.key, need).law

    @property
    def likelihood(self) -> Any:
        """The members' likelihood when they all share it; members with different likelihoods
        raise a ``ValueError`` (functions of predictions mix each member's own draws)."""
        need = "this needs one noise model"
        return self._one("likelihoods", lambda f: f.likelihood.name, need).likelihood

    def params(self, kind: str = "natural") -> dict[str, xr.DataArray]:
        """Mixed draws of the members' parameters (one chain of :attr:`n_draws` draws), as
        :meth:`Fit.params <bayescale.Fit.params>`: ``"natural"``/``"sampled"`` need one law,
        ``"noise"`` one likelihood.

        Examples
        --------
        >>> import bayescale as bs
        >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
        >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
        ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
        ...               weights={"a": 0.5, "b": 0.5})
        >>> st.params()["alpha"].sizes
        Frozen({'chain': 1, 'draw': 1000})
        """
        if kind in ("natural", "sampled"):
            self.law  # noqa: B018 - one law, or a clear error
            self._one_layout()
        elif kind == "noise":
            self.likelihood  # noqa: B018
        mixed = self.mix(_params_dataset, args=(kind,))
        return {k: mixed[k] for k in mixed.data_vars}

    @property
    def posterior(self) -> xr.Dataset:
        """The mixture's posterior: the variables every member's posterior has, mixed by weight
        (one chain of :attr:`n_draws` draws); the members must share one law."""
        self.law  # noqa: B018
        self._one_layout()
        posts = [f.posterior for f in self.fits.values()]
        common = [v for v in posts[0].data_vars if all(v in p.data_vars for p in posts[1:])]
        return self.mix(_posterior_of, args=(common,))

    def _one_layout(self) -> None:
        """Pooled and unpooled members have no one posterior layout: say how to get one."""
        pooled = [n for n, f in self.fits.items() if getattr(f, "pooling", None) is not None]
        if pooled and len(pooled) < len(self.fits):
            raise ValueError(
                f"the stack mixes pooled members {pooled} with unpooled ones: their parameters "
                "have no one layout; take one group's mixture, "
                "bayescale.pooling.group_view(stack, label).posterior (or bs.NEW_GROUP)"
            )

    def draw_counts(self) -> pd.Series:
        """Draws each member contributes to a mixed result (largest-remainder rounding)."""
        counts = draw_counts(self.weights.to_numpy(), self.n_draws)
        return pd.Series(counts, index=self.weights.index, name="mixture_draws")

    def comparison(self) -> pd.DataFrame | None:
        """The ELPD-LOO table of :func:`bayescale.compare` (computed on first use; None for a
        single member)."""
        if self._comparison is None and len(self.fits) > 1:
            from .validation import compare

            self._comparison = compare(self.fits, method="stacking", warn=False)
        return self._comparison

    def summary(self) -> pd.DataFrame:
        """One row per member: law, likelihood, weight, draws in a mixed result and its
        ELPD-LOO figures (``elpd``, ``se``, ``elpd_diff``, ``dse``, ``p``, ``n_high_k``,
        ``max_k``; NaN for a single member).

        Examples
        --------
        >>> import bayescale as bs
        >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
        >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
        ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
        ...               weights={"a": 0.5, "b": 0.5})
        >>> list(st.summary().columns[:4])
        ['law', 'likelihood', 'weight', 'mixture_draws']
        """
        table = pd.DataFrame(
            {
                "law": [f.law.key for f in self.fits.values()],
                "likelihood": [f.likelihood.name for f in self.fits.values()],
                "weight": self.weights.to_numpy(),
                "mixture_draws": self.draw_counts().to_numpy(),
            },
            index=pd.Index(self.names, name="member"),
        )
        comp = self.comparison()
        for col in _SUMMARY_COLUMNS[4:]:
            if comp is not None and col in comp:
                table[col] = comp[col].reindex(table.index).astype(float)
            else:
                table[col] = np.nan
        table.attrs["method"] = self.method
        table.attrs["n_draws"] = self.n_draws
        if comp is not None:
            table.attrs["warnings"] = list(comp.attrs.get("warnings", []))
        return table

    # ------------------------------------------------------------------ mixing
    def mix(
        self,
        func: Callable[..., Any],
        *,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        """``func(member, *args, **kwargs)`` for every member with draws, mixed by weight.

        ``func`` must return an ``xarray`` Dataset or DataArray over ``(chain, draw, ...)``.
        A ``random_seed`` keyword is replaced by each member's own seed
        (:func:`member_seed`). Members with no draws in the mixture are not evaluated. A
        member that cannot answer (e.g. a law without an input given) raises the error with the
        member named.
        """
        kwargs = dict(kwargs or {})
        counts = self.draw_counts()
        seed = kwargs.get("random_seed")
        parts, names = [], []
        for k, (name, member) in enumerate(self.fits.items()):
            n = int(counts[name])
            if n == 0:
                continue
            kw = dict(kwargs)
            if "random_seed" in kw:
                kw["random_seed"] = member_seed(seed, k)
            try:
                result = func(member, *args, **kw)
            except (ValueError, TypeError, KeyError) as err:
                message = f"stack member {name!r} ({member.law.key}, {member.likelihood.name}): "
                detail = err.args[0] if len(err.args) == 1 else str(err)
                try:
                    named_err = type(err)(f"{message}{detail}")
                except Exception:  # an exception class that takes other arguments
                    named_err = ValueError(f"{message}{detail}")
                raise named_err from err
            if not isinstance(result, xr.Dataset | xr.DataArray) or not {
                "chain",
                "draw",
            } <= set(result.dims):
                raise TypeError(
                    f"{getattr(func, '__name__', func)} returned {type(result).__name__} without "
                    "(chain, draw) dimensions: it cannot be mixed over a stack"
                )
            parts.append(_take(result, n))
            names.append(name)
        _check_alike(parts, names)
        return self._combine(parts)

    def _combine(self, parts: list[Any]) -> Any:
        first = parts[0]
        if len(parts) == 1:
            out = parts[0]
        else:
            extra = {"data_vars": "minimal"} if isinstance(first, xr.Dataset) else {}
            out = xr.concat(
                parts,
                dim="__sample",
                coords="minimal",
                compat="override",
                join="exact",
                combine_attrs="override",
                **extra,
            )
        out = out.rename({"__sample": "draw"})
        out = out.assign_coords(draw=np.arange(out.sizes["draw"]))
        if isinstance(out, xr.Dataset):
            out = out.assign(
                {
                    k: v.expand_dims(chain=1, axis=0)
                    for k, v in out.data_vars.items()
                    if "draw" in v.dims
                }
            )
            out = out.assign_coords(chain=[0])
            out = out.transpose("chain", "draw", ...)
            for k in out.data_vars:
                out[k].attrs = dict(first[k].attrs)
        else:
            out = out.expand_dims(chain=[0], axis=0).transpose("chain", "draw", ...)
            out.name = first.name
        out.attrs = dict(first.attrs)
        if "law" in out.attrs:
            out.attrs["law"] = self._label()
        if "n_draws" in out.attrs:
            out.attrs["n_draws"] = int(out.sizes["draw"])
        out.attrs["stack"] = self._label()
        return out

    def _label(self) -> str:
        return "stack(" + ", ".join(f"{n}: {w:.4g}" for n, w in self.weights.items()) + ")"

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> str:
        """Write the stack to the folder ``path``: one NetCDF file per member
        (:meth:`Fit.save <bayescale.Fit.save>`) and ``stack.json`` (names, files and their
        SHA-256, weights, method, bayescale version), each file written atomically,
        ``stack.json`` last; member files of a larger stack saved there before are removed.

        Examples
        --------
        >>> import bayescale as bs, tempfile, os
        >>> runs = bs.testing.simulate_chinchilla(60, random_seed=0)
        >>> st = bs.stack({"a": bs.testing.pinned_fit(random_seed=0, data=runs),
        ...                "b": bs.testing.pinned_fit(random_seed=1, data=runs)},
        ...               weights={"a": 0.5, "b": 0.5})
        >>> folder = st.save(os.path.join(tempfile.mkdtemp(), "stack"))
        >>> sorted(name.rsplit("_", 1)[0] for name in os.listdir(folder))  # named by content
        ['member_0', 'member_1', 'stack.json']
        >>> bs.load_stack(folder).weights.to_dict()
        {'a': 0.5, 'b': 0.5}
        """
        from .stacking_io import save_stack

        return save_stack(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> StackedFit:
        """Read a stack written by :meth:`save`; every member file must exist, match its
        recorded SHA-256 and load (:meth:`Fit.load <bayescale.Fit.load>`). Problems raise one
        ``ValueError`` naming the path and the member."""
        from .stacking_io import read_stack

        return read_stack(cls, path)

    # ------------------------------------------------------------------ display
    def _rows(self) -> list[tuple[str, str, str, float, int]]:
        counts = self.draw_counts()
        return [
            (n, f.law.key, f.likelihood.name, float(self.weights[n]), int(counts[n]))
            for n, f in self.fits.items()
        ]

    def __repr__(self) -> str:
        first = next(iter(self.fits.values()))
        lines = [
            f"<bayescale.StackedFit: {len(self.fits)} fits to {len(first.data)} runs, "
            f"{self.method} weights, {self.n_draws} mixed draws>"
        ]
        width = max(len(n) for n in self.fits)
        for name, law, lik, w, c in self._rows():
            lines.append(f"  {name:<{width}}  {law} {lik:<10} weight {w:.3f} ({c} draws)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from html import escape

        first = next(iter(self.fits.values()))
        rows = "".join(
            f"<tr><td><code>{escape(n)}</code></td><td>{escape(law)}</td><td>{escape(lik)}</td>"
            f"<td>{w:.3f}</td><td>{c}</td></tr>"
            for n, law, lik, w, c in self._rows()
        )
        return (
            f"<div><b>bayescale.StackedFit</b> · {len(self.fits)} fits to {len(first.data)} "
            f"runs · {escape(self.method)} weights · {self.n_draws} mixed draws"
            "<table><tr><th>member</th><th>law</th><th>likelihood</th><th>weight</th>"
            f"<th>draws</th></tr>{rows}</table></div>"
        )
