"""Built-in scaling laws. Importing this package registers them."""

from .bnsl import build_bnsl
from .chinchilla import chinchilla
from .chinchilla_variants import chinchilla_shared_exponent, precision
from .data_constrained import data_constrained
from .densing import densing
from .emergence import build_downstream, build_emergence
from .encoder_decoder import encoder_decoder
from .kaplan import kaplan
from .loglinear import loglinear
from .moe import build_routed, moe_granularity
from .overtraining import overtraining
from .power_law import build_power_law, build_pure_power_law
from .saturating import saturating_compute
from .train_test import train_test
from .transfer import transfer

__all__ = [
    "build_bnsl",
    "build_downstream",
    "build_emergence",
    "build_power_law",
    "build_pure_power_law",
    "build_routed",
    "chinchilla",
    "chinchilla_shared_exponent",
    "data_constrained",
    "densing",
    "encoder_decoder",
    "kaplan",
    "loglinear",
    "moe_granularity",
    "overtraining",
    "precision",
    "saturating_compute",
    "train_test",
    "transfer",
]
