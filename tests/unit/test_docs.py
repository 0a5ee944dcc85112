"""The Python examples in the documentation run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("block", range(3))
def test_api_examples_run(block, no_data_env):
    code = re.findall(r"```python\n(.*?)```", (DOCS / "API.md").read_text(), re.S)[block]
    exec(compile(code, f"docs/API.md[{block}]", "exec"), {})
