"""The one exception type for user errors: the CLI prints it as one line and exits 2."""


class GankitError(Exception):
    """Bad input from the user (config, data file, checkpoint, CLI argument)."""
