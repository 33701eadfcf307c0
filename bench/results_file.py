"""``bench/RESULTS.md``, where a benchmark run with ``--write`` records its report: each
benchmark owns one section, between two markers, which a later run replaces."""

from __future__ import annotations

import subprocess

from bench.datasets import ROOT

RESULTS_PATH = ROOT / "bench" / "RESULTS.md"


def record_section(name: str, section: str) -> None:
    """Put ``section`` (Markdown, its heading first) into RESULTS.md as benchmark ``name``'s,
    in place of the one an earlier run left, or at the end."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    marked = f"{start}\n{section.strip()}\n{end}\n"
    text = RESULTS_PATH.read_text(encoding="utf-8")
    if start in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + marked + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + marked
    RESULTS_PATH.write_text(text, encoding="utf-8")


def record_head(text: str) -> None:
    """Put ``text`` (``bench.run``'s report, the file's title first) at the top of RESULTS.md,
    in place of the one before, keeping every other benchmark's section."""
    existing = RESULTS_PATH.read_text(encoding="utf-8") if RESULTS_PATH.exists() else ""
    marker = existing.find("<!-- bench.")
    sections = existing[marker:] if marker >= 0 else ""
    RESULTS_PATH.write_text(text.rstrip("\n") + "\n\n" + sections, encoding="utf-8")


def current_commit() -> str:
    """The checkout's commit, short, for a report's "made at" line ("" outside git)."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
