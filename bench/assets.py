"""Benchmark: bytes an English page and an Urdu page download (HTML, CSS, JS, fonts),
cold (empty cache) and warm (the same page again), in Debian's Chromium.

    .venv/bin/python bench/assets.py [--path /] [--width 375]

Seeds the demo data into a temporary SQLite database, serves the app on loopback, loads
the page in a fresh browser context per language and counts the bytes of every response
body by kind. "non_latin_fonts" counts the web fonts of feedback/static/fonts/ (all of them
cover non-Latin scripts): an English page must download none. "picker_open" is what
opening the language list then adds (each language's name in its own font). Prints one
line of JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback.extensions import db  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
KINDS = {"document": "html", "stylesheet": "css", "script": "js", "font": "fonts",
         "image": "images"}


def serve(workdir: Path):
    app = create_app({"DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
                      "SECRET_KEY": "bench", "OUTBOX_DIR": str(workdir / "outbox"),
                      "RATELIMIT_ENABLED": False, "RUN_SCHEDULER": False})
    with app.app_context():
        from flask_migrate import upgrade

        from feedback.demo import seed

        upgrade(directory=str(ROOT / "migrations"))
        seed()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def tally(responses: list) -> dict:
    totals = {kind: 0 for kind in (*KINDS.values(), "other", "non_latin_fonts")}
    for response in responses:
        if response.status == 304:
            continue
        size = response.request.sizes()["responseBodySize"]
        kind = KINDS.get(response.request.resource_type, "other")
        totals[kind] += size
        if "/static/fonts/" in response.url and response.url.endswith(".woff2"):
            totals["non_latin_fonts"] += size
    totals["total"] = sum(totals[kind] for kind in (*KINDS.values(), "other"))
    return totals


def measure(browser, url: str, path: str, language: str, width: int) -> dict:
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{url}/language?code={language}&next=/healthz")  # sets the choice only
    responses: list = []
    page.on("response", lambda response: responses.append(response))
    results = {}
    for run in ("cold", "warm"):
        responses.clear()
        page.goto(url + path, wait_until="networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")
        results[run] = tally(responses)
    responses.clear()
    page.locator(".app-language-bar summary").click()
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    results["picker_open"] = tally(responses)["fonts"]
    context.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/")
    parser.add_argument("--width", type=int, default=375)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server, url = serve(Path(tmp))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox", "--disable-gpu"])
            result = {"path": args.path, "width": args.width,
                      "unit": "bytes of response bodies, uncompressed (no gzip on loopback)"}
            for language in ("en", "ur"):
                result[language] = measure(browser, url, args.path, language, args.width)
            browser.close()
        server.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
