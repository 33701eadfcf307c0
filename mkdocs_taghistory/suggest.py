"""Did-you-mean: the nearest of the names a mistake could have meant. No I/O.

``difflib`` is imported only when a mistake asks for a suggestion: a build without one never
pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable


def nearest(
    word: str, candidates: Iterable[str], *, cutoff: float = 0.6, count: int = 1
) -> list[str]:
    """Up to ``count`` candidates close enough to ``word``, the closest first."""
    import difflib  # noqa: PLC0415 (only a mistake needs it)

    return difflib.get_close_matches(word, list(candidates), n=count, cutoff=cutoff)


def did_you_mean(
    word: str, candidates: Iterable[str], *, cutoff: float = 0.6, count: int = 1
) -> str:
    """``"; did you mean 'NAME'?"`` (or ``'A', 'B' or 'C'``, up to ``count`` names) for the
    candidates closest to ``word``, or ``""``."""
    close = [repr(name) for name in nearest(word, candidates, cutoff=cutoff, count=count)]
    if not close:
        return ""
    names = close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}"
    return f"; did you mean {names}?"
