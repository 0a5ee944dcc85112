"""Shared by the benchmark scripts: writing a result table as Markdown (and its data as JSON)."""

from __future__ import annotations

import json
from pathlib import Path


def write_markdown(out: str, lines: list[str]) -> None:
    """Write ``lines`` (plus a final newline) to ``out``, creating its folder, and say so."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text("\n".join([*lines, ""]))
    print(f"wrote {out}")


def write_results(out: str, lines: list[str], data) -> None:
    """Print the Markdown ``lines``, write them to ``out`` and ``data`` as JSON beside it (``.json``)."""
    print("\n".join(lines))
    write_markdown(out, lines)
    Path(out).with_suffix(".json").write_text(json.dumps(data, indent=1))
