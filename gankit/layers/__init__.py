"""Reusable network layers (no dependency on models, training or the CLI)."""
