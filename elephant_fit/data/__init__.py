"""Data in and out: SpikeData, binning like Elephant, Neo conversion, files, bundled recordings."""

from ._binning import SpikesOutsideWindowWarning
from .datasets import (
    KRAMER_CITATION,
    RETINA_CITATION,
    load_place_cell,
    load_reaching_unit,
    load_retina,
)
from .files import read_block, write_block
from .neo_in import NeoInput, from_neo
from .neo_out import to_neo
from .spikedata import SpikeData

__all__ = [
    "KRAMER_CITATION",
    "RETINA_CITATION",
    "NeoInput",
    "SpikeData",
    "SpikesOutsideWindowWarning",
    "from_neo",
    "load_place_cell",
    "load_reaching_unit",
    "load_retina",
    "read_block",
    "to_neo",
    "write_block",
]
