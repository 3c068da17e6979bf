"""The one exception type for user errors: the CLI prints it as one line and exits 2."""


class GankitError(Exception):
    """Bad input from the user (config, data file, checkpoint, CLI argument)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (or its type name): for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
