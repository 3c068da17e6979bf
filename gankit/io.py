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


def write_npz_chunks(fh: BinaryIO, n: int, chunks, *, check: Callable[[dict], None] | None = None,
                     spill_dir: str | Path | None = None) -> dict:
    """Write ``n`` rows that arrive in ``chunks`` (dicts of numpy arrays, the same keys each time,
    leading dimensions adding up to ``n``) to the binary file ``fh`` as the ``.npz`` archive
    ``np.savez`` writes (one uncompressed ``KEY.npy`` member per key, ZIP64), holding one chunk in
    memory at a time. The first key streams straight into the archive; the others (small: labels,
    flags) wait in anonymous temporary files in ``spill_dir`` (the output's folder) and follow it. ``check(first_chunk)``
    runs once before anything is written (e.g. whether the disk holds ``n`` such rows). Returns
    ``{key: (dtype, shape)}`` of what was written."""
    import shutil
    import zipfile

    import numpy as np
    from numpy.lib import format as npy

    it = iter(chunks)
    first = next(it, None)
    if first is None or not first:
        raise ValueError("write_npz_chunks needs at least one chunk with at least one array")
    if check is not None:
        check(first)
    keys = list(first)
    rows_shape = {k: (np.asarray(first[k]).dtype, np.asarray(first[k]).shape[1:]) for k in keys}
    spill = {k: tempfile.TemporaryFile(dir=spill_dir, prefix=".npz-spill.", suffix=TEMP_SUFFIX) for k in keys[1:]}

    def header(member, key) -> None:
        dtype, shape = rows_shape[key]
        npy.write_array_header_1_0(member, {"descr": npy.dtype_to_descr(dtype), "fortran_order": False,
                                            "shape": (n, *shape)})

    def as_bytes(key, arr) -> memoryview:
        arr = np.ascontiguousarray(arr)
        if (arr.dtype, arr.shape[1:]) != rows_shape[key]:
            raise ValueError(f"chunk array {key!r} is {arr.dtype}{list(arr.shape)}, not like the first chunk's")
        return memoryview(arr).cast("B")

    try:
        rows = 0
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            with zf.open(f"{keys[0]}.npy", "w", force_zip64=True) as member:
                header(member, keys[0])
                for chunk in _chain_first(first, it):
                    if list(chunk) != keys:
                        raise ValueError(f"chunk keys {list(chunk)} differ from the first chunk's {keys}")
                    rows += len(chunk[keys[0]])
                    if rows > n or any(len(chunk[k]) != len(chunk[keys[0]]) for k in keys):
                        raise ValueError(f"the chunks hold more than {n} rows or keys of different lengths")
                    member.write(as_bytes(keys[0], chunk[keys[0]]))
                    for k in keys[1:]:
                        spill[k].write(as_bytes(k, chunk[k]))
                    del chunk
            if rows != n:
                raise ValueError(f"the chunks hold {rows} rows, not {n}")
            for k in keys[1:]:
                with zf.open(f"{k}.npy", "w", force_zip64=True) as member:
                    header(member, k)
                    spill[k].seek(0)
                    shutil.copyfileobj(spill[k], member, 1 << 20)
    finally:
        for f in spill.values():
            f.close()
    return rows_shape


def _chain_first(first, rest):
    yield first
    yield from rest
