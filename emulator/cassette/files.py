"""The file primitives every cassette writer stands on: a lock that leaves nothing behind, and a
replace that readers never see half done.

Writers serialise on ``flock`` of ``.NAME.lock`` rather than the cassette, whose inode changes with
every replace. The holder removes the lock file as it lets go, so nothing is left behind; a writer
that then finds it has locked a file no longer at that path starts again, so the removal never
lets two writers in at once. A whole write replaces the file in one ``os.replace`` of a synced
temporary file, so a reader sees the old cassette or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

MAX_BYTES = 64 * 1024 * 1024
"""The largest cassette (or journal) read; writes that would pass it are refused."""


def flock(where: Path, create: bool, wait: bool = True) -> int | None:
    """A descriptor of ``where`` holding its flock, once what it locked is still what the path names
    (a holder may remove the file while others wait on it); None if absent, or busy and not ``wait``."""
    while True:
        try:
            fd = os.open(where, (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY) | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if stamp(where, fd) is not None:
            return fd
        os.close(fd)


def stamp(path: Path, fd: int | None = None) -> tuple[int, int, int] | None:
    """The file at ``path`` as (inode, size, mtime): a replaced file has another. With ``fd``, None
    unless that descriptor is the file the path names."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    if fd is not None and (os.fstat(fd).st_dev, os.fstat(fd).st_ino) != (stat.st_dev, stat.st_ino):
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@contextlib.contextmanager
def locked(path: Path, required: bool = True) -> Iterator[None]:
    """Exclusive across processes and threads alike, since each holder opens its own descriptor.
    Not ``required`` (readers): when the lock cannot be had (a read-only folder), go on without."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    try:
        if required:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = flock(lock, create=True)
    except OSError:
        if required:
            raise
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(lock)  # while still holding it: see the module's notes
            os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replaces ``path`` with ``text`` in one step. Call under :func:`locked`: every writer of a
    temporary file holds the lock, so one left by a writer killed before its rename is removed here."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_dir(path.parent)  # make the rename itself durable
