"""Shared by the benchmark scripts: writing a result table as Markdown."""

from __future__ import annotations

from pathlib import Path


def write_markdown(out: str, lines: list[str]) -> None:
    """Write ``lines`` (plus a final newline) to ``out``, creating its folder, and say so."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join([*lines, ""]))
    print(f"wrote {out}")
