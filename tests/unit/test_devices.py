"""--device: the JAX device of each setting and a one-line error for a missing GPU."""

from __future__ import annotations

import jax
import pytest

from bayesprune.devices import describe, on, resolve
from bayesprune.errors import OptionError


def test_cpu_and_auto_resolve_to_jax_devices():
    assert resolve("cpu").platform == "cpu"
    assert resolve("auto") == jax.devices()[0]
    assert describe(resolve("cpu")) == "cpu"
    with on("cpu") as dev:
        assert (jax.numpy.ones(3) + 1).devices() == {dev}


@pytest.mark.skipif(any(d.platform == "gpu" for d in jax.devices()), reason="a GPU is present")
def test_gpu_without_one_is_a_clear_error():
    with pytest.raises(OptionError, match=r"device gpu: JAX finds no GPU here .* pip install 'bayesprune\[cuda\]'"):
        resolve("gpu")
    with pytest.raises(OptionError, match="device 'tpu2' is unknown"):
        resolve("tpu2")
