"""Write turku-quality's texts as partially labelled files for `lineclf train`.

turku-quality (../shared/corpus/turku-quality/<language>/train.json) labels
each line of a web text main text (1) or noise (0). This writes each text as
one labelled file, ``<language>-<n>.tsv`` in OUT_DIR, with the partial labels
``content`` (body, headline or caption) and ``noise`` (teaser or chrome),
which `lineclf train` learns from beside fully labelled pages
(see ``LineClassifier.fit``):

    .venv/bin/python scripts/main_text_to_tsv.py /tmp/turku-tsv
    lineclf train ../shared/corpus/gn1 /tmp/turku-tsv --model m.joblib

The corpus is research data: write the files outside the repository.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ is not a package

import benchmark  # noqa: E402  (the turku-quality reader)

from lineclf.errors import LineclfError  # noqa: E402
from lineclf.io import atomic_writer, format_tsv  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
CONTENT, NOISE = "content", "noise"


def write_turku(corpus: Path, out_dir: Path, languages: Sequence[str]) -> int:
    """Write every text of the languages' train.json; the number of files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for language in languages:
        path = corpus / benchmark.TURKU_DIR / language / benchmark.TURKU_FILE
        for number, text in enumerate(benchmark.load_turku(path, None)):
            labels = [CONTENT if kept else NOISE for kept in text.content]
            with atomic_writer(out_dir / f"{language}-{number:04d}.tsv") as handle:
                handle.write(format_tsv(text.document, labels).encode("utf-8"))
            written += 1
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the labelled files (outside the repository)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the folder holding turku-quality/")
    parser.add_argument("--languages", default=",".join(benchmark.TURKU_LANGUAGES), help="comma-separated (default: all)")
    args = parser.parse_args(argv)
    if args.out_dir.resolve().is_relative_to(REPO_ROOT):
        print(f"main_text_to_tsv: error: {args.out_dir}: inside the repository; research data stays outside it", file=sys.stderr)
        return 2
    try:
        count = write_turku(args.corpus, args.out_dir, [x for x in args.languages.split(",") if x])
    except (LineclfError, benchmark.BenchmarkError, OSError) as exc:
        print(f"main_text_to_tsv: error: {exc}", file=sys.stderr)
        return 1
    print(f"main_text_to_tsv: wrote {count} files to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
