"""gankit: train, sample, evaluate and compare the GANs of five papers."""

__version__ = "0.1.0"
