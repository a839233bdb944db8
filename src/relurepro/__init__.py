"""relurepro: reproduce the figures and claims of six papers on ReLU network theory."""

__version__ = "0.1.0"
