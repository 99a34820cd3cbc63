"""How each labelled corpus labels the lines under a section heading.

LABELS.md calls a heading such as "Related stories" or "Meistgelesene
Artikel" chrome and the article titles listed under it teasers. This counts,
per corpus, the labels of every line whose whole text is one of the shipped
section cues (``lineclf/resources/cues/section.txt``, a trailing colon
allowed) and of the next FOLLOWING non-blank lines after it, so that one can
see whether a corpus follows that rule before reading its teaser scores:

    .venv/bin/python scripts/label_audit.py            # gn1 and de-news
    .venv/bin/python scripts/label_audit.py --following 3 gn1

Prints one table row per corpus (and --json FILE writes the counts).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from lineclf.errors import LineclfError
from lineclf.features import load_cues
from lineclf.io import atomic_writer, read_labelled_corpus
from lineclf.labels import LABELS

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_CORPORA = ("gn1", "de-news")
#: Lines after a heading that count as "under" it (a list of a few titles).
DEFAULT_FOLLOWING = 5


def audit(documents, following: int = DEFAULT_FOLLOWING) -> dict:
    """Label counts of the section headings and of the lines under them."""
    cues = set(load_cues("section"))
    headings: Counter = Counter()
    under: Counter = Counter()
    pages = 0
    for doc in documents:
        found = False
        for i, unit in enumerate(doc.units):
            if unit.strip().rstrip(":").strip().casefold() not in cues:
                continue
            found = True
            headings[doc.labels[i]] += 1
            under.update(doc.labels[i + 1 : i + 1 + following])
        pages += found
    return {
        "pages": len(documents),
        "pages_with_heading": pages,
        "headings": {label: headings[label] for label in LABELS},
        "under": {label: under[label] for label in LABELS},
    }


def markdown(results: dict, following: int) -> str:
    lines = [
        f"| corpus | pages with a heading | headings: chrome / teaser | next {following} lines: "
        + " / ".join(LABELS)
        + " | teaser share of the next lines |",
        "|---|---|---|---|---|",
    ]
    for name, r in results.items():
        total = sum(r["under"].values())
        share = r["under"]["teaser"] / total if total else 0.0
        lines.append(
            f"| {name} | {r['pages_with_heading']} of {r['pages']} | {r['headings']['chrome']} / {r['headings']['teaser']} | "
            + " / ".join(str(r["under"][label]) for label in LABELS)
            + f" | {share:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", nargs="*", default=list(DEFAULT_CORPORA), help="corpus folders under --corpus")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of the labelled corpora")
    parser.add_argument("--following", type=int, default=DEFAULT_FOLLOWING, help="lines after a heading to count")
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    args = parser.parse_args(argv)
    if args.following < 1:
        parser.error("--following must be at least 1")
    results = {}
    try:
        for name in args.corpora:
            folder = args.corpus / name
            if not folder.is_dir():
                raise LineclfError(f"{folder}: no such corpus folder")
            results[name] = audit(read_labelled_corpus([folder]), args.following)
    except LineclfError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(markdown(results, args.following))
    if args.json:
        with atomic_writer(args.json) as out:
            out.write((json.dumps({"following": args.following, "corpora": results}, indent=2) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
