"""Experiments built on trained runs (probes, reports); each module is used by a thin CLI command."""
