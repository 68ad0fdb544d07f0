"""Files only their owner may read: tokens, keys, state databases.

* :func:`private_dir` makes (or tightens) a directory to mode 0700 and refuses one owned by someone else.
* :func:`write_private` replaces a file atomically: a fresh temp file (``O_EXCL | O_NOFOLLOW``, mode 0600) in
  the same directory, fsynced, then renamed over the target. A symlink planted at the target is replaced,
  never followed, and an existing 0644 file does not keep its mode (the new inode is 0600).
* :func:`create_private` creates a file that must not exist yet (a generated key); :func:`private_file`
  creates or tightens one that a library opens itself (a SQLite database) before it does.

Standard library only; knows nothing of what the files hold.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Final

DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_FLAGS: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class PrivateFileError(OSError):
    """A path that cannot be made private (a symlink where a file must be, another user's directory)."""


def private_dir(path: str | Path) -> Path:
    """``path`` as an existing directory of ours with mode 0700 (created with its parents if missing)."""
    path = Path(path)
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise PrivateFileError(f"{path} is not a directory") from None
    st = path.stat()
    if not stat.S_ISDIR(st.st_mode):
        raise PrivateFileError(f"{path} is not a directory")
    if st.st_uid != os.geteuid():
        raise PrivateFileError(f"{path} belongs to another user (uid {st.st_uid}); choose a directory of your own")
    if stat.S_IMODE(st.st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def write_private(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, mode 0600, atomically (readers see the old or the new file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, _FLAGS, FILE_MODE)
    try:
        _write_all(fd, data)
        os.replace(tmp, path)  # replaces a symlink at ``path`` itself, never what it points to
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def create_private(path: str | Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` (mode 0600) unless something is there already; True if created."""
    path = Path(path)
    try:
        fd = os.open(path, _FLAGS, FILE_MODE)
    except FileExistsError:
        return False
    _write_all(fd, data)
    _fsync_dir(path.parent)
    return True


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty (mode 0600) if missing, or tighten an existing one; refuse a symlink."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except OSError as exc:
        if path.is_symlink():
            raise PrivateFileError(f"{path} is a symlink; refusing to open it as a private file") from None
        raise exc
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def _write_all(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    """Make a rename or create durable (the directory entry, not only the data)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["DIR_MODE", "FILE_MODE", "PrivateFileError", "create_private", "private_dir", "private_file",
           "write_private"]
