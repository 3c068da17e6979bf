"""Every file gankit writes goes through :func:`atomic_write`; logs grow with :func:`append_line`.

A crash, a kill or a full disk never leaves half a file under the final name, nor a
temporary file behind: the bytes go to a uniquely named temporary file in the same
directory (two writers never share it), are flushed and fsynced, and ``os.replace``
puts them in place. An ``OSError`` (ENOSPC, EROFS, EACCES, EFBIG, ...) becomes a
one-line :class:`GankitError` that names the file.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Union

from gankit.errors import GankitError

TEMP_SUFFIX = ".tmp"
Content = Union[bytes, bytearray, memoryview, str, Callable[[BinaryIO], None]]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(path: Path, exc: OSError, what: str = "file") -> GankitError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return GankitError(f"cannot write {what} {path}: {reason}")


def atomic_write(path: str | Path, content: Content, *, what: str = "file") -> Path:
    """Write ``content`` (bytes, text, or a function that writes to a binary file) to ``path``
    atomically. ``what`` names the kind of file in the error message."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open() would not
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise write_error(path, exc, what) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def torch_bytes(obj) -> bytes:
    """``torch.save`` of ``obj`` in memory, so that a write error is an OSError of ours
    (torch turns one inside its zip writer into a RuntimeError)."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getbuffer()


def append_line(path: str | Path, line: str, *, what: str = "log") -> None:
    """Append one ``\\n``-terminated line in a single write (no CRLF, no half-merged lines)."""
    path = Path(path)
    if "\n" in line.rstrip("\n") or "\r" in line:
        raise ValueError("append_line takes one line")
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
        finally:
            os.close(fd)
    except OSError as exc:
        raise write_error(path, exc, what) from None


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``directory`` (call it only while no
    other process writes there, e.g. under the run-directory lock)."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for p in directory.iterdir():
        mine = p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)
        legacy = p.name.endswith(".pt.tmp")  # the fixed temp name of gankit before 0.2
        if (mine or legacy) and p.is_file():
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed
