"""Did-you-mean: the nearest of the names a mistake could have meant. No I/O.

``difflib`` is imported only when a mistake asks for a suggestion: a build without one never
pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable


def nearest(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word``, if one is close enough; None otherwise."""
    import difflib  # noqa: PLC0415 (only a mistake needs it)

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str:
    """``"; did you mean 'NAME'?"`` for the candidate closest to ``word``, or ``""``."""
    close = nearest(word, candidates, cutoff=cutoff)
    return f"; did you mean {close!r}?" if close is not None else ""
