"""ONNX export of a compact model: one graph that maps raw feature rows to the posterior predictive, runnable in
ONNX Runtime (or any ONNX runtime) without bayesprune or JAX.

Written with the ``onnx`` package's helpers, node by node: the graph is a handful of standard operators (MatMul,
Add, the activation, Softmax, ReduceMean, Erf), which needs no tracing from JAX, so jax2onnx would add a
dependency without saving code. Opset :data:`OPSET`.

The graph (``N`` rows, ``D`` draws, all float32):

- input ``X`` [N, n_features]: the features in the model's order, in the user's units; the graph applies the
  model's feature scaling and reads only the features that pruning kept;
- the network of every draw at once: the stacked weights of layer ``l`` are ``[D, fan_in, fan_out]``, so one
  batched MatMul per layer evaluates all draws. The removed hidden units and input features are absent (the
  compact architecture). For the sparse layout the file stores, as the ``.bpz`` does, only the kept values
  ``[n_kept, D]`` and their int32 positions; the dense stacked weights are rebuilt from them by a ScatterND
  whose inputs are all constants, which ONNX Runtime folds once when the session is created;
- outputs, classification: ``probabilities`` [N, classes], the mean over draws of the softmax;
  regression: ``mean`` and ``sd`` [N] in the target's units (sd = sqrt(Var_draws f + E tau^2), as
  ``bayesprune predict``), ``lower`` and ``upper`` [N], the central interval of the predictive mixture
  (1/D) sum_d N(f_d, tau_d^2) found by bisection on its CDF (Erf), the same rule as
  :func:`~bayesprune.predictive.mixture_interval`, which ``bayesprune predict`` uses; for a model of the
  target's logarithm (``--target-transform log``) also ``median`` [N], its point prediction, and the mean and sd
  of the log-normal mixture and the interval's ends through Exp, as ``bayesprune predict`` gives them;
- optionally ``draws`` [D, N, outputs]: each draw's class probabilities or regression mean (target's units; for
  a model of the logarithm, the exponential of the draw's mean: its median).

The compact model's draws are equally weighted: chain weights (stacking) were applied when the draws were
thinned into the ``.bpz`` (each chain contributes draws in proportion to its weight), so the graph's plain means
carry them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bayesprune.errors import OptionError
from bayesprune.indices import evenly_spaced
from bayesprune.io.atomic import atomic_path
from bayesprune.io.compact import CompactModel, load_model, scaler_affine
from bayesprune.predictive import BRACKET_SDS

OPSET = 17
# Bisection steps of the interval in the graph: each halves the bracket of :func:`mixture_interval`; after about
# 30 the float32 bracket stops shrinking, so 40 reach float32's resolution with room to spare.
GRAPH_BISECTION_STEPS = 40


class _Graph:
    """Nodes and constants of one ONNX graph; every node has one output, named in order."""

    def __init__(self):
        self.nodes, self.initializers, self._n = [], [], 0

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def const(self, value, dtype=np.float32) -> str:
        from onnx import numpy_helper

        name = self._name("c")
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs) -> str:
        from onnx import helper

        name = out or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [name], **attrs))
        return name


def _layer_weights(g: _Graph, model: CompactModel, draws: np.ndarray):
    """For each layer, the names of its stacked weights [D, fan_in, fan_out] and biases [D, 1, fan_out]."""
    spec = model.spec
    d = draws.shape[0]
    out = []
    if model.kept_idx is None:  # dense layout: the parameters of the compact network, stored as they are
        for (w, b), fi, fo in zip(spec.layer_slices, spec.widths[:-1], spec.widths[1:], strict=True):
            out.append((g.const(draws[:, w].reshape(d, fi, fo)), g.const(draws[:, b].reshape(d, 1, fo))))
        return out
    # Sparse layout: the kept values and their positions, as in the .bpz; ScatterND rebuilds the dense
    # [n_params, D] matrix from constants only, which ONNX Runtime folds when it loads the graph.
    pos = g.op("Cast", g.const(model.kept_idx.reshape(-1, 1), np.int32), to=7)  # int64
    zeros = g.op("ConstantOfShape", g.const([spec.n_params, d], np.int64))
    theta = g.op("ScatterND", zeros, pos, g.const(draws.T))
    axis0 = g.const([0], np.int64)
    for (w, b), fi, fo in zip(spec.layer_slices, spec.widths[:-1], spec.widths[1:], strict=True):
        wl = g.op("Slice", theta, g.const([w.start], np.int64), g.const([w.stop], np.int64), axis0)
        wl = g.op("Transpose", g.op("Reshape", wl, g.const([fi, fo, d], np.int64)), perm=[2, 0, 1])
        bl = g.op("Slice", theta, g.const([b.start], np.int64), g.const([b.stop], np.int64), axis0)
        bl = g.op("Transpose", g.op("Reshape", bl, g.const([1, fo, d], np.int64)), perm=[2, 0, 1])
        out.append((wl, bl))
    return out


_ACTIVATION_OPS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}


def _network(g: _Graph, model: CompactModel, draws: np.ndarray) -> str:
    """The network's outputs for every draw, [D, N, n_outputs] (logits, or regression means in scaled units),
    from the raw input ``X``."""
    n_features = len(model.feature_names)
    a, c = scaler_affine(model.header["x_scaler"], n_features)
    h = g.op("Add", g.op("Mul", "X", g.const(a)), g.const(c))
    if "x_range" in model.header:  # clipped to the clip range (ONNX's Clip takes one bound for all)
        bounds = model.header["x_range"]
        h = g.op("Min", g.op("Max", h, g.const(np.asarray(bounds["low"]))), g.const(np.asarray(bounds["high"])))
    if "inputs" in model.header:  # the features pruning removed are not read
        h = g.op("Gather", h, g.const(model.header["inputs"], np.int64), axis=1)
    layers = _layer_weights(g, model, draws)
    for i, (w, b) in enumerate(layers):
        h = g.op("Add", g.op("MatMul", h, w), b)  # [N, fi] @ [D, fi, fo] broadcasts to [D, N, fo]
        if i < len(layers) - 1:
            h = g.op(_ACTIVATION_OPS[model.spec.activation], h)
    if model.spec.output == "sigmoid":
        h = g.op("Sigmoid", h)
    return h


def _quantiles(g: _Graph, f: str, noise_var: np.ndarray, ps: list[float]) -> str:
    """[len(ps), N]: the mixture's quantiles at the probabilities ``ps`` (the ends of a central interval, and a
    log-target model's median), by the bisection of :func:`~bayesprune.predictive.mixture_quantile`, one ONNX
    Loop of :data:`GRAPH_BISECTION_STEPS` steps for all of them."""
    from onnx import TensorProto, helper

    tau = np.sqrt(noise_var.astype(np.float64))[:, None]
    lo = g.op("ReduceMin", g.op("Sub", f, g.const(BRACKET_SDS * tau)), axes=[0], keepdims=1)  # [1, N]
    hi = g.op("ReduceMax", g.op("Add", f, g.const(BRACKET_SDS * tau)), axes=[0], keepdims=1)
    rows = g.const(np.zeros((len(ps), 1)))
    lo, hi = g.op("Add", lo, rows), g.op("Add", hi, rows)  # [len(ps), N]: a row per quantile
    p = np.asarray(ps, np.float64)
    target = g.const((2 * p - 1)[:, None])  # mean_d erf(z_d) below 2p - 1 <=> mixture CDF below p
    inv = g.const(1.0 / (tau * np.sqrt(2.0)))  # [D, 1]
    half, axis1 = g.const(0.5), g.const([1], np.int64)
    # the loop's body: one bisection step on (lo, hi), reading f and the constants from the outer graph
    body = _Graph()
    body._n = g._n
    mid = body.op("Mul", body.op("Add", "lo_in", "hi_in"), half)
    z = body.op("Mul", body.op("Sub", body.op("Unsqueeze", mid, axis1), f), inv)  # [len(ps), D, N]
    below = body.op("Less", body.op("ReduceMean", body.op("Erf", z), axes=[1], keepdims=0), target)
    body.op("Where", below, mid, "lo_in", out="lo_out")
    body.op("Where", below, "hi_in", mid, out="hi_out")
    body.op("Identity", "cond_in", out="cond_out")
    g._n = body._n
    flt = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [len(ps), "N"])  # noqa: E731
    step = helper.make_graph(
        body.nodes, "bisection_step",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), flt("lo_in"), flt("hi_in")],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), flt("lo_out"), flt("hi_out")])
    lo_end, hi_end = g._name("lo"), g._name("hi")
    g.nodes.append(helper.make_node("Loop", [g.const(GRAPH_BISECTION_STEPS, np.int64), "", lo, hi],
                                    [lo_end, hi_end], name=g._name("Loop"), body=step))
    return g.op("Mul", g.op("Add", lo_end, hi_end), half)


def onnx_model(model: CompactModel, *, draws: int | None = None, include_draws: bool = False,
               interval: float = 0.9):
    """The ONNX ``ModelProto`` of a loaded compact model (see the module's docstring for the graph).

    ``draws``: keep this many of the model's draws, evenly spaced (default: all); ``include_draws``: also output
    every draw's prediction; ``interval``: the level of ``lower`` / ``upper`` (regression)."""
    import onnx
    from onnx import TensorProto, helper

    from bayesprune import __version__

    n_all = model.draws.shape[0]
    if draws is not None and (isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1):
        raise OptionError.about("draws", f"must be a whole number >= 1, got {draws!r}")
    if not 0.0 < interval < 1.0:
        raise OptionError.about("interval", f"must be between 0 and 1, e.g. 0.9; got {interval!r}")
    pick = np.arange(n_all) if draws is None or draws >= n_all else evenly_spaced(n_all, int(draws))
    theta = model.draws[pick].astype(np.float32)
    g = _Graph()
    out = _network(g, model, theta)
    n_features = len(model.feature_names)
    outputs = []
    if model.task == "classification":
        probs = g.op("Softmax", out, axis=-1)  # [D, N, K]
        g.op("ReduceMean", probs, axes=[0], keepdims=0, out="probabilities")
        outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", model.spec.n_outputs]))
        per_draw, width = probs, model.spec.n_outputs
    else:
        noise = model.noise_var[pick].astype(np.float64)
        f = g.op("Squeeze", out, g.const([2], np.int64))  # [D, N], scaled units
        mean = g.op("ReduceMean", f, axes=[0], keepdims=0)
        dev = g.op("Sub", f, mean)
        var = g.op("Add", g.op("ReduceMean", g.op("Mul", dev, dev), axes=[0], keepdims=0), g.const(noise.mean()))
        a, c = scaler_affine(model.header["y_scaler"], 1, inverse=True)
        a_, c_ = g.const(a[0]), g.const(c[0])
        log = model.target_transform == "log"
        # the interval's lower and upper ends (and a log-target model's median) in the modelled target's units;
        # both scalers (z-score, min-max) are increasing, so the rows keep their order
        ps = [(1 - interval) / 2, 1 - (1 - interval) / 2, *([0.5] if log else [])]
        ends = g.op("Add", g.op("Mul", _quantiles(g, f, noise, ps), a_), c_)
        if log:  # the target's logarithm: log-normal components, as CompactModel.predict
            m = g.op("Add", g.op("Mul", f, a_), c_)  # [D, N], the logarithm's units
            s2 = float(a[0]) ** 2 * noise[:, None]  # [D, 1]
            mean = g.op("ReduceMean", g.op("Exp", g.op("Add", m, g.const(s2 / 2))), axes=[0], keepdims=0,
                        out="mean")
            second = g.op("ReduceMean", g.op("Exp", g.op("Add", g.op("Mul", m, g.const(2.0)), g.const(2 * s2))),
                          axes=[0], keepdims=0)
            g.op("Sqrt", g.op("Relu", g.op("Sub", second, g.op("Mul", mean, mean))), out="sd")
            ends, per_draw_units = g.op("Exp", ends), g.op("Exp", m)
            g.op("Squeeze", g.op("Slice", ends, g.const([2], np.int64), g.const([3], np.int64)),
                 g.const([0], np.int64), out="median")
        else:
            g.op("Add", g.op("Mul", mean, a_), c_, out="mean")
            g.op("Mul", g.op("Sqrt", var), g.const(abs(a[0])), out="sd")
            per_draw_units = g.op("Add", g.op("Mul", f, a_), c_)
        g.op("Squeeze", g.op("Slice", ends, g.const([0], np.int64), g.const([1], np.int64)), g.const([0], np.int64),
             out="lower")
        g.op("Squeeze", g.op("Slice", ends, g.const([1], np.int64), g.const([2], np.int64)), g.const([0], np.int64),
             out="upper")
        names = ("median", "mean", "sd", "lower", "upper") if log else ("mean", "sd", "lower", "upper")
        outputs += [helper.make_tensor_value_info(k, TensorProto.FLOAT, ["N"]) for k in names]
        per_draw, width = g.op("Unsqueeze", per_draw_units, g.const([2], np.int64)), 1
    if include_draws:
        g.op("Identity", per_draw, out="draws")
        outputs.append(helper.make_tensor_value_info("draws", TensorProto.FLOAT, [len(pick), "N", width]))
    graph = helper.make_graph(
        g.nodes, "bayesprune_posterior_predictive",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", n_features])], outputs, g.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="bayesprune", producer_version=__version__)
    proto.ir_version = 8  # the IR of opset 17, read by every ONNX Runtime since 1.13
    h = model.header
    meta = {
        "bayesprune_version": __version__, "dataset": str(h.get("dataset")), "task": model.task,
        "architecture": json.dumps(h["architecture"]), "full_architecture": json.dumps(h.get("full_architecture")),
        "layout": h["layout"], "share_removed": f"{1 - h['n_params_kept'] / h['n_params_full']:.6g}",
        "n_params_kept": str(h["n_params_kept"]), "n_params_full": str(h["n_params_full"]),
        "features": json.dumps(model.feature_names), "n_draws": str(len(pick)), "opset": str(OPSET),
        "interval": f"{interval:g}",
    }
    if model.class_names is not None:
        meta["classes"] = json.dumps(model.class_names)
    if model.categories:  # X holds one 0/1 column per category of these text columns
        meta["categories"] = json.dumps(model.categories)
    if model.fills:  # X holds these columns with their missing cells filled, each followed by its 0/1 flag
        meta["fills"] = json.dumps(model.fills)
    if "x_range" in h:  # the graph clips each column of X to the clip range: in X's own units
        a, c = scaler_affine(h["x_scaler"], len(model.feature_names))
        ends = [(np.asarray(h["x_range"][k]) - c) / a for k in ("low", "high")]
        meta["input_range"] = json.dumps({"low": np.minimum(*ends).tolist(), "high": np.maximum(*ends).tolist()})
    helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model, path, *, draws: int | None = None, include_draws: bool = False, interval: float = 0.9
                ) -> Path:
    """Write a compact model (a :class:`~bayesprune.io.compact.CompactModel` or the path of a ``.bpz``) as an
    ONNX file at ``path`` (atomically); returns the path."""
    try:
        import onnx
    except ImportError:
        raise OptionError("ONNX export needs the 'onnx' package: pip install 'bayesprune[onnx]'") from None
    if not isinstance(model, CompactModel):
        model = load_model(model)
    proto = onnx_model(model, draws=draws, include_draws=include_draws, interval=interval)
    path = Path(path)
    with atomic_path(path) as tmp:
        onnx.save_model(proto, str(tmp))
    return path
