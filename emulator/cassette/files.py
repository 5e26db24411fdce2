"""The file primitives every cassette writer stands on: a lock that leaves nothing beside the cassette,
and a replace that readers never see half done.

Writers serialise on a lock file of their own under
``tempfile.gettempdir()/gemini-emulator-locks/``, named by the SHA-256 of the cassette's resolved
path, rather than on the cassette, whose inode changes with every replace; nothing is ever created
beside the cassette but the cassette, its journal while recording, and the index file its writers
leave for replay (:func:`index_path`). The lock is filelock's, which is ``flock`` on POSIX and
``msvcrt.locking`` on Windows, so the package imports and serves there too. A whole write replaces
the file in one ``os.replace`` of a synced temporary file, so a reader sees the old cassette or the
new one, never half of one.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import filelock

MAX_BYTES = 64 * 1024 * 1024
"""The largest cassette (or journal) read; writes that would pass it are refused."""

LOCK_DIR_NAME = "gemini-emulator-locks"


INDEX_SUFFIX = ".index"


def index_path(path: Path) -> Path:
    """Where a cassette's index file lives (:mod:`.derived`): beside it, its name and ``.index``."""
    path = Path(path)
    return path.with_name(path.name + INDEX_SUFFIX)


def lock_dir() -> Path:
    return Path(tempfile.gettempdir()) / LOCK_DIR_NAME


def lock_path(path: Path) -> Path:
    """Where the lock of ``path`` lives: one file per resolved path, away from the user's folders."""
    key = hashlib.sha256(os.fsencode(Path(path).resolve())).hexdigest()
    return lock_dir() / f"{key}.lock"


def _lock(path: Path) -> filelock.BaseFileLock:
    folder = lock_dir()
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o1777)  # shared like the temporary folder itself: any user's recorder locks here
    # a fresh object per holder: each has its own descriptor, so threads exclude each other as processes do
    return filelock.FileLock(lock_path(path), mode=0o666, thread_local=False)


def claim(where: Path, wait: bool = True) -> filelock.BaseFileLock | None:
    """The held lock of ``where`` while that file exists; None if it is absent, or busy and not ``wait``.
    Release it with ``.release()``."""
    if not os.path.lexists(where):
        return None
    lock = _lock(where)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except filelock.Timeout:
        return None
    if not os.path.lexists(where):  # gone while we waited: nothing left to claim
        lock.release()
        return None
    return lock


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
    Not ``required`` (readers): when the lock cannot be had (an unwritable temporary folder), go on without."""
    path = Path(path)
    lock: filelock.BaseFileLock | None = None
    try:
        if required:
            path.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock(path)
        lock.acquire()
    except OSError:
        if required:
            raise
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


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
