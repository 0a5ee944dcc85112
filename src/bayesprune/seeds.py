"""Named random streams derived from one integer seed.

Each stage draws from its own stream (``split``, ``init``, ``sample``, ``prune``, ``resample``,
``evaluate``), so adding a stage or changing one stage's settings never shifts another's random numbers.
"""

from __future__ import annotations

import zlib

import jax


def stream_key(seed: int, name: str) -> jax.Array:
    """JAX key of stream ``name`` for ``seed``: fold the name's CRC-32 into ``key(seed)``."""
    return jax.random.fold_in(jax.random.key(int(seed)), zlib.crc32(name.encode()) & 0x7FFFFFFF)


def stream_int(seed: int, name: str) -> int:
    """A 31-bit integer seed of stream ``name`` (for NumPy / scikit-learn consumers such as the split)."""
    return (zlib.crc32(f"{int(seed)}:{name}".encode()) & 0x7FFFFFFF)
