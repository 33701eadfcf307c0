"""TLS material named by the ``tls`` option or found in ``certs.d`` folders, checked as files
before OpenSSL reads them.

Apart from :mod:`.tls`, which makes the TLS contexts (and imports ``ssl``); the settings that
name the files are plain values in :mod:`mkdocs_taghistory.settings`.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.files import check_regular_file


class TlsSetupError(TagHistoryError):
    """TLS material that cannot be used: a missing or unreadable file, a key that does not fit."""


# Far above any real bundle (the system's is about 220 KB) or key.
_MAX_TLS_FILE_BYTES = 8 * 1024 * 1024


def checked_tls_file(path: Path, role: str) -> str:
    """``path``, once it is known to be a regular file of bounded size that can be read:
    OpenSSL would wait for ever on a FIFO, and read a huge file whole.

    Raises:
        TlsSetupError: naming the file, its role ("a CA certificate") and what is wrong.
    """
    try:
        check_regular_file(path, _MAX_TLS_FILE_BYTES)
    except OSError as error:
        raise TlsSetupError(f"cannot use {path} as {role}: {error.strerror or error}") from None
    return str(path)
