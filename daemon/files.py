"""Crash-safe file primitives: atomic replacement and setting a corrupt file aside."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new content.

    Write to a temporary file in the same folder, fsync it, rename it over ``path``, fsync the
    folder. Raises OSError (for example ENOSPC) with ``path`` unchanged.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def set_aside(path: Path, reason: str) -> Path:
    """Move a file that cannot be read out of the way, keeping it for a person to look at."""
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, target)
    fsync_dir(path.parent)
    log.error(
        "state file %s is unreadable (%s); moved aside to %s and starting without it",
        path,
        reason,
        target,
        extra={"event": "state_file_corrupt", "path": str(path), "moved_to": str(target)},
    )
    return target
