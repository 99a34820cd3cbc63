"""Progress displays on stderr: pages and lines labelled, folds done."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import typer

from .app import say_line, show_warning


@dataclass
class PageProgress:
    """What a run reports while it labels: ``advance`` once per page with its
    number of lines, ``say`` for a message line (above the display, when one
    is on, instead of into the middle of its line)."""

    advance: Callable[[int], None] = lambda lines: None
    say: Callable[[str], None] = say_line


@contextlib.contextmanager
def page_progress(show: bool):
    """A progress display of pages and lines labelled, and their rates, on
    stderr when it is a terminal (and ``show``: not while the output itself
    goes to that terminal, which the display would garble). Yields a
    :class:`PageProgress`; while the display is on, warnings are shown
    above it too."""
    if not (show and sys.stderr.isatty()):
        yield PageProgress()
        return
    import time

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    start = time.monotonic()
    counts = {"pages": 0, "lines": 0}
    # stdout is left alone: the labelled output is written to it as bytes
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True, redirect_stdout=False,
    ) as display:
        task = display.add_task(progress_text(0, 0, 0.0), total=None)

        def advance(lines: int) -> None:
            counts["pages"] += 1
            counts["lines"] += lines
            display.update(task, description=progress_text(counts["pages"], counts["lines"], time.monotonic() - start))

        say = functools.partial(display.console.print, markup=False, highlight=False, emoji=False, soft_wrap=True)
        previous = warnings.showwarning
        warnings.showwarning = functools.partial(show_warning, say=say)
        try:
            yield PageProgress(advance, say)
        finally:
            warnings.showwarning = previous


def progress_text(pages: int, lines: int, seconds: float) -> str:
    """What the progress display says: pages and lines so far, and per second."""
    seconds = max(seconds, 1e-9)
    return f"{pages:,} pages ({pages / seconds:,.1f}/s), {lines:,} lines ({lines / seconds:,.0f}/s)"


@contextlib.contextmanager
def fold_progress(folds: int):
    """A progress bar over cross-validation folds on stderr (a line per fold
    when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        yield lambda done, total: typer.echo(f"lineclf: cross-validation fold {done}/{total} done", err=True)
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("cross-validation"), BarColumn(), TextColumn("{task.completed}/{task.total} folds"),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("folds", total=folds)
        yield lambda done, total: bar.update(task, completed=done, total=total)
