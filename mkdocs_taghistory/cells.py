"""The values of a table's cells, typed for every writer (:class:`Piece`), and the cells of
the columns that show a digest's platforms, what is attached to it and its source. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from urllib.parse import quote, urlsplit

from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT
from mkdocs_taghistory.facts import UNKNOWN_REFERRERS, without_credentials
from mkdocs_taghistory.history import ATTACHED_KINDS, DigestGroup
from mkdocs_taghistory.records import Record

SHORT_DIGEST_HEX = 12
"""Hex digits a short digest keeps, as ``docker images`` shows them."""


class Piece(Record):
    """A part of a cell or a sentence, typed so each writer can write it its way.

    Attributes:
        kind: ``code`` (a tag, a digest, a reference), ``time`` (a date, with ``moment``),
            ``text``, ``link`` (text that links to ``href``), ``missing`` (a value the
            registry did not give; ``text`` says so), or ``copy`` (a button that copies
            ``text``; HTML only).
        text: what is shown.
        moment: the date a ``time`` piece shows.
        full: the whole value, where ``text`` shows it shortened; for a ``copy`` piece, what
            its button is called ("Copy digest sha256:5a153da19d77"); for a ``text`` piece
            that words a value for readers ("signed"), the value ("signature").
        href: where a ``link`` piece leads: always an ``http(s)`` address.
    """

    kind: str
    text: str
    moment: datetime | None = None
    full: str | None = None
    href: str | None = None

    @property
    def value(self) -> str:
        """The whole value, shortened or not."""
        return self.full or self.text


Run = tuple[Piece, ...]
"""Inline content written as it stands: a heading, a sentence, the note under a table."""
Cell = tuple[Piece, ...]
"""The values of one cell (tags, a date, a digest and its copy button), set apart by spaces."""


class CellStyle(Record):
    """How a table writes its cells.

    Attributes:
        image: the full image reference (the pull column's).
        date_format: strftime codes plus ``%O``.
        zone: the time zone dates are written in.
        with_year: the default format adds the year to every date (see :func:`.needs_year`).
        short_digests: digests shortened, the full value in the title and the copy button.
        locale: the language dates are written in (None: English, "March 18th").
    """

    image: str
    date_format: str = DEFAULT_DATE_FORMAT
    zone: tzinfo = UTC
    with_year: bool = False
    short_digests: bool = False
    locale: str | None = None


def digest_pieces(value: str, digest: str, what: str, *, short: bool) -> list[Piece]:
    """A digest (or a pull reference), shortened if asked, and its copy button, named for
    what it copies (``what`` and the digest's first hex digits, as ``docker images`` shows
    them: a name a screen reader can say and a person can match with the cell)."""
    short_digest = digest[: len("sha256:") + SHORT_DIGEST_HEX]
    button = Piece("copy", value, full=f"Copy {what} {short_digest}")
    if short:
        shown = value[: len(value) - len(digest)] + short_digest
        return [Piece("code", shown + "\u2026", full=value), button]
    return [Piece("code", value), button]


def has_entries(cell: Sequence[Piece]) -> bool:
    """True for a cell laid out as entries, a line each (see :func:`entries`): one with
    several copyable values, or with a name before its one value (a single platform)."""
    copies = sum(piece.kind == "copy" for piece in cell)
    return copies >= 2 or (copies == 1 and len(cell) > 2)


def entries(cell: Sequence[Piece]) -> list[list[Piece]]:
    """A cell's values as the entries a reader copies one by one: a cell whose copyable
    values are named (a platform before its digest) is split after each copy button, so each
    entry is a line of its own, one platform as several; any other cell is one entry."""
    if not has_entries(cell):
        return [list(cell)]
    split: list[list[Piece]] = [[]]
    for piece in cell:
        split[-1].append(piece)
        if piece.kind == "copy":
            split.append([])
    return [entry for entry in split if entry]


def platforms(group: DigestGroup, style: CellStyle) -> list[Piece]:
    """Each platform of the digest with its own image's digest, each copyable."""
    pieces: list[Piece] = []
    for platform, digest in group.facts.platform_digests or ():
        pieces.append(Piece("code", platform))
        pieces += digest_pieces(digest, digest, f"{platform} digest", short=style.short_digests)
    return pieces or [Piece("missing", "unknown")]


_ATTACHED_WORDS = {"signature": "signed", "attestation": "attested", "sbom": "SBOM"}
_FORGE_TREES = {
    "github.com": "{repository}/tree/{revision}",
    "gitlab.com": "{repository}/-/tree/{revision}",
}


# Where a forge's repository address ends: GitHub's after OWNER/REPO, GitLab's (whose groups
# nest) before "/-/", so a source that names a folder (".../tree/main/sub") links its repo.
def _github_repository(path: str) -> str:
    return "/".join(path.split("/")[:2])


def _gitlab_repository(path: str) -> str:
    return path.split("/-/", maxsplit=1)[0]


_FORGE_REPOSITORY: dict[str, Callable[[str], str]] = {
    "github.com": _github_repository,
    "gitlab.com": _gitlab_repository,
}
_COMMIT_HEX = frozenset("0123456789abcdef")


def signatures(group: DigestGroup, style: CellStyle) -> list[Piece]:
    """What is attached to the digest, by cosign's tags and the referrers API, in words a
    reader needs no colour to read ("signed · SBOM")."""
    referrers = group.facts.referrers
    found = {*group.attached, *(referrers or ())}
    kinds = [kind for kind in ATTACHED_KINDS if kind in found]
    if not kinds:
        # The registry's referrers not asked or not readable: "none" would be a guess.
        unknown = referrers is None or referrers == UNKNOWN_REFERRERS
        return [Piece("missing", "unknown" if unknown else "none")]
    # The dot stays with the word after it: a narrow cell wraps before it, never after.
    return [
        Piece("text", ("" if at == 0 else "\u00b7\u00a0") + _ATTACHED_WORDS[kind], full=kind)
        for at, kind in enumerate(kinds)
    ]


def is_web_address(address: str) -> bool:
    """True for an ``http(s)`` address with a host and no space: the only kind ever made a
    link, so no ``javascript:`` or ``data:`` address from a registry reaches a page's links."""
    if any(character.isspace() or ord(character) < 32 for character in address):
        return False
    parts = urlsplit(address)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def source(group: DigestGroup, style: CellStyle) -> list[Piece]:
    """The source the digest was built from and its revision: a link to the repository at
    that revision on a forge whose addresses are known (GitHub, GitLab), else text."""
    address = without_credentials(group.facts.source or "")
    revision = group.facts.revision or ""
    if not address and not revision:
        return [Piece("missing", "unknown")]
    pieces = [_source_piece(address, revision) if address else Piece("missing", "unknown")]
    if revision:
        commit = len(revision) == 40 and set(revision) <= _COMMIT_HEX
        shown = revision[:SHORT_DIGEST_HEX] if commit else revision
        pieces.append(Piece("code", shown, full=revision if commit else None))
    return pieces


def _source_piece(address: str, revision: str) -> Piece:
    parts = urlsplit(address)
    host = (parts.hostname or "").lower()
    tree = _FORGE_TREES.get(host)
    path = parts.path.strip("/")
    repository = _FORGE_REPOSITORY[host](path).removesuffix(".git") if tree else path
    if tree is None or not is_web_address(address) or repository.count("/") < 1:
        return Piece("text", address, full=address)
    base = f"https://{parts.hostname}/{repository}"
    href = tree.format(repository=base, revision=quote(revision, safe="")) if revision else base
    return Piece("link", f"{parts.hostname}/{repository}", full=address, href=href)
