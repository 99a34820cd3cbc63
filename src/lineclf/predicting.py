"""Labelling dumps: from input paths to formatted output, one page at a time.

A batch is streamed: each input is read, labelled, formatted and written (or
handed back) before the next one is read, so memory does not grow with the
number of inputs. A single oversized input is labelled in bounded pieces (see
:func:`predict_document`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .document import Document, is_blank
from .errors import DataFormatError, LineclfError, OutputError, UsageError
from .io import (
    DUMP_SUFFIX,
    STDIN_NAME,
    atomic_writer,
    expand_inputs,
    format_jsonl,
    format_text,
    format_tsv,
    read_dump,
)
from .labels import LABELS
from .model import LineClassifier, load_model

logger = logging.getLogger(__name__)

FORMATS = ("tsv", "jsonl", "text")
#: What a batch does with an input it cannot read: stop there, or skip it and go on.
ON_ERROR = ("stop", "skip")

# Limits on what the model sees of one dump at once. The training pages
# (gn1, de-news) have at most 1,281 lines and 7,514 characters in a line, so
# real pages never reach them; they keep a 10 MB line or a million-line file
# from taking minutes and gigabytes (features cost a few kB per line).
#: A longer line is classified from its first this-many characters (its text is still written whole).
MAX_LINE_CHARS = 100_000
#: A longer dump is classified in consecutive pieces of at most this many lines ...
CHUNK_LINES = 10_000
#: ... and at most this many characters (as the model sees them).
CHUNK_CHARS = 2_000_000


def plan_outputs(
    inputs: Sequence[str | Path], out_dir: Path, suffix: str, overwrite: bool = False
) -> dict[str, Path]:
    """Map each input (as expanded) to ``out_dir/<stem><suffix>``, refusing
    before anything is written when two inputs would share an output, an
    output would replace an input, (without ``overwrite``) an output exists,
    or ``out_dir`` cannot be written."""
    paths = expand_inputs(inputs, DUMP_SUFFIX)
    targets: dict[str, Path] = {}
    claimed: dict[Path, str] = {}
    resolved_inputs = {Path(p).resolve() for p in paths if str(p) != "-"}
    for path in paths:
        stem = STDIN_NAME if str(path) == "-" else Path(path).stem
        target = out_dir / f"{stem}{suffix}"
        key = target.resolve()
        if key in claimed:
            raise UsageError(f"{claimed[key]} and {path} would both be written to {target}; label them into separate --out-dir folders")
        if key in resolved_inputs:
            raise UsageError(f"{target}: output would replace an input file; choose another --out-dir")
        if target.exists() and not overwrite:
            raise UsageError(f"{target}: exists; pass --overwrite to replace it, or choose another --out-dir")
        claimed[key] = str(path)
        targets[str(path)] = target
    _check_writable_folder(out_dir)
    return targets


def _check_writable_folder(out_dir: Path) -> None:
    """Create ``out_dir`` and try a file in it, so that an unwritable folder is
    reported before the model is loaded and the first page labelled."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: is a file, not a folder; choose another --out-dir")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output folder: {exc.strerror}") from None
    try:
        with tempfile.TemporaryFile(dir=out_dir, prefix=".lineclf-probe."):
            pass
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write here: {exc.strerror}") from None


def format_prediction(doc, labels, proba, output_format: str, keep: Sequence[str] | None) -> str:
    if output_format == "tsv":
        return format_tsv(doc, labels, keep)
    if output_format == "jsonl":
        return format_jsonl(doc, labels, proba, keep)
    if output_format == "text":
        return format_text(doc, labels, keep if keep is not None else ())
    raise UsageError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- one document, bounded


def predict_document(
    model: LineClassifier,
    doc: Document,
    max_line_chars: int = MAX_LINE_CHARS,
    chunk_lines: int = CHUNK_LINES,
    chunk_chars: int = CHUNK_CHARS,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities (one row per non-blank line) of one document.

    A document within the limits (every real page) is labelled whole, exactly
    as ``model.predict_proba([doc])`` does. A larger one is labelled in
    consecutive pieces of at most ``chunk_lines`` lines and ``chunk_chars``
    characters, cut after a blank line where one is near, with each line
    longer than ``max_line_chars`` seen only up to that length: memory and
    time then stay bounded whatever the input.
    """
    lengths = np.fromiter(map(len, doc.lines), dtype=np.int64, count=len(doc.lines))
    clip = bool(lengths.max(initial=0) > max_line_chars)
    if len(lengths) <= chunk_lines and lengths.sum() <= chunk_chars and not clip:
        (proba,) = model.predict_proba([doc])
    else:
        seen = np.minimum(lengths, max_line_chars) + 1
        parts = [
            model.predict_proba([_model_view(doc, start, end, max_line_chars, clip)])[0]
            for start, end in _chunks(seen, doc, chunk_lines, chunk_chars)
        ]
        proba = np.vstack(parts) if parts else np.zeros((0, len(LABELS)))
    labels = model.classes_[proba.argmax(axis=1)] if len(proba) else np.array([], dtype=str)
    return labels, proba


def _chunks(seen: np.ndarray, doc: Document, chunk_lines: int, chunk_chars: int) -> Iterator[tuple[int, int]]:
    """Consecutive line ranges within the limits (a single line may exceed
    ``chunk_chars``: it is already clipped)."""
    ends = np.cumsum(seen)
    n, start = len(seen), 0
    while start < n:
        before = ends[start - 1] if start else 0
        end = int(np.searchsorted(ends, before + chunk_chars, side="right"))
        end = min(max(end, start + 1), start + chunk_lines, n)
        if end < n:
            # cut after a blank line in the last quarter, so blocks stay together
            for k in range(end - 1, start + (end - start) * 3 // 4, -1):
                if is_blank(doc.lines[k]):
                    end = k + 1
                    break
        yield start, end
        start = end


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    clipped = text[:limit]
    # a non-blank line must stay non-blank, or the line would lose its label
    return clipped if is_blank(text) or not is_blank(clipped) else text.lstrip()[:limit]


def _model_view(doc: Document, start: int, end: int, max_line_chars: int, clip: bool) -> Document:
    lines = doc.lines[start:end]
    return Document(
        name=doc.name,
        lines=tuple(_clip(text, max_line_chars) for text in lines) if clip else lines,
        line_ends=doc.line_ends[start:end],
        site=doc.site,
    )


# --------------------------------------------------------------------------- batches


@dataclass
class Outcome:
    """What became of one input of a batch."""

    #: The input as named in messages (a path, or "stdin").
    name: str
    #: The formatted output (None when the input was skipped).
    text: str | None = None
    #: The file it was written to (None: the caller writes ``text`` itself).
    target: Path | None = None
    #: Bytes that were not UTF-8 and became U+FFFD (``encoding_errors="replace"``).
    replaced_bytes: int = 0
    first_replaced_byte: int | None = None
    #: Why the input was skipped (``on_error="skip"``), else None.
    error: LineclfError | None = None


def predict_files(
    inputs: Sequence[str | Path],
    model: str | Path | LineClassifier | None = None,
    output_format: str = "tsv",
    keep: Sequence[str] | None = None,
    targets: dict[str, Path] | None = None,
    encoding_errors: str = "strict",
    on_error: str = "stop",
) -> Iterator[Outcome]:
    """Label each input dump, one at a time, and yield an :class:`Outcome` for it.

    ``model`` is a model file, a fitted classifier, or None for the shipped
    model. When ``targets`` maps an input to a file, its output is written
    there (atomically) before the outcome is yielded. With ``on_error="stop"``
    a bad input raises DataFormatError; with ``"skip"`` it is yielded as an
    outcome carrying the error, and the batch goes on.
    """
    if on_error not in ON_ERROR:
        raise UsageError(f"unknown on-error mode {on_error!r}; expected one of {', '.join(ON_ERROR)}")
    if output_format not in FORMATS:
        raise UsageError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")
    paths = expand_inputs(inputs, DUMP_SUFFIX)
    classifier = model if isinstance(model, LineClassifier) else load_model(model)
    for path in paths:
        try:
            doc = read_dump(path, encoding_errors)
        except DataFormatError as exc:
            if on_error == "stop":
                raise
            logger.info("skipped %s", exc)
            yield Outcome(name=STDIN_NAME if str(path) == "-" else str(path), error=exc)
            continue
        labels, proba = predict_document(classifier, doc)
        text = format_prediction(doc, labels, proba, output_format, keep)
        target = targets.get(str(path)) if targets else None
        if target is not None:
            with atomic_writer(target) as handle:
                handle.write(text.encode("utf-8"))
            logger.info("%s: %d lines labelled -> %s", doc.name, doc.n_units, target)
        yield Outcome(
            name=doc.name,
            text=text,
            target=target,
            replaced_bytes=doc.meta.get("replaced_bytes", 0),
            first_replaced_byte=doc.meta.get("first_replaced_byte"),
        )


def predict_paths(
    inputs: Sequence[str | Path],
    model_path: str | Path | None = None,
    output_format: str = "tsv",
    keep: Sequence[str] | None = None,
    targets: dict[str, Path] | None = None,
) -> Iterator[tuple[str, Path | None]]:
    """Label each input dump; yield its formatted output and, when ``targets``
    maps it to a file, that file (already written, atomically). Stops at the
    first bad input (see :func:`predict_files` for more control)."""
    for outcome in predict_files(inputs, model_path, output_format, keep, targets):
        yield outcome.text, outcome.target
