"""Files read and written safely: a regular file of bounded size (never a link followed to a
device), and a write that a reader sees whole or not at all. No format of their own."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotARegularFileError(OSError):
    """A path that is a link, a device, a folder: nothing a cache file can be."""


def read_regular_file(path: Path, max_bytes: int) -> str:
    """The UTF-8 text of ``path``, which must be a regular file of at most ``max_bytes``.

    A symbolic link is refused rather than followed (``O_NOFOLLOW``): a committed link to
    ``/dev/zero`` would otherwise be read until memory runs out.

    Raises:
        OSError: the file cannot be opened, or is not a regular file of that size.
        UnicodeDecodeError: it is not UTF-8.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        handle = os.open(path, flags)
    except OSError as error:
        if path.is_symlink():
            raise NotARegularFileError("it is a symbolic link, which is not followed") from None
        raise error from None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFileError("it is not a regular file")
        if info.st_size > max_bytes:
            raise NotARegularFileError(f"it is larger than {max_bytes // 2**20} MiB")
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we read it
        raise NotARegularFileError(f"it is larger than {max_bytes // 2**20} MiB")
    return data.decode("utf-8")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new, never half.

    The temporary file lives in the same folder, because ``os.replace`` is atomic only within
    one file system.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own rather than mkstemp's, whose files are private (0600): cache files are
    # shared and committed, so they get the usual permissions that the umask allows.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
