"""Progress bars that work with compiled chains: the driver reports after every compiled chunk."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, soft_wrap=True)


class PlainStage:
    """A stage's progress where no bar can redraw (stderr a log file, a pipe, CI): a line when the stage starts,
    one as each quarter of it is done, and one when it ends, each with the seconds since it started, so a long run
    written to a log is never silent for long. A quarter's line is left out when the last line is under
    ``quiet_for`` seconds old, so a stage of a second or two writes two lines, not five. Call it with the steps
    just done, like a bar's advance."""

    def __init__(self, description: str, total: int, write: Callable[[str], None], *, quiet_for: float = 5.0,
                 clock: Callable[[], float] = time.perf_counter):
        self._description, self._total, self._write = description, max(int(total), 1), write
        self._quiet_for, self._clock = quiet_for, clock
        self._done, self._quarter, self._t0 = 0, 0, clock()
        self._last = self._t0
        write(f"{description}: {self._total:,} steps ...")

    def __call__(self, n: int) -> None:
        self._done += int(n)
        quarter = min(4 * self._done // self._total, 4)
        if quarter > self._quarter:
            self._quarter = quarter
            now = self._clock()
            seconds = now - self._t0
            if quarter == 4:
                self._write(f"{self._description}: done in {seconds:.0f} s")
            elif now - self._last >= self._quiet_for:
                self._last = now
                self._write(f"{self._description}: {min(self._done, self._total):,}/{self._total:,} "
                            f"({seconds:.0f} s)")


class Reporter:
    """Creates one bar per stage; ``stage(description, total)`` returns an ``advance(n)`` callable (with
    ``plain``, and no bar, a :class:`PlainStage` writing lines instead)."""

    def __init__(self, progress: Progress | None, *, notes: bool = True, plain: bool = False):
        self._progress = progress
        self._notes = notes
        self._plain = plain

    def stage(self, description: str, total: int) -> Callable[[int], None] | None:
        if self._progress is None:
            return PlainStage(description, total, lambda line: console.print(line, markup=False)) \
                if self._plain else None
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
    """A :class:`Reporter` drawing rich bars on stderr; when stderr is not a terminal (and ``enabled`` is None)
    a line where each stage starts and ends and per quarter of a longer one instead (:class:`PlainStage`);
    ``enabled=False`` (``--quiet``): neither, and no notes."""
    quiet = enabled is False
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield Reporter(None, notes=not quiet, plain=not quiet)
        return
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        yield Reporter(bar)
