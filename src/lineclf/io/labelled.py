"""Reading labelled pages: the ``label<TAB>text`` format, manifests of
sites, and folders of labelled files."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..document import Document, is_blank
from ..errors import DataFormatError, LineclfError, UsageError
from ..labels import parse_label
from .readers import STDIN_NAME, decode_dump, display_name, expand_inputs, read_bytes, split_lines

#: File suffix picked up when a directory of labelled files is given.
LABELLED_SUFFIX = ".tsv"


def parse_labelled(text: str, name: str, partial: bool = False) -> Document:
    """Parse the labelled format: ``label<TAB>text`` per non-blank line
    (with ``partial``, a label may also be a partial one: content, noise)."""
    lines, ends = split_lines(text)
    texts: list[str] = []
    labels: list[str] = []
    for number, line in enumerate(lines, start=1):
        if is_blank(line):
            texts.append(line)
            continue
        label, tab, rest = line.partition("\t")
        if number == 1 and line.startswith("\ufeff"):
            raise DataFormatError(f"{name}:1: starts with a byte order mark (U+FEFF); save the file as UTF-8 without BOM")
        if not tab:
            raise DataFormatError(f"{name}:{number}: no tab; a labelled line is 'label<TAB>text'")
        try:
            labels.append(parse_label(label, partial))
        except DataFormatError as exc:
            raise DataFormatError(f"{name}:{number}: {exc}") from None
        if is_blank(rest):
            raise DataFormatError(f"{name}:{number}: label '{label}' has no text after the tab")
        texts.append(rest)
    return Document(name=name, lines=tuple(texts), line_ends=tuple(ends), labels=tuple(labels))


def read_labelled(path: str | Path, site: str | None = None, partial: bool = False) -> Document:
    """Read one labelled file (``*.tsv``) into a Document carrying labels."""
    name = display_name(path)
    doc = parse_labelled(decode_dump(read_bytes(path), name), name, partial)
    return doc if site is None else dataclasses.replace(doc, site=site)


def _is_url(field: str) -> bool:
    return "://" in field


def read_manifest(path: str | Path) -> dict[str, str]:
    """Read a manifest into {file stem: site}.

    A line is ``name<TAB>site[<TAB>url]`` (gn1, de-news) or, with a language
    column, ``name<TAB>lang<TAB>site<TAB>url`` (web): the site is the field
    before the URL, or the last field when there is no URL.
    """
    name = display_name(path)
    if name != STDIN_NAME and not Path(path).is_file():
        raise UsageError(f"{path}: no such manifest file")
    text = decode_dump(read_bytes(path), name)
    sites: dict[str, str] = {}
    for number, line in enumerate(split_lines(text)[0], start=1):
        if is_blank(line):
            continue
        fields = line.split("\t")
        if len(fields) > 2 and _is_url(fields[-1]):
            fields = fields[:-1]
        site = fields[-1] if len(fields) > 1 else ""
        if not fields[0] or not site or _is_url(site):
            raise DataFormatError(f"{name}:{number}: a manifest line is 'name[<TAB>lang]<TAB>site[<TAB>url]'")
        sites[fields[0]] = site
    return sites


def read_labelled_corpus(
    inputs: Iterable[str | Path],
    manifests: Sequence[str | Path] = (),
    skipped: list[tuple[str, LineclfError]] | None = None,
    partial: bool = False,
) -> list[Document]:
    """Read labelled files and directories; a document's site comes from the
    manifests (by file stem) when listed there. ``partial``: labels may be
    partial ones (for training; see ``labels.PARTIAL_LABELS``).

    A bad file raises DataFormatError, unless a ``skipped`` list is given: then
    the file is left out and ``(its name, the error)`` appended there.
    """
    sites: dict[str, str] = {}
    for manifest in manifests:
        sites.update(read_manifest(manifest))
    docs = []
    for path in expand_inputs(inputs, LABELLED_SUFFIX):
        stem = Path(path).stem if str(path) != "-" else STDIN_NAME
        try:
            docs.append(read_labelled(path, site=sites.get(stem), partial=partial))
        except DataFormatError as exc:
            if skipped is None:
                raise
            skipped.append((display_name(path), exc))
    return docs
