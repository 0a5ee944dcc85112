"""Which device JAX computes a run on: ``auto`` (JAX's default: a GPU when JAX's CUDA build finds one, else the
CPU), ``cpu`` or ``gpu``.

JAX places every computation on its default device; a run is put on another by :func:`on` (JAX's own
``jax.default_device``), so nothing else in the package names a device. The device a run used is recorded in
its provenance (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import jax

from bayesprune.errors import OptionError

DEVICES = ("auto", "cpu", "gpu")


def resolve(device: str = "auto") -> jax.Device:
    """The JAX device of a ``--device`` setting; a one-line error when a GPU is asked for and there is none."""
    if device not in DEVICES:
        raise OptionError.about("device", f"'{device}' is unknown; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return jax.devices()[0]
    try:
        return jax.devices(device)[0]
    except RuntimeError:
        raise OptionError.about(
            "device", f"{device}: JAX finds no {device.upper()} here (it has {jax.default_backend()}); install "
            "JAX's CUDA build with pip install 'bayesprune[cuda]' on a machine with an NVIDIA GPU, or use auto or "
            "cpu") from None


def describe(device: jax.Device) -> str:
    """``cpu`` or, for an accelerator, its platform and kind (``gpu: NVIDIA H200``)."""
    return "cpu" if device.platform == "cpu" else f"{device.platform}: {device.device_kind}"


@contextmanager
def on(device: str = "auto") -> Iterator[jax.Device]:
    """Compute on ``device`` inside the block (yields the JAX device)."""
    dev = resolve(device)
    with jax.default_device(dev):
        yield dev
