"""Batch statistics: on how many pages of a site each line occurs."""

from __future__ import annotations

from lineclf.batch import site_line_counts
from lineclf.document import Document


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


def test_pages_without_a_site_count_over_the_whole_batch():
    docs = [page(["Menu", "Text"], site="a.example"), page(["Menu", "Other"]), page(["Menu"])]
    assert [c.tolist() for c in site_line_counts(docs)] == [[1, 1], [3, 1], [3]]


def test_a_single_page_counts_one_for_every_line():
    (counts,) = site_line_counts([page(["A", "A", "", "B"])])
    assert counts.tolist() == [1, 1, 1]
    assert site_line_counts([]) == [] and site_line_counts([page([])])[0].tolist() == []
