"""Files read and written safely: a regular file of bounded size (never a link followed to a
device), and a write that a reader sees whole or not at all. No format of their own."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotARegularFileError(OSError):
    """A path that is a link, a device, a FIFO, a folder or too large: nothing a cache file, a
    certificate or a configuration can be."""


def read_regular_file(path: Path, max_bytes: int, *, follow_links: bool = False) -> str:
    """The UTF-8 text of ``path``, which must be a regular file of at most ``max_bytes``.

    A symbolic link is refused rather than followed (``O_NOFOLLOW``) unless ``follow_links``:
    a committed link to ``/dev/zero`` would otherwise be read until memory runs out. Followed
    or not, what is opened must be a regular file: a FIFO or a device is refused at once
    (opened without blocking), never waited on.

    Raises:
        OSError: the file cannot be opened, or is not a regular file of that size.
        UnicodeDecodeError: it is not UTF-8.
    """
    with _open_regular(path, max_bytes, follow_links=follow_links) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we read it
        raise NotARegularFileError(f"it is larger than {_size(max_bytes)}")
    return data.decode("utf-8")


def check_regular_file(path: Path, max_bytes: int) -> None:
    """Check that ``path`` (a link is followed) is a regular file of at most ``max_bytes``
    that can be read, before a library that would block on a FIFO reads it.

    Raises:
        OSError: it cannot be opened, or is not a regular file of that size.
    """
    with _open_regular(path, max_bytes, follow_links=True):
        pass


def _open_regular(path: Path, max_bytes: int, *, follow_links: bool) -> BinaryIO:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(path, flags)
    except OSError as error:
        if not follow_links and path.is_symlink():
            raise NotARegularFileError("it is a symbolic link, which is not followed") from None
        raise error from None
    info = os.fstat(handle)
    problem = (
        "it is not a regular file"
        if not stat.S_ISREG(info.st_mode)
        else f"it is larger than {_size(max_bytes)}"
        if info.st_size > max_bytes
        else None
    )
    if problem is not None:
        os.close(handle)
        raise NotARegularFileError(problem)
    return os.fdopen(handle, "rb")


def _size(max_bytes: int) -> str:
    return f"{max_bytes // 2**20} MiB" if max_bytes >= 2**20 else f"{max_bytes // 1024} KiB"


def write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new, never half.

    The temporary file lives in the same folder, because ``os.replace`` is atomic only within
    one file system. ``durable`` also flushes it to the disk before it takes the name, so that
    a crash leaves the old file or the new rather than an empty one: what a cache file needs,
    and a file of a built site (which the next build writes again) does not.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own rather than mkstemp's, whose files are private (0600): cache files are
    # shared and committed, so they get the usual permissions that the umask allows.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
