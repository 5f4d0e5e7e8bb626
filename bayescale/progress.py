"""One progress bar for all chains of a fit, drawn by the process that called ``fit``.

Chains report ``(chain, finished draws, divergences)`` — from nutpie's progress callback in
this process, or through the result pipe from a forked worker — and :class:`ChainProgress`
draws one bar over every chain's warm-up and draws: an updating HTML display in a Jupyter
kernel (worker processes never write to the kernel, so there are no "send message from fork"
warnings), a line on stderr redrawn in place in a terminal. ``enabled=False`` writes nothing.
:class:`JobProgress` is the one bar over the jobs of a batch (:func:`bayescale.fit_many`, SBC):
the same HTML display in a kernel, rich's bar on stderr in a terminal (never on stdout, which
may be a table the user is piping).
"""

from __future__ import annotations

import html
import sys
import threading
import time
from typing import Any

__all__ = ["ChainProgress", "JobProgress", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython ``ZMQInteractiveShell``)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class ChainProgress:
    """A progress bar over ``chains`` chains of ``per_chain`` iterations (warm-up + draws).

    :meth:`update` is thread-safe (nutpie calls it from its own thread) and redraws at most
    every ``interval`` seconds; :meth:`close` draws the final state.

    Examples
    --------
    >>> bar = ChainProgress(chains=2, per_chain=10, enabled=False)
    >>> bar.update(0, 10, 0); bar.update(1, 4, 1)
    >>> bar.finished, bar.total, bar.chains_done, bar.divergences
    (14, 20, 1, 1)
    """

    def __init__(
        self,
        chains: int,
        per_chain: int,
        *,
        enabled: bool = True,
        label: str = "sampling",
        interval: float = 0.2,
        stream: Any = None,
    ) -> None:
        self.chains, self.per_chain, self.enabled = int(chains), int(per_chain), bool(enabled)
        self.label, self.interval = label, float(interval)
        self._done = [0] * self.chains
        self._div = [0] * self.chains
        self._lock = threading.Lock()
        self._start = time.perf_counter()
        self._last = -float("inf")
        self._stream = stream
        self._handle = None
        self._closed = False
        if self.enabled and stream is None and in_notebook():
            from IPython.display import HTML, display

            self._handle = display(HTML(self._html()), display_id=True)

    # ------------------------------------------------------------------ state
    @property
    def total(self) -> int:
        return self.chains * self.per_chain

    @property
    def finished(self) -> int:
        return sum(self._done)

    @property
    def chains_done(self) -> int:
        return sum(d >= self.per_chain for d in self._done)

    @property
    def divergences(self) -> int:
        return sum(self._div)

    def update(self, chain: int, finished: int, divergences: int = 0) -> None:
        """Chain ``chain`` has finished ``finished`` iterations with ``divergences`` so far."""
        with self._lock:
            self._done[chain] = min(int(finished), self.per_chain)
            self._div[chain] = int(divergences)
            now = time.perf_counter()
            if self.enabled and not self._closed and now - self._last >= self.interval:
                self._last = now
                self._draw(final=False)

    def close(self) -> None:
        """Draw the final state (once)."""
        with self._lock:
            if self.enabled and not self._closed:
                self._draw(final=True)
            self._closed = True

    # ------------------------------------------------------------------ drawing
    def text(self, width: int = 30) -> str:
        """The bar as one line of text."""
        share = self.finished / self.total if self.total else 1.0
        filled = round(width * share)
        return f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self._counts()}"

    def _counts(self) -> str:
        elapsed = time.perf_counter() - self._start
        return (
            f"{self.finished}/{self.total} iterations, {self.chains_done}/{self.chains} chains "
            f"done, {self.divergences} divergences, {elapsed:.1f} s"
        )

    def _html(self) -> str:
        return (
            f'<div style="font-family:monospace">{html.escape(self.label)} '
            f'<progress value="{self.finished}" max="{max(self.total, 1)}" '
            f'style="width:20em"></progress> {html.escape(self._counts())}</div>'
        )

    def _draw(self, final: bool) -> None:
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self._html()))
            return
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write("\r" + self.text() + ("\n" if final else ""))
        stream.flush()


class JobProgress:
    """One bar over ``total`` jobs (fits of a batch, SBC simulations), drawn in this process.

    In a Jupyter kernel an HTML display updated in place (rich's bar there would need
    ipywidgets and warns without them); elsewhere rich's bar on **stderr** (a counter line when
    rich is missing). ``enabled=False`` writes nothing.

    Examples
    --------
    >>> bar = JobProgress(3, "fit_many", enabled=False)
    >>> bar.advance("failed 0"); bar.advance("failed 1"); bar.close()
    >>> bar.done, bar.total
    (2, 3)
    """

    def __init__(self, total: int, label: str, enabled: bool = True, *, interval: float = 0.2):
        self.total, self.label, self.enabled = int(total), str(label), bool(enabled)
        self.done, self.note, self.interval = 0, "", float(interval)
        self._start = time.perf_counter()
        self._last = -float("inf")
        self._handle = self._rich = None
        self._closed = False
        if not self.enabled:
            return
        if in_notebook():
            from IPython.display import HTML, display

            self._handle = display(HTML(self._html()), display_id=True)
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:  # pragma: no cover - rich comes with PyMC
            return
        self._rich = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._rich.add_task(self.label, total=self.total, note="")
        self._rich.start()

    def _html(self) -> str:
        elapsed = time.perf_counter() - self._start
        counts = f"{self.done}/{self.total} {self.note} {elapsed:.1f} s".replace("  ", " ")
        return (
            f'<div style="font-family:monospace">{html.escape(self.label)} '
            f'<progress value="{self.done}" max="{max(self.total, 1)}" '
            f'style="width:20em"></progress> {html.escape(counts)}</div>'
        )

    def advance(self, note: str = "") -> None:
        """One more job done; ``note`` is shown beside the count (e.g. ``"failed 1"``)."""
        self.done += 1
        self.note = str(note)
        if not self.enabled or self._closed:
            return
        if self._handle is not None:
            now = time.perf_counter()
            if now - self._last >= self.interval:
                self._last = now
                from IPython.display import HTML

                self._handle.update(HTML(self._html()))
        elif self._rich is not None:
            self._rich.update(self._task, advance=1, note=self.note)
        else:  # pragma: no cover - no rich
            elapsed = time.perf_counter() - self._start
            sys.stderr.write(f"\r{self.label}: {self.done}/{self.total} {self.note} {elapsed:.0f}s")
            sys.stderr.flush()

    def close(self) -> None:
        """Draw the final state (once)."""
        if not self.enabled or self._closed:
            self._closed = True
            return
        self._closed = True
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self._html()))
        elif self._rich is not None:
            self._rich.stop()
        else:  # pragma: no cover - no rich
            sys.stderr.write("\n")
