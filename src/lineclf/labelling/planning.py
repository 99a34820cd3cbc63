"""Planning a batch's outputs before any work: which file each input is
written to, refusing collisions, overwrites and unwritable folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import OutputError, UsageError
from ..io import Source, detect_source, expand_sources, probe_folder
from ..io.sources import DEFAULT_TEXT_FIELD
from .formats import output_suffix


def detect_sources(inputs: Sequence[str | Path | Source], input_format: str = "auto", text_field: str = DEFAULT_TEXT_FIELD) -> list[Source]:
    """Each input (folders expanded) as a :class:`~lineclf.io.Source`;
    inputs that already are Sources are taken as they are, so that a run
    recognises each input once."""
    if not any(isinstance(item, Source) for item in inputs):
        return [detect_source(path, input_format, text_field) for path in expand_sources(inputs, input_format)]
    sources: list[Source] = []
    for item in inputs:
        if isinstance(item, Source):
            sources.append(item)
        else:
            sources += [detect_source(path, input_format, text_field) for path in expand_sources([item], input_format)]
    return sources


def plan_outputs(
    inputs: Sequence[str | Path | Source],
    out_dir: Path,
    suffix: str | None = None,
    overwrite: bool = False,
    *,
    output_format: str | None = None,
    input_format: str = "auto",
    text_field: str = DEFAULT_TEXT_FIELD,
) -> dict[str, Path]:
    """Map each input (as expanded) to ``out_dir/<stem><suffix>``, refusing
    before anything is written when two inputs would share an output, an
    output would replace an input, (without ``overwrite``) an output exists,
    or ``out_dir`` cannot be written.

    The stem is the input's name without its format and compression endings
    (``crawl.warc.wet.gz`` -> ``crawl``); without ``suffix``, the ending is
    that of each input's output format (:func:`~.formats.output_suffix`).
    """
    sources = detect_sources(inputs, input_format, text_field)
    targets: dict[str, Path] = {}
    claimed: dict[Path, str] = {}
    resolved_inputs = {Path(s.path).resolve() for s in sources if str(s.path) != "-"}
    for source in sources:
        ending = suffix if suffix is not None else output_suffix(output_format, source.format)
        target = out_dir / f"{source.stem}{ending}"
        key = target.resolve()
        if key in claimed:
            raise UsageError(f"{claimed[key]} and {source.path} would both be written to {target}; label them into separate --out-dir folders")
        if key in resolved_inputs:
            raise UsageError(f"{target}: output would replace an input file; choose another --out-dir")
        if target.exists() and not overwrite:
            raise UsageError(f"{target}: exists; pass --overwrite to replace it, or choose another --out-dir")
        claimed[key] = str(source.path)
        targets[str(source.path)] = target
    check_writable_folder(out_dir)
    return targets


def check_writable_folder(out_dir: Path) -> None:
    """Create ``out_dir`` and try a file in it, so that an unwritable folder is
    reported before the model is loaded and the first page labelled."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: is a file, not a folder; choose another --out-dir")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output folder: {exc.strerror}") from None
    probe_folder(out_dir)
