"""Atomic file writes: a temporary file in the same folder, fsync, then ``os.replace`` over the target,
so a reader (or an interrupted run) never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..model.errors import InputError

__all__ = ["write_text_atomic", "write_bytes_atomic", "check_writable"]


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Replace ``path`` by ``data`` atomically (parent folders are created); on any failure, even
    KeyboardInterrupt, the old file stays and the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    return write_bytes_atomic(path, text.encode(encoding))


def _first_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_writable(path: str | os.PathLike, parameter: str, *, folder: bool) -> Path:
    """Refuse, before any work, an output that cannot be written: ``path`` is a folder to create or fill
    (``folder``) or a file to create or replace. The deepest existing folder on the way is probed with a
    temporary folder (removed again); InputError names ``parameter``."""
    path = Path(path)
    allowed = ("a writable folder (created if missing)" if folder
               else "a writable file path (its folders are created if missing)")
    if folder and path.exists() and not path.is_dir():
        raise InputError(parameter, f"{str(path)!r} is a file", allowed)
    if not folder and path.is_dir():
        raise InputError(parameter, f"{str(path)!r} is a folder", allowed)
    base = _first_existing((path if folder else path.parent).absolute())
    if not base.is_dir():
        raise InputError(parameter, f"{str(path)!r} lies below {str(base)!r}, which is a file", allowed)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".lv-probe-", dir=base))
        if not folder and path.exists():
            with open(path, "ab"):
                pass
    except OSError as exc:
        raise InputError(parameter, f"{str(path)!r} cannot be written ({exc.strerror or exc})", allowed) from None
    return path
