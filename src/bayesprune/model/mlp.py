"""A multilayer perceptron over one flat parameter vector ``theta``.

Layout of ``theta`` (layer by layer): ``W1`` (in x h1, row-major), ``b1`` (h1), ``W2``, ``b2``, ... The
:class:`MLPSpec` knows each slice and names every parameter (``layer1.W[3,7]``), so scores and masks are
plain vectors of the same length as ``theta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.errors import OptionError
from bayesprune.options import one_of

Activation = Literal["sigmoid", "tanh", "relu"]
Output = Literal["identity", "softmax", "sigmoid"]

_ACTIVATIONS = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
}
ACTIVATIONS = tuple(_ACTIVATIONS)
OUTPUTS = ("identity", "softmax", "sigmoid")


def check_hidden(name: str, hidden) -> None:
    """Hidden layer widths: a list of integers >= 1 (an empty list is a network without hidden layer)."""
    if not isinstance(hidden, (tuple, list)):
        raise OptionError.about(name, f"must be a list of widths, e.g. 12 or 32,16; got {hidden!r}")
    for h in hidden:
        if isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1:
            raise OptionError.about(name, f"must list widths >= 1, e.g. 12 or 32,16; got {list(hidden)}")


@dataclass(frozen=True)
class MLPSpec:
    """Architecture of a fully connected network (frozen and hashable, so it can be a static jit argument).

    Parameters
    ----------
    n_inputs, hidden, n_outputs
        Layer widths; ``hidden=(12,)`` is the paper's one hidden layer of 12 units.
    activation
        Hidden activation: ``sigmoid`` (paper), ``tanh`` or ``relu``.
    output
        ``identity`` (regression), ``softmax`` (classification; :func:`forward` returns logits) or
        ``sigmoid`` (the paper's own regression output squashed to (0, 1)).
    """

    n_inputs: int
    hidden: tuple[int, ...]
    n_outputs: int
    activation: Activation = "sigmoid"
    output: Output = "identity"

    def __post_init__(self) -> None:
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise OptionError("a network needs at least one input and one output")
        check_hidden("hidden", self.hidden)
        one_of(ACTIVATIONS)("activation", self.activation)
        one_of(OUTPUTS)("output", self.output)

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.n_inputs, *self.hidden, self.n_outputs)

    @property
    def n_layers(self) -> int:
        return len(self.widths) - 1

    @cached_property
    def layer_slices(self) -> tuple[tuple[slice, slice], ...]:
        """For each layer, the slices of ``theta`` holding its weight matrix and its bias."""
        out = []
        start = 0
        for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:], strict=True):
            w = slice(start, start + fan_in * fan_out)
            start = w.stop
            b = slice(start, start + fan_out)
            start = b.stop
            out.append((w, b))
        return tuple(out)

    @property
    def n_params(self) -> int:
        return self.layer_slices[-1][1].stop

    @cached_property
    def param_names(self) -> tuple[str, ...]:
        """Readable names, ``layer{l}.W[i,j]`` and ``layer{l}.b[j]`` with 1-based layers."""
        names: list[str] = []
        for layer, (fan_in, fan_out) in enumerate(zip(self.widths[:-1], self.widths[1:], strict=True), 1):
            names += [f"layer{layer}.W[{i},{j}]" for i in range(fan_in) for j in range(fan_out)]
            names += [f"layer{layer}.b[{j}]" for j in range(fan_out)]
        return tuple(names)

    @cached_property
    def param_layer(self) -> np.ndarray:
        """Layer index (0-based) of every parameter, shape ``(n_params,)``."""
        out = np.empty(self.n_params, dtype=np.int32)
        for layer, (w, b) in enumerate(self.layer_slices):
            out[w.start : b.stop] = layer
        return out

    def to_dict(self) -> dict:
        return {
            "n_inputs": self.n_inputs,
            "hidden": list(self.hidden),
            "n_outputs": self.n_outputs,
            "activation": self.activation,
            "output": self.output,
        }

    @classmethod
    def from_dict(cls, d: dict) -> MLPSpec:
        return cls(
            n_inputs=int(d["n_inputs"]),
            hidden=tuple(int(h) for h in d["hidden"]),
            n_outputs=int(d["n_outputs"]),
            activation=d.get("activation", "sigmoid"),
            output=d.get("output", "identity"),
        )


def unflatten(spec: MLPSpec, theta: jax.Array) -> list[tuple[jax.Array, jax.Array]]:
    """Split a flat vector into ``[(W1, b1), (W2, b2), ...]`` with ``W`` of shape (fan_in, fan_out)."""
    layers = []
    for (w, b), fan_in, fan_out in zip(spec.layer_slices, spec.widths[:-1], spec.widths[1:], strict=True):
        layers.append((theta[w].reshape(fan_in, fan_out), theta[b]))
    return layers


def flatten(layers: list[tuple[jax.Array, jax.Array]]) -> jax.Array:
    """Inverse of :func:`unflatten`."""
    return jnp.concatenate([jnp.concatenate([W.reshape(-1), b]) for W, b in layers])


def forward(spec: MLPSpec, theta: jax.Array, X: jax.Array) -> jax.Array:
    """Network output for inputs ``X`` (n, n_inputs).

    Returns the regression mean (``identity``/``sigmoid`` output) or the class logits (``softmax``), shape
    ``(n, n_outputs)``.
    """
    act = _ACTIVATIONS[spec.activation]
    h = X
    layers = unflatten(spec, theta)
    for W, b in layers[:-1]:
        h = act(h @ W + b)
    W, b = layers[-1]
    out = h @ W + b
    if spec.output == "sigmoid":
        out = jax.nn.sigmoid(out)
    return out


def init_params(key: jax.Array, spec: MLPSpec, *, scale: float | None = None) -> jax.Array:
    """Random starting point: Glorot-style normal weights (or ``N(0, scale^2)``), zero biases."""
    keys = jax.random.split(key, spec.n_layers)
    layers = []
    for k, fan_in, fan_out in zip(keys, spec.widths[:-1], spec.widths[1:], strict=True):
        s = scale if scale is not None else float(np.sqrt(2.0 / (fan_in + fan_out)))
        layers.append((s * jax.random.normal(k, (fan_in, fan_out)), jnp.zeros(fan_out)))
    return flatten(layers)


def hidden_unit_groups(spec: MLPSpec) -> list[tuple[int, int, np.ndarray]]:
    """Parameters that belong to each hidden unit: ``(layer, unit, indices)``.

    A unit's group holds its incoming weights, its bias and its outgoing weights, so removing the group
    removes the unit (structured pruning).
    """
    groups = []
    slices = spec.layer_slices
    for layer in range(len(spec.hidden)):
        fan_in, width, fan_out = spec.widths[layer], spec.widths[layer + 1], spec.widths[layer + 2]
        w_in, b_in = slices[layer]
        w_out, _ = slices[layer + 1]
        for j in range(width):
            incoming = w_in.start + np.arange(fan_in) * width + j
            bias = np.array([b_in.start + j])
            outgoing = w_out.start + j * fan_out + np.arange(fan_out)
            groups.append((layer, j, np.concatenate([incoming, bias, outgoing])))
    return groups


def hidden_unit_index(spec: MLPSpec, units: list[np.ndarray], inputs: np.ndarray | None = None) -> np.ndarray:
    """Indices into ``theta`` of the network made of the given hidden units, in the given order.

    ``units[l]`` lists units of hidden layer ``l`` (a permutation relabels them, a subset removes the others);
    ``inputs`` the input features kept (default: all); outputs are kept as they are. ``theta[index]`` is then the
    parameter vector of that network.
    """
    inputs = np.arange(spec.n_inputs) if inputs is None else np.asarray(inputs)
    layers = [inputs, *(np.asarray(u) for u in units), np.arange(spec.n_outputs)]
    parts = []
    for layer, (w, b) in enumerate(spec.layer_slices):
        fan_out = spec.widths[layer + 1]
        rows, cols = layers[layer], layers[layer + 1]
        parts.append((w.start + rows[:, None] * fan_out + cols[None, :]).reshape(-1))
        parts.append(b.start + cols)
    return np.concatenate(parts).astype(np.int64)
