"""Progress bars that work with compiled chains: the driver reports after every compiled chunk."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, soft_wrap=True)


class Reporter:
    """Creates one bar per stage; ``stage(description, total)`` returns an ``advance(n)`` callable."""

    def __init__(self, progress: Progress | None, *, notes: bool = True):
        self._progress = progress
        self._notes = notes

    def stage(self, description: str, total: int) -> Callable[[int], None] | None:
        if self._progress is None:
            return None
        task = self._progress.add_task(description, total=max(int(total), 1))
        return lambda n: self._progress.advance(task, n)

    def log(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message)

    def note(self, message: str) -> None:
        """A message the user should see before the work starts (on stderr; not when quiet)."""
        if self._notes:
            (self._progress.console if self._progress is not None else console).print(f"note: {message}",
                                                                                       markup=False)


@contextmanager
def reporter(enabled: bool | None = None) -> Iterator[Reporter]:
    """A :class:`Reporter` drawing rich bars on stderr (off when not a terminal unless ``enabled``; notes are
    printed unless ``enabled`` is False)."""
    quiet = enabled is False
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield Reporter(None, notes=not quiet)
        return
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        yield Reporter(bar)
