"""Labelling dumps: from input paths to formatted output, one page at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import OutputError, UsageError
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
from .model import load_model, predict_documents

logger = logging.getLogger(__name__)

FORMATS = ("tsv", "jsonl", "text")


def plan_outputs(
    inputs: Sequence[str | Path], out_dir: Path, suffix: str, overwrite: bool = False
) -> dict[str, Path]:
    """Map each input (as expanded) to ``out_dir/<stem><suffix>``, refusing
    before anything is written when two inputs would share an output, an
    output would replace an input, or (without ``overwrite``) an output exists."""
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
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output folder: {exc.strerror}") from None
    return targets


def format_prediction(doc, labels, proba, output_format: str, keep: Sequence[str] | None) -> str:
    if output_format == "tsv":
        return format_tsv(doc, labels, keep)
    if output_format == "jsonl":
        return format_jsonl(doc, labels, proba, keep)
    if output_format == "text":
        return format_text(doc, labels, keep if keep is not None else ())
    raise UsageError(f"unknown format {output_format!r}; expected one of {', '.join(FORMATS)}")


def predict_paths(
    inputs: Sequence[str | Path],
    model_path: str | Path | None = None,
    output_format: str = "tsv",
    keep: Sequence[str] | None = None,
    targets: dict[str, Path] | None = None,
) -> Iterator[tuple[str, Path | None]]:
    """Label each input dump; yield its formatted output and, when ``targets``
    maps it to a file, that file (already written, atomically)."""
    model = load_model(model_path)
    for path in expand_inputs(inputs, DUMP_SUFFIX):
        doc = read_dump(path)
        (_, labels, proba), = predict_documents(model, [doc])
        text = format_prediction(doc, labels, proba, output_format, keep)
        target = targets.get(str(path)) if targets else None
        if target is not None:
            with atomic_writer(target) as handle:
                handle.write(text.encode("utf-8"))
            logger.info("%s: %d lines labelled -> %s", doc.name, doc.n_units, target)
        yield text, target
