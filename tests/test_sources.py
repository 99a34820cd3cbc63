"""Inputs besides plain dumps: JSON Lines, WARC/WET (written here with
warcio), gzip/bzip2/xz, recognised by name or content; the per-page outputs;
one-line errors naming the file and line or record, and --on-error skip."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import sys
import threading
from pathlib import Path

import pytest
from conftest import (
    SAMPLE_TEXTS,
    assert_clean_error,
    jsonl_bytes,
    labels_of_tsv_output,
    record_ids,
    run_cli,
    sample_records,
    write_bytes,
    write_wet,
)

from lineclf.document import Document
from lineclf.labels import LABELS
from lineclf.io import PageError, SourceEnd, SourceStart, detect_source, iter_pages, site_of
from lineclf.io.sources import JSONL, TXT, WARC

warcio = pytest.importorskip("warcio", reason="WET inputs need warcio (pip install -e '.[test]')")

COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def predict(model_file, *args, input=None):
    return run_cli("predict", *args, "--model", model_file, input=input)


def ok_stdout(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout_bytes.decode("utf-8")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def records() -> list[dict]:
    return sample_records()


@pytest.fixture
def jsonl_path(tmp_path, records) -> Path:
    return write_bytes(tmp_path, "pages.jsonl", jsonl_bytes(records))


@pytest.fixture
def wet_path(tmp_path, records) -> Path:
    return write_wet(tmp_path / "crawl.warc.wet.gz", records)


# --------------------------------------------------------------------------- reading pages


def test_jsonl_pages_carry_id_url_and_the_other_fields(jsonl_path, records):
    items = list(iter_pages([jsonl_path]))
    assert isinstance(items[0], SourceStart) and isinstance(items[-1], SourceEnd)
    pages = items[1:-1]
    assert [p.name for p in pages] == [f"{jsonl_path}:{n}" for n in range(1, 5)]
    first = pages[0]
    assert first.meta.id == "page-0" and first.meta.url == records[0]["url"]
    assert list(first.meta.fields) == ["id", "url", "lang"]  # id first, the text left out
    assert first.site == "site0.example"
    assert "".join(a + b for a, b in zip(pages[1].lines, pages[1].line_ends)) == SAMPLE_TEXTS[1]
    assert pages[2].lines == () and pages[3].line_ends[-1] == ""


def test_wet_pages_are_the_conversion_records(wet_path, records):
    pages = [p for p in iter_pages([wet_path]) if isinstance(p, Document)]
    assert [p.meta.url for p in pages] == [r["url"] for r in records]
    assert [p.meta.id for p in pages] == record_ids(wet_path)
    # record 1 is the warcinfo record, and a metadata record follows each page
    assert [p.name for p in pages] == [f"{wet_path}: record {n}" for n in (2, 4, 6, 8)]
    for page, record in zip(pages, records):
        assert "".join(a + b for a, b in zip(page.lines, page.line_ends)) == record["text"]
        assert page.meta.fields == {"id": page.meta.id, "url": record["url"]}


def test_jsonl_and_wet_give_the_same_labels(model_file, jsonl_path, wet_path):
    from_jsonl = json_lines(ok_stdout(predict(model_file, jsonl_path)))
    from_wet = json_lines(ok_stdout(predict(model_file, wet_path)))
    assert [p["lines"] for p in from_jsonl] == [p["lines"] for p in from_wet]
    assert [p["id"] for p in from_wet] == record_ids(wet_path)


@pytest.mark.parametrize("name, fmt", [
    ("a.txt", TXT), ("a.jsonl", JSONL), ("a.ndjson", JSONL), ("a.warc", WARC), ("a.wet", WARC),
    ("a.warc.wet.gz", WARC), ("A.JSONL.GZ", JSONL), ("a.txt.xz", TXT),
])
def test_format_by_name(tmp_path, name, fmt):
    # the name decides, whatever the content
    path = write_bytes(tmp_path, name, b"plain words\n")
    assert detect_source(path).format == fmt


def test_format_and_compression_by_content(tmp_path, records):
    data = jsonl_bytes(records)
    assert detect_source(write_bytes(tmp_path, "a", data)) .format == JSONL
    assert detect_source(write_bytes(tmp_path, "b.dat", gzip.compress(data))).compression == "gzip"
    assert detect_source(write_bytes(tmp_path, "c", bz2.compress(data))).format == JSONL
    wet = write_wet(tmp_path / "d.bin", records)
    assert (detect_source(wet).format, detect_source(wet).compression) == (WARC, "gzip")
    # a dump that only looks a little like something else stays a dump
    assert detect_source(write_bytes(tmp_path, "e", b"BZh, said the sign\n")).compression is None
    assert detect_source(write_bytes(tmp_path, "f", b'{"title": "no text field"}\nmore\n')).format == TXT
    assert detect_source(write_bytes(tmp_path, "g", b"{not json\n")).format == TXT
    # --input-format overrides the guess
    assert detect_source(write_bytes(tmp_path, "h.txt", data), input_format="jsonl").format == JSONL


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_compressed_inputs_give_the_same_output(model_file, tmp_path, records, jsonl_path, suffix):
    compress = COMPRESSORS[suffix]
    dump = write_bytes(tmp_path, "page.txt", SAMPLE_TEXTS[0].encode())
    plain = ok_stdout(predict(model_file, jsonl_path, dump))
    packed = [
        write_bytes(tmp_path / "packed", f"pages.jsonl{suffix}", compress(jsonl_path.read_bytes())),
        write_bytes(tmp_path / "packed", f"page.txt{suffix}", compress(dump.read_bytes())),
    ]
    assert ok_stdout(predict(model_file, *packed)) == plain.replace(str(dump), str(packed[1]))
    # recognised by content too: no telling name
    nameless = write_bytes(tmp_path, "nameless", compress(jsonl_path.read_bytes()))
    assert ok_stdout(predict(model_file, nameless)) == ok_stdout(predict(model_file, jsonl_path))


def test_uncompressed_wet_and_bz2_wet(model_file, tmp_path, records, wet_path):
    plain = write_wet(tmp_path / "plain.warc.wet", records, gzip=False)
    packed = write_bytes(tmp_path, "crawl.wet.bz2", bz2.compress(plain.read_bytes()))
    labels = [[line["label"] for line in p["lines"]] for p in json_lines(ok_stdout(predict(model_file, wet_path)))]
    for path in (plain, packed):
        again = json_lines(ok_stdout(predict(model_file, path)))
        assert [[line["label"] for line in p["lines"]] for p in again] == labels
        assert [p["id"] for p in again] == record_ids(plain)


def test_standard_input_recognised_by_content(model_file, jsonl_path, wet_path):
    expected = ok_stdout(predict(model_file, jsonl_path))
    assert ok_stdout(predict(model_file, "-", input=jsonl_path.read_bytes())) == expected
    assert ok_stdout(predict(model_file, "-", input=gzip.compress(jsonl_path.read_bytes()))) == expected
    from_wet = ok_stdout(predict(model_file, "-", input=wet_path.read_bytes()))
    assert from_wet == ok_stdout(predict(model_file, wet_path))
    # and a gzipped dump on stdin is still a dump
    dump = SAMPLE_TEXTS[0]
    labels_of_tsv_output(ok_stdout(predict(model_file, "-", input=gzip.compress(dump.encode()))), dump)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_read_once(model_file, tmp_path, jsonl_path):
    # as `lineclf predict <(zcat pages.jsonl.gz)` gives it: a path that can be read only once
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = gzip.compress(jsonl_path.read_bytes())

    def feed():
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        result = predict(model_file, fifo)
    finally:
        writer.join(timeout=10)
    assert ok_stdout(result) == ok_stdout(predict(model_file, jsonl_path))


def test_a_folder_holds_every_kind_of_input(model_file, tmp_path, records):
    folder = tmp_path / "crawl"
    write_bytes(folder, "a.jsonl.gz", gzip.compress(jsonl_bytes(records[:1])))
    write_wet(folder / "b.warc.wet.gz", records[1:2])
    write_bytes(folder, "c.txt", SAMPLE_TEXTS[0].encode())
    write_bytes(folder, "notes.md", b"not an input\n")
    out = ok_stdout(predict(model_file, folder, "--format", "jsonl"))
    rows = json_lines(out)
    assert [row.get("id", row.get("doc")) for row in rows][:2] == ["page-0", record_ids(folder / "b.warc.wet.gz")[0]]
    assert {row["doc"] for row in rows[2:]} == {str(folder / "c.txt")}  # a dump's jsonl: a row per line
    # --input-format picks that format's files only
    only = json_lines(ok_stdout(predict(model_file, folder, "--input-format", "jsonl")))
    assert [row["id"] for row in only] == ["page-0"]


# --------------------------------------------------------------------------- outputs


def test_jsonl_output_is_one_object_per_page(model_file, jsonl_path, records):
    pages = json_lines(ok_stdout(predict(model_file, jsonl_path)))
    assert [list(p) for p in pages] == [["id", "url", "lang", "lines"]] * len(records)
    assert [p["lang"] for p in pages] == [r["lang"] for r in records]
    first = pages[0]
    doc = Document.from_lines(SAMPLE_TEXTS[0].split("\n")[:-1])
    assert [line["line"] for line in first["lines"]] == [i + 1 for i in doc.unit_index]
    assert [line["text"] for line in first["lines"]] == doc.units
    for line in first["lines"]:
        assert line["label"] in LABELS and list(line["proba"]) == list(LABELS)
        assert line["label"] == max(line["proba"], key=line["proba"].get)
    assert pages[2]["lines"] == []  # the empty page is still there


def test_keep_and_text_output_per_page(model_file, jsonl_path, records):
    labelled = json_lines(ok_stdout(predict(model_file, jsonl_path)))
    kept = json_lines(ok_stdout(predict(model_file, jsonl_path, "--keep", "body,headline")))
    for page, few in zip(labelled, kept):
        assert few["lines"] == [line for line in page["lines"] if line["label"] in ("body", "headline")]
    cleaned = json_lines(ok_stdout(predict(model_file, jsonl_path, "--format", "text", "--keep", "body,chrome")))
    assert [list(p) for p in cleaned] == [["id", "url", "lang", "text"]] * len(records)
    for page, clean in zip(labelled, cleaned):
        texts = [line["text"] for line in page["lines"] if line["label"] in ("body", "chrome")]
        assert [t for t in clean["text"].replace("\r\n", "\n").split("\n") if t] == texts
    # a page that ended without a line end still does
    last = cleaned[-1]["text"]
    assert not last or not last.endswith("\n") or SAMPLE_TEXTS[-1].endswith("\n")


def test_custom_text_and_id_fields(model_file, tmp_path, records):
    renamed = [{"body": r["text"], "key": r["id"], "id": "not the id"} for r in records]
    path = write_bytes(tmp_path, "renamed.jsonl", jsonl_bytes(renamed))
    pages = json_lines(ok_stdout(predict(model_file, path, "--text-field", "body", "--id-field", "key")))
    assert [list(p) for p in pages] == [["key", "id", "lines"]] * len(records)
    assert [p["key"] for p in pages] == [r["id"] for r in records]


def test_out_dir_names_and_empty_inputs(model_file, tmp_path, records, wet_path):
    empty = write_bytes(tmp_path, "empty.jsonl", b"\n")
    jsonl = write_bytes(tmp_path, "pages.jsonl.xz", lzma.compress(jsonl_bytes(records)))
    out = tmp_path / "out"
    result = predict(model_file, wet_path, jsonl, empty, "-o", out, "--format", "text")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["crawl.jsonl", "empty.jsonl", "pages.jsonl"]
    assert (out / "empty.jsonl").read_bytes() == b""
    assert len(json_lines((out / "crawl.jsonl").read_text("utf-8"))) == len(records)
    assert result.stderr.splitlines()[-1] == f"lineclf: wrote 3 file(s) to {out}"


def test_tsv_is_refused_for_pages(model_file, jsonl_path):
    message = assert_clean_error(predict(model_file, jsonl_path, "--format", "tsv"), exit_code=2)
    assert message.startswith(f"lineclf: error: {jsonl_path}: --format tsv writes one labelled dump per file;")


def test_a_field_the_output_would_overwrite(model_file, tmp_path, records):
    clash = [dict(records[0], lines=3), records[1]]
    path = write_bytes(tmp_path, "clash.jsonl", jsonl_bytes(clash))
    message = assert_clean_error(predict(model_file, path))
    assert message == (
        f"lineclf: error: {path}:1: has a field 'lines', which the output writes the labels into; rename that field"
    )
    # --format text writes into the text field, which is the input's own
    assert predict(model_file, path, "--format", "text").exit_code == 0


def test_site_of_url():
    assert site_of("https://www.Example.org:8080/a?b") == "example.org"
    assert site_of("not a url") is None and site_of(None) is None and site_of("http://[bad") is None


# --------------------------------------------------------------------------- errors


def test_bad_jsonl_lines_name_file_and_line(model_file, tmp_path, records):
    lines = [
        json.dumps(records[0]),
        "",  # blank lines between records are allowed
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": "x"}),
        json.dumps({"text": 3}),
        json.dumps(records[1]),
    ]
    path = write_bytes(tmp_path, "bad.jsonl", ("\n".join(lines) + "\n").encode())
    message = assert_clean_error(predict(model_file, path))
    assert message == f"lineclf: error: {path}:3: not valid JSON (Expecting property name enclosed in double quotes, column 2)"
    result = predict(model_file, path, "--on-error", "skip")
    assert result.exit_code == 1
    assert [p["id"] for p in json_lines(result.stdout)] == ["page-0", "page-1"]
    assert result.stderr.splitlines() == [
        f"lineclf: skipped: {path}:3: not valid JSON (Expecting property name enclosed in double quotes, column 2)",
        f"lineclf: skipped: {path}:4: not a JSON object; a JSON Lines page is an object with the page text in 'text'",
        f"lineclf: skipped: {path}:5: no 'text' field; name the page text's field with --text-field",
        f"lineclf: skipped: {path}:6: field 'text' is not a string",
        f"lineclf: error: skipped 4 of 6 page(s) or file(s) that could not be read: {path}:3, {path}:4, {path}:5, {path}:6",
    ]


def test_stop_keeps_what_came_before_and_writes_no_partial_file(model_file, tmp_path, records):
    good = write_bytes(tmp_path / "in", "a.jsonl", jsonl_bytes(records))
    bad = write_bytes(tmp_path / "in", "b.jsonl", jsonl_bytes(records[:2]) + b"{oops\n" + jsonl_bytes(records[2:]))
    out = tmp_path / "out"
    message = assert_clean_error(predict(model_file, tmp_path / "in", "-o", out))
    assert message.startswith(f"lineclf: error: {bad}:3: not valid JSON")
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl"]  # b's file was never put in place
    assert len(json_lines((out / "a.jsonl").read_text("utf-8"))) == len(records) and good.exists()


def test_invalid_utf8_in_a_record(model_file, tmp_path, records):
    line = json.dumps({"id": "k", "text": "Köln"}, ensure_ascii=False).encode().replace("ö".encode(), b"\xf6")
    path = write_bytes(tmp_path, "latin.jsonl", jsonl_bytes(records[:1]) + line + b"\n")
    message = assert_clean_error(predict(model_file, path))
    assert message == f"lineclf: error: {path}:2: byte 22: not UTF-8; convert the file to UTF-8"
    result = predict(model_file, path, "--encoding-errors", "replace")
    assert result.exit_code == 0
    assert result.stderr == f"lineclf: warning: {path}:2: byte 22: 1 byte(s) that are not UTF-8 replaced by U+FFFD\n"
    assert json_lines(result.stdout)[1]["lines"][0]["text"] == "K\ufffdln"


def test_byte_order_mark_before_the_first_record(model_file, tmp_path, jsonl_path):
    path = write_bytes(tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + jsonl_path.read_bytes())
    assert ok_stdout(predict(model_file, path)) == ok_stdout(predict(model_file, jsonl_path))


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_cut_compressed_file(model_file, tmp_path, records, suffix):
    data = COMPRESSORS[suffix](jsonl_bytes(records * 50))
    path = write_bytes(tmp_path, f"cut.jsonl{suffix}", data[: len(data) // 2])
    message = assert_clean_error(predict(model_file, path))
    assert message.startswith(f"lineclf: error: {path}:")
    assert "data ends early; the file is cut short" in message
    if suffix == ".bz2":
        return  # bzip2's blocks are 900 kB: no page before the cut can be read
    # with skip, the pages before the cut are labelled and the file still written
    out = tmp_path / "out"
    result = predict(model_file, path, "--on-error", "skip", "-o", out)
    assert result.exit_code == 1
    assert 0 < len(json_lines((out / "cut.jsonl").read_text("utf-8"))) < len(records) * 50


def test_not_really_compressed(model_file, tmp_path):
    path = write_bytes(tmp_path, "fake.jsonl.gz", b'{"text": "plain, not gzip"}\n')
    message = assert_clean_error(predict(model_file, path))
    assert message == f"lineclf: error: {path}:1: not valid gzip data (Not a gzipped file (b'{{\"'))"
    result = predict(model_file, path, "--on-error", "skip", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert list((tmp_path / "out").iterdir()) == []  # nothing of it read: no output file
    assert result.stderr.splitlines()[-2:] == [
        f"lineclf: wrote 0 file(s) to {tmp_path / 'out'}",
        f"lineclf: error: skipped 1 of 1 page(s) or file(s) that could not be read: {path}",
    ]


def test_bad_warc_records(model_file, tmp_path, records, wet_path):
    garbage = write_bytes(tmp_path, "garbage.warc", b"hello world\nnot a warc file\n")
    message = assert_clean_error(predict(model_file, garbage))
    assert message == f"lineclf: error: {garbage}: record 1: not a WARC record (Unknown archive format, first line: ['hello', 'world'])"
    plain = write_wet(tmp_path / "plain.wet", records, gzip=False).read_bytes()
    second_metadata = plain.index(b"WARC/1.0\r\nWARC-Type: metadata", plain.index(b"WARC-Type: metadata") + 1)
    broken = write_bytes(tmp_path, "broken.wet", plain[:second_metadata] + b"WARX" + plain[second_metadata + 4 :])
    result = predict(model_file, broken, "--on-error", "skip")
    assert result.exit_code == 1
    assert len(json_lines(result.stdout)) == 2  # the pages before the broken record
    assert result.stderr.splitlines()[0] == f"lineclf: skipped: {broken}: record 5: not a WARC record (Invalid WARC record, first line: WARX/1.0)"
    cut = write_bytes(tmp_path, "cut.wet", plain[: plain.rindex(b"Forecasters") + 5])
    message = assert_clean_error(predict(model_file, cut))
    assert message.startswith(f"lineclf: error: {cut}: record 8: cut short (")
    assert message.endswith("bytes); the file is truncated")


def test_warc_without_wet_records(model_file, tmp_path):
    import io

    from warcio.warcwriter import WARCWriter

    path = tmp_path / "html.warc.gz"
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        writer.write_record(writer.create_warc_record("https://a.example/", "resource", payload=io.BytesIO(b"<html>")))
    message = assert_clean_error(predict(model_file, path))
    assert message == (
        f"lineclf: error: {path}: holds 1 WARC record(s) but no WET 'conversion' record: lineclf labels text, "
        "so give it WET files (the text Common Crawl extracts), not WARC files of HTML"
    )


def test_binary_page_in_a_wet_file_is_skipped_alone(model_file, tmp_path, records):
    texts = [dict(r) for r in records]
    path = write_wet(tmp_path / "crawl.wet.gz", texts[:1] + [dict(texts[1], text="binary\x00junk")] + texts[2:])
    result = predict(model_file, path, "--on-error", "skip")
    assert result.exit_code == 1
    assert len(json_lines(result.stdout)) == len(records) - 1
    assert result.stderr.splitlines()[0] == f"lineclf: skipped: {path}: record 4: byte 6: NUL byte, this looks like a binary file, not a text dump"


def test_warc_needs_warcio(model_file, wet_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "warcio", None)  # as if not installed
    message = assert_clean_error(predict(model_file, wet_path), exit_code=2)
    assert message == f"lineclf: error: {wet_path}: reading WARC/WET files needs warcio: pip install 'lineclf[warc]'"


def test_errors_travel_in_the_stream_in_order(tmp_path, records):
    path = write_bytes(tmp_path, "p.jsonl", jsonl_bytes(records[:1]) + b"[]\n" + jsonl_bytes(records[1:2]))
    items = list(iter_pages([path, tmp_path / "p.jsonl"]))
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["SourceStart", "Document", "PageError", "Document", "SourceEnd"] * 2
    assert isinstance(items[2], PageError) and not items[2].input_failed


def test_wrong_content_length_is_one_warning(model_file, tmp_path, records):
    data = write_wet(tmp_path / "plain.wet", records, gzip=False).read_bytes()
    # the first page's Content-Length 10 bytes short: warcio finds no blank line after it
    start = data.index(b"Content-Length: ", data.index(b"WARC-Type: conversion")) + len(b"Content-Length: ")
    end = data.index(b"\r\n", start)
    path = write_bytes(tmp_path, "short.wet", data[:start] + str(int(data[start:end]) - 10).encode() + data[end:])
    result = predict(model_file, path)
    assert result.exit_code == 0
    assert result.stderr == (
        f"lineclf: warning: {path}: record 2: not followed by a blank line; its Content-Length may be wrong "
        "and its text cut or run on\n"
    )
    assert len(json_lines(result.stdout)) == len(records)
