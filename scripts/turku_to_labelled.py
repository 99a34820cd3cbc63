"""Write turku-quality's line-labelled web texts as lineclf labelled files.

    python scripts/turku_to_labelled.py ../shared/corpus/turku-quality OUT_DIR

turku-quality (TurkuNLP; Laippala et al., W-NUT 2022) labels each line of a
web text 1 (main text: body, title, byline) or 0 (noise). lineclf's five
labels are finer, so each binary label becomes the most common lineclf label
of its side: 1 -> body, 0 -> chrome. The texts have no blank lines. One file
per text, ``<language>-<number>.tsv``, in the labelled format; OUT_DIR must
lie outside the repository (the corpus is research data, never committed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LANGUAGES = ("de", "en", "es", "fi")
# the most frequent lineclf label of each side of turku's binary split
LABEL_OF = {"1": "body", "0": "chrome"}


def convert(corpus: Path, out_dir: Path) -> int:
    """Write one labelled file per turku text; return how many were written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for language in LANGUAGES:
        records = json.loads((corpus / language / "train.json").read_text("utf-8"))
        for number, record in enumerate(records):
            rows = []
            for text, label in zip(record["text"], record["labels"], strict=True):
                if not text.strip() or "\n" in text or "\r" in text:
                    raise SystemExit(f"{corpus / language / 'train.json'}: text {number}: a blank or multi-line line")
                rows.append(f"{LABEL_OF[str(label)]}\t{text}\n")
            (out_dir / f"{language}-{number:04d}.tsv").write_text("".join(rows), "utf-8")
            written += 1
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(f"wrote {convert(Path(sys.argv[1]), Path(sys.argv[2]))} labelled files to {sys.argv[2]}", file=sys.stderr)
