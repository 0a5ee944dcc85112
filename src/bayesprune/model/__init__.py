"""The network: an MLP over a flat parameter vector."""

from bayesprune.model.mlp import (
    MLPSpec,
    flatten,
    forward,
    hidden_unit_groups,
    hidden_unit_index,
    init_params,
    unflatten,
)

__all__ = ["MLPSpec", "flatten", "forward", "hidden_unit_groups", "hidden_unit_index", "init_params", "unflatten"]
