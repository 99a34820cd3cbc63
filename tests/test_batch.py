"""Batch statistics: on how many pages of a site each line occurs."""

from __future__ import annotations

from lineclf.features import SiteCounts
from lineclf.features import site as batch
from lineclf.document import Document


def site_line_counts(docs):
    """For each page, for each of its lines, on how many pages of its site it occurs."""
    counts = SiteCounts.of(docs)
    return [counts.line_counts(doc) for doc in docs]


def page(lines, site=None, name="p"):
    return Document.from_lines(lines, name=name, site=site)


def test_lines_counted_over_the_pages_of_a_site():
    docs = [
        page(["Home | News", "", "Story one", "Home | News"], site="a.example"),
        page(["  Home | News ", "Story two"], site="a.example"),
        page(["Home | News", "Story one"], site="b.example"),
    ]
    counts = site_line_counts(docs)
    # a page counts once, whitespace around a line does not matter, other sites do not count
    assert [c.tolist() for c in counts] == [[2, 1, 2], [2, 1], [1, 1]]


def test_pages_without_a_site_count_together_as_one_site():
    # a folder of plain dumps has no URLs: the whole batch is one site
    docs = [page(["Menu", "Text"], site="a.example"), page(["Menu", "Other"]), page(["Menu"])]
    assert [c.tolist() for c in site_line_counts(docs)] == [[1, 1], [2, 1], [2]]


def test_a_single_page_counts_one_for_every_line():
    (counts,) = site_line_counts([page(["A", "A", "", "B"])])
    assert counts.tolist() == [1, 1, 1]
    assert site_line_counts([]) == [] and site_line_counts([page([])])[0].tolist() == []


def site_pages(n_sites=3, pages=4):
    return [
        page([f"Menu {s}", f"Story {s}-{p}", "Footer", f"Menu {s}"], site=f"s{s}.example", name=f"{s}-{p}")
        for s in range(n_sites)
        for p in range(pages)
    ]


def test_counts_made_apart_merge_to_the_counts_of_the_whole(monkeypatch):
    docs = site_pages()
    whole = SiteCounts.of(docs)
    merged = SiteCounts.of(docs[:5]).merge(SiteCounts.of(docs[5:]))
    assert merged.site_pages == whole.site_pages == {f"s{s}.example": 4 for s in range(3)}
    assert all((merged.line_counts(d) == whole.line_counts(d)).all() for d in docs)
    # a stream merged every few keys (bounded memory) counts the same
    monkeypatch.setattr(batch, "MERGE_EVERY_KEYS", 2)
    streamed = SiteCounts.of(iter(docs))
    assert all((streamed.line_counts(d) == whole.line_counts(d)).all() for d in docs)
    assert whole.line_counts(docs[0]).tolist() == [4, 1, 4, 4]


def test_a_page_the_counts_never_saw_counts_one():
    counts = SiteCounts.of(site_pages())
    stranger = page(["Menu 0", "Something else"], site="elsewhere.example")
    assert counts.line_counts(stranger).tolist() == [1, 1]
    assert counts.pages_of(stranger) == 1
    assert SiteCounts().line_counts(stranger).tolist() == [1, 1]


def test_counts_restricted_to_a_chunk_give_the_same_counts_for_it():
    docs = site_pages()
    whole = SiteCounts.of(docs)
    chunk = [docs[1], docs[6]]
    part = whole.restricted_to(chunk)
    assert len(part.keys) < len(whole.keys)
    assert part.site_pages == {"s0.example": 4, "s1.example": 4}
    assert all((part.line_counts(d) == whole.line_counts(d)).all() for d in chunk)
    assert SiteCounts().restricted_to(chunk).line_counts(docs[1]).tolist() == [1, 1, 1, 1]


def test_counts_saved_for_workers_give_the_same_counts_as_the_batch(tmp_path, monkeypatch):
    """What -j's workers look lines up in: the batch's counts saved once and
    mapped, with the task's sites' page counts."""
    import pickle

    from lineclf.labelling import runners

    docs = site_pages()
    whole = SiteCounts.of(docs)
    chunk = [docs[1], docs[6]]
    sent = pickle.loads(pickle.dumps(runners.CountsFile.save(whole, tmp_path / "c").for_sites(chunk, whole)))
    assert sent.site_pages == {"s0.example": 4, "s1.example": 4}
    monkeypatch.setattr(runners, "_WORKER_COUNTS", None)
    mapped = sent.load()
    assert all((mapped.line_counts(d) == whole.line_counts(d)).all() for d in docs)
    assert [mapped.pages_of(d) for d in chunk] == [whole.pages_of(d) for d in chunk]
    # another batch's file is mapped in its place, not the first one kept
    other = SiteCounts.of(docs[:5])
    remapped = runners.CountsFile.save(other, tmp_path / "d").for_sites(chunk, other).load()
    assert remapped.line_counts(docs[6]).tolist() == other.line_counts(docs[6]).tolist() != whole.line_counts(docs[6]).tolist()


def test_line_hashes_are_murmurhash3_of_the_stripped_line_after_the_site():
    """lineclf._native.line_hashes: MurmurHash3_x64_128's first 64 bits (the
    expected values are mmh3.hash64(data, 0)[0] as unsigned, from the mmh3
    package), of the site prefix and the line's UTF-8 without the whitespace
    around it (str.strip()'s whitespace, a no-break space included)."""
    import numpy as np

    from lineclf._native import line_hashes

    def hashes(prefix, lines):
        return np.frombuffer(line_hashes(prefix, lines), dtype=np.uint64).tolist()

    assert hashes(b"", ["", "hello", "x" * 40, "é中\U0001F600"]) == [
        0, 14688674573012802306, 5262249189530750049, 7857945783732550611,
    ]  # fmt: skip
    # every length of a last, partial block: 15, 0 and 1 bytes after whole blocks of 16
    assert hashes(b"", ["abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnopq"]) == [
        9997468155419308027, 14180213048082216739, 8459014091212432983,
    ]  # fmt: skip
    assert hashes(b"", [" \t\u00a0hello\u2003 "]) == hashes(b"", ["hello"])
    assert hashes(b"\x01a.example\x00", ["Menu"]) != hashes(b"\x01b.example\x00", ["Menu"])
    # a lone surrogate (a bad byte read with surrogateescape) hashes as surrogatepass encodes it
    assert hashes(b"", ["a\udcff"]) == [11918106825016850942]
    assert batch._hashes("a.example", [" x ", "x"]).tolist() == hashes(b"\x01a.example\x00", ["x", "x"])
