"""Data in and out: SpikeData, binning like Elephant, Neo conversion, files, bundled recordings."""

from ._binning import SpikesOutsideWindowWarning
from .conversion import NeoInput, from_neo, read_block, to_neo, write_block
from .datasets import RETINA_CITATION, load_retina
from .spikedata import SpikeData

__all__ = [
    "RETINA_CITATION",
    "NeoInput",
    "SpikeData",
    "SpikesOutsideWindowWarning",
    "from_neo",
    "load_retina",
    "read_block",
    "to_neo",
    "write_block",
]
