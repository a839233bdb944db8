"""Network forwards of batched ensembles (leading member dim ``M``): init, activations, the MLP, prediction."""

from .activations import ACTIVATIONS, activation, leaky, piecewise_slope, shared_slope
from .members import generators, init_layers, member_tensor, normal, per_member
from .mlp import mlp, piecewise_backward, piecewise_forward, stacked
from .predict import predict

__all__ = [
    "ACTIVATIONS",
    "activation",
    "generators",
    "init_layers",
    "leaky",
    "member_tensor",
    "mlp",
    "normal",
    "per_member",
    "piecewise_backward",
    "piecewise_forward",
    "piecewise_slope",
    "predict",
    "shared_slope",
    "stacked",
]
