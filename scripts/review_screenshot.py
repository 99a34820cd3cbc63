"""Take the README's picture of `lineclf review`: the German example labelled
by the shipped model, a range selected, in Debian's chromium driven by
Playwright (as tests/test_review_browser.py does).

    .venv/bin/python scripts/review_screenshot.py docs/review.png
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

import lineclf
from lineclf.io import detect_source
from lineclf.review import ReviewServer, review_pages

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = REPO_ROOT / "data" / "examples" / "seed-de.txt"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("png", type=Path)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as out_dir:
        queue = review_pages([detect_source(EXAMPLE)], Path(out_dir), lineclf.load_model())
        server = ReviewServer(queue, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1100, "height": 640})
                page.goto(server.url)
                page.wait_for_selector("main .line[data-unit]")
                for _ in range(3):
                    page.keyboard.press("j")
                page.keyboard.press("Shift+j")
                page.keyboard.press("Shift+j")
                page.screenshot(path=str(args.png))
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    print(f"wrote {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
