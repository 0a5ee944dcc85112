"""Masks that can work: which parameters of a keep-mask lie on a path from the inputs to the outputs, and a repair
that spends the budget of the others on parameters that do.

An unstructured selector ranks parameters one by one, so it can keep the incoming weights of a hidden unit whose
outgoing weights were all removed (the unit cannot change any output), the outgoing weights of a unit with no
incoming weight (a constant, which only shifts the next layer's bias), or leave an output with no path from the
inputs at all (its logit a constant: the collapse of a class described in docs/METHOD.md). Such parameters count
against the budget but do nothing. :func:`repair` removes them, keeps a best path to every output, and gives the
freed budget to the best-scoring removed parameters that connect live nodes, so the repaired mask keeps exactly
as many parameters as it was given (unless every connection between live nodes is already kept).

Graph terms: the nodes are the inputs, the hidden units and the outputs; a weight is an edge, a bias belongs to
its node. A hidden unit is *live* when a kept weight reaches it from an input through live units and a kept
weight leaves it towards an output through live units. No library offers this for a flat parameter vector with
a boolean mask (the pruning utilities of PyTorch and TensorFlow-Model-Optimization prune tensors one by one,
without following paths), hence this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesprune.model.mlp import MLPSpec


def _weights(spec: MLPSpec, keep: np.ndarray, layer: int) -> np.ndarray:
    """The keep-mask of layer ``layer``'s weight matrix, shape (fan_in, fan_out)."""
    w, _ = spec.layer_slices[layer]
    return keep[w].reshape(spec.widths[layer], spec.widths[layer + 1])


def reach(spec: MLPSpec, keep: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per node layer (inputs, hidden layers, outputs): whether a path of kept weights reaches the node from an
    input (forward), and whether one leads from it to an output (backward)."""
    keep = np.asarray(keep, bool)
    n = len(spec.widths)
    forward = [np.ones(spec.n_inputs, bool)]
    for layer in range(n - 1):
        forward.append((forward[layer][:, None] & _weights(spec, keep, layer)).any(axis=0))
    backward = [np.ones(spec.n_outputs, bool)]
    for layer in range(n - 2, -1, -1):
        backward.insert(0, (_weights(spec, keep, layer) & backward[0][None, :]).any(axis=1))
    return forward, backward


def live_nodes(spec: MLPSpec, keep: np.ndarray) -> list[np.ndarray]:
    """One boolean vector per node layer (inputs, hidden layers, outputs): whether the node lies on a path of
    kept weights from an input to an output."""
    forward, backward = reach(spec, keep)
    return [f & b for f, b in zip(forward, backward, strict=True)]


def useful(spec: MLPSpec, keep: np.ndarray) -> np.ndarray:
    """Parameters that can change an output given the rest of ``keep``: weights between two live nodes (an input
    counts as a live source and an output as a live sink whatever is kept), biases of live units and of outputs."""
    live = live_nodes(spec, keep)
    sources = [np.ones(spec.n_inputs, bool), *live[1:-1]]
    sinks = [*live[1:-1], np.ones(spec.n_outputs, bool)]
    out = np.zeros(spec.n_params, bool)
    for layer, (w, b) in enumerate(spec.layer_slices):
        out[w] = (sources[layer][:, None] & sinks[layer][None, :]).reshape(-1)
        out[b] = sinks[layer]
    return out


def orphan_outputs(spec: MLPSpec, keep: np.ndarray) -> np.ndarray:
    """Indices of the outputs that no path of kept weights reaches from the inputs."""
    return np.flatnonzero(~live_nodes(spec, keep)[-1])


def dropped_inputs(spec: MLPSpec, keep: np.ndarray) -> np.ndarray:
    """Indices of the input features that no longer reach any output (every path from them was removed)."""
    return np.flatnonzero(~live_nodes(spec, keep)[0])


def best_path(spec: MLPSpec, scores: np.ndarray, output: int, allowed: np.ndarray | None = None) -> np.ndarray | None:
    """Parameter indices of the input -> ... -> ``output`` path of weights whose scores sum highest (dynamic
    programming over the layers), using only ``allowed`` weights (default: any); ``None`` when every path
    needs a weight that is not allowed."""
    scores = np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf, posinf=np.finfo(float).max)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    value = np.zeros(spec.n_inputs)
    choices = []
    for layer in range(spec.n_layers):
        w, _ = spec.layer_slices[layer]
        with np.errstate(over="ignore", invalid="ignore"):  # huge + huge = inf still ranks first
            total = value[:, None] + scores[w].reshape(spec.widths[layer], spec.widths[layer + 1])
        total = np.where(np.isnan(total), -np.inf, total)  # inf + -inf: a path through a weight not allowed
        choices.append(np.argmax(total, axis=0))
        value = np.max(total, axis=0)
    if value[output] == -np.inf:
        return None
    path = []
    node = output
    for layer in range(spec.n_layers - 1, -1, -1):
        w, _ = spec.layer_slices[layer]
        src = int(choices[layer][node])
        path.append(w.start + src * spec.widths[layer + 1] + node)
        node = src
    return np.array(sorted(path), dtype=np.int64)


@dataclass(frozen=True)
class Repair:
    """What :func:`repair` changed: parameters of the selection it removed (dead), removed ones it kept instead
    (refilled, from the freed budget), removed ones it kept to give an output a path, and the input features that
    no kept path uses. ``removed_dead = refilled + path_added`` unless the budget could not be spent."""

    removed_dead: int
    refilled: int
    path_added: int
    dropped_inputs: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"removed_dead": self.removed_dead, "refilled": self.refilled, "path_added": self.path_added,
                "dropped_inputs": list(self.dropped_inputs)}


def _output_paths(spec: MLPSpec, scores: np.ndarray, allowed: np.ndarray, protected: np.ndarray,
                  outputs: list[int]) -> tuple[np.ndarray, set[int]]:
    """Protected paths to every output in ``outputs`` (chosen one by one, each preferring weights already
    protected), started from each output in turn; the start that protects the fewest weights wins (ties: the
    first). Returns the protected weights and the outputs that no allowed path reaches."""
    best: tuple[int, np.ndarray, set[int]] | None = None
    for first in outputs:
        chosen = protected.copy()
        unreached: set[int] = set()
        for output in [first, *(o for o in outputs if o != first)]:
            path = best_path(spec, np.where(chosen, np.finfo(float).max / 8, scores), output, allowed)
            if path is None:
                unreached.add(output)
            else:
                chosen[path] = True
        if best is None or int(chosen.sum()) < best[0]:
            best = (int(chosen.sum()), chosen, unreached)
    assert best is not None
    return best[1], best[2]


def _revival(spec: MLPSpec, keep: np.ndarray, scores: np.ndarray) -> tuple[float, list[int]]:
    """The cheapest way to bring a hidden unit back: one weight into it from a node an input reaches and one
    out of it towards a node that reaches an output, both removed now; scored by the lower of the two scores.
    Returns (score, [in, out]) or (-inf, []) when no unit can come back with two weights."""
    forward, backward = reach(spec, keep)
    best: tuple[float, list[int]] = (-np.inf, [])
    for layer in range(len(spec.hidden)):
        w_in, _ = spec.layer_slices[layer]
        w_out, _ = spec.layer_slices[layer + 1]
        fan_in, width, fan_out = spec.widths[layer], spec.widths[layer + 1], spec.widths[layer + 2]
        s_in = np.where(forward[layer][:, None] & ~_weights(spec, keep, layer),
                        scores[w_in].reshape(fan_in, width), -np.inf)
        s_out = np.where(backward[layer + 2][None, :] & ~_weights(spec, keep, layer + 1),
                         scores[w_out].reshape(width, fan_out), -np.inf)
        dead = ~(forward[layer + 1] & backward[layer + 1])
        for j in np.flatnonzero(dead):
            i, k = int(np.argmax(s_in[:, j])), int(np.argmax(s_out[j]))
            value = min(s_in[i, j], s_out[j, k])
            if value > best[0]:
                best = (float(value), [w_in.start + i * width + j, w_out.start + j * fan_out + k])
    return best


def _refill(spec: MLPSpec, keep: np.ndarray, scores: np.ndarray, allowed: np.ndarray, order_desc: np.ndarray,
            deficit: int) -> list[int]:
    """Allowed parameters to add back (at most ``deficit``): those that connect live nodes, best first, down to
    the score of the best unit revival (:func:`_revival`); then that revival when two parameters fit. ``scores``
    are ``-inf`` where not allowed, so a revival never uses those."""
    can = useful(spec, keep) & ~keep & allowed
    revive_score, revive = _revival(spec, keep, scores) if deficit >= 2 else (-np.inf, [])
    add = [i for i in order_desc if can[i] and scores[i] >= revive_score][:deficit]
    if add or not revive:
        return add
    return revive


def repair(keep: np.ndarray, scores: np.ndarray, spec: MLPSpec, allowed: np.ndarray | None = None
           ) -> tuple[np.ndarray, Repair]:
    """A mask with as many kept parameters as ``keep`` where every kept parameter can change an output.

    1. every output without a path from the inputs gets a path, protected: the outputs' paths are chosen one
       by one (:func:`best_path`, preferring weights already protected, so outputs share a path where they
       can), starting from whichever output gives the fewest protected weights in all;
    2. parameters that cannot change an output (:func:`useful`) are removed;
    3. the freed budget goes to the highest-scoring removed parameters that connect live nodes (or bring a dead
       unit back with one weight in and one out, when that pair scores higher), or, when the
       protected paths took more than the budget, the lowest-scoring unprotected kept parameters are removed;
       repeated until nothing changes. Ties go to the lower index, so the result is deterministic.

    ``allowed`` (default: every parameter): the parameters the mask may keep. A step of a gradual schedule
    passes the previous step's mask, so a parameter removed at an earlier step never comes back.

    Only when the budget is smaller than the fewest allowed weights that reach every output (``n_outputs`` plus
    the hidden layers' count for one shared chain of units, when every weight is allowed) does the repaired
    mask keep more than it was given: a network with a constant output is not worth its smaller size. An
    output that no allowed path reaches keeps none.
    """
    keep = np.asarray(keep, bool).copy()
    scores = np.asarray(scores, np.float64)
    allowed = np.ones_like(keep) if allowed is None else np.asarray(allowed, bool)
    if np.any(keep & ~allowed):
        raise ValueError("keep: keeps parameters that allowed excludes")
    scores = np.where(allowed, scores, -np.inf)
    budget = int(keep.sum())
    original = keep.copy()
    protected = np.zeros_like(keep)
    order_desc = np.lexsort((np.arange(len(scores)), -np.nan_to_num(scores, nan=-np.inf)))
    order_asc = np.lexsort((np.arange(len(scores)), np.nan_to_num(scores, nan=-np.inf)))
    unreachable: set[int] = set()
    for _ in range(4 * spec.n_params + 4):
        orphans = [int(o) for o in orphan_outputs(spec, keep) if int(o) not in unreachable]
        if orphans:
            paths_, unreached = _output_paths(spec, scores, allowed, protected, orphans)
            unreachable |= unreached
            protected |= paths_
            keep |= paths_
        while True:  # removing one dead parameter can kill the unit feeding it, hence the loop
            dead = keep & ~useful(spec, keep) & ~protected
            if not dead.any():
                break
            keep &= ~dead
        excess = int(keep.sum()) - budget
        if excess > 0:
            drop = [i for i in order_asc if keep[i] and not protected[i]][:excess]
            keep[drop] = False
            continue
        if excess < 0:
            add = _refill(spec, keep, scores, allowed, order_desc, -excess)
            if not add:
                break
            keep[add] = True
            continue
        break
    return keep, Repair(removed_dead=int(np.sum(original & ~keep)), refilled=int(np.sum(keep & ~original & ~protected)),
                        path_added=int(np.sum(protected & ~original)),
                        dropped_inputs=tuple(int(i) for i in dropped_inputs(spec, keep)))
