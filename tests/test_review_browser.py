"""The review page in a real browser: Playwright for Python driving Chromium
(Debian's package, /usr/bin/chromium; another with LINECLF_CHROMIUM). Skips,
with the reason, where either is missing; CI installs both."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from conftest import SEED_TXT, write_bytes
from lineclf.io import detect_source, parse_labelled
from lineclf.review import ReviewServer, review_pages

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

CHROMIUM = os.environ.get("LINECLF_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    pytest.skip("no chromium to drive (apt-get install chromium, or set LINECLF_CHROMIUM)", allow_module_level=True)

PAGE = b"Home | News | Sport\nMenu\n\nA headline\nA first sentence of the body, long enough to be read.\nA second one.\nA third one.\nFooter\n"


def start(tmp_path: Path, model) -> ReviewServer:
    sources = [detect_source(write_bytes(tmp_path / "in", name, data)) for name, data in (("page.txt", PAGE), ("seed.txt", SEED_TXT.read_bytes()))]
    server = ReviewServer(review_pages(sources, tmp_path / "out", model), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def open_review(browser, server: ReviewServer, name: str):
    page = browser.new_page()
    page.goto(server.url)
    page.locator("nav li", has_text=name).click()
    page.wait_for_selector(f"#page-name:text-is('{name}')")
    return page


def shown_labels(page) -> list[str]:
    return page.locator("main .line[data-unit]").evaluate_all("rows => rows.map(r => r.dataset.label)")


def test_keyboard_relabels_a_range_undo_works_and_save_writes_the_file(tmp_path, tiny_model, browser):
    server = start(tmp_path, tiny_model)
    try:
        page = open_review(browser, server, "page.tsv")
        predicted = shown_labels(page)
        assert len(predicted) == 7
        # ? goes from line to line the model is unsure of, wrapping round
        unsure = page.locator("main .line.unsure").evaluate_all("rows => rows.map(r => r.dataset.unit)")
        assert unsure, "the test needs lines the tiny model is unsure of"
        for unit in unsure + unsure[:1]:
            page.keyboard.press("?")
            assert page.locator("main .line.cursor").get_attribute("data-unit") == unit
        page.keyboard.press("Escape")
        for _ in range(7):
            page.keyboard.press("k")
        # line 4 (the body's first sentence) down to line 6, with the keyboard
        page.keyboard.press("j")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("j")
        page.keyboard.press("Shift+ArrowDown")
        page.keyboard.press("Shift+j")
        page.keyboard.press("1")
        assert shown_labels(page)[3:6] == ["body"] * 3
        page.keyboard.press("x")  # the range stays selected: now all chrome
        assert shown_labels(page)[3:6] == ["chrome"] * 3
        page.keyboard.press("u")
        assert shown_labels(page)[3:6] == ["body"] * 3
        # a single line: the cursor moves on after it is labelled
        page.keyboard.press("Escape")
        page.keyboard.press("k")
        page.keyboard.press("h")  # line 3, the headline; the cursor goes on to line 4
        assert page.locator("main .line.cursor").get_attribute("data-unit") == "3"
        for _ in range(3):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("5")
        page.locator("main .line[data-unit='0']").click()
        page.locator("main .line[data-unit='1']").click(modifiers=["Shift"])
        page.get_by_role("button", name="5 chrome").click()
        expected = ["chrome", "chrome", "headline", "body", "body", "body", "chrome"]
        assert shown_labels(page) == expected
        page.keyboard.press("s")
        page.wait_for_selector("#status:has-text('saved')")
        saved = tmp_path / "out" / "page.tsv"
        assert list(parse_labelled(saved.read_text("utf-8"), "page.tsv").labels) == expected
        assert page.locator("#progress").inner_text() == "1 / 2 pages done"
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_saved_earlier_loads_as_saved(tmp_path, tiny_model, browser):
    (tmp_path / "out").mkdir()
    labels = ["teaser", "teaser", "headline", "body", "caption", "body", "chrome"]
    lines = PAGE.decode().splitlines()
    units = iter(labels)
    (tmp_path / "out" / "page.tsv").write_text(
        "".join(f"{next(units)}\t{line}\n" if line.strip() else "\n" for line in lines), encoding="utf-8"
    )
    server = start(tmp_path, tiny_model)
    try:
        page = open_review(browser, server, "page.tsv")
        assert shown_labels(page) == labels
        assert page.locator("#progress").inner_text() == "1 / 2 pages done"
        assert "done" in page.locator("nav li", has_text="page.tsv").get_attribute("class")
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_without_its_token_is_forbidden(tmp_path, tiny_model, browser):
    server = start(tmp_path, tiny_model)
    try:
        page = browser.new_page()
        response = page.goto(server.url.split("?")[0])
        assert response.status == 403
        assert "forbidden" in page.content()
    finally:
        server.shutdown()
        server.server_close()
