"""Run axe-core (from npm) in a Playwright page and fail on WCAG 2.2 A/AA violations."""

from __future__ import annotations

from pathlib import Path

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Where the live server serves it (tests only): the browser keeps the file and its compiled
# code, instead of receiving and compiling half a megabyte of script on every axe run.
AXE_PATH = "/test-only/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serve_axe(app) -> None:
    """Let ``app`` (a live server's) serve axe-core at ``AXE_PATH``; before it serves."""
    from flask import send_file

    app.add_url_rule(AXE_PATH, "test_only_axe",
                     lambda: send_file(AXE_SOURCE, max_age=3600, conditional=True))


def axe_violations(page) -> list[dict]:
    """The WCAG A and AA violations on the page as it is now."""
    # page.evaluate runs through the DevTools protocol, so the page's CSP (no inline
    # script) does not block it, while the page itself stays under the CSP.
    # resultTypes: only violations are reported in full, which makes axe much faster.
    # Measure the page as the reader sees it: style sheets and web fonts loaded (a touch
    # target measured before the fonts arrive can be smaller than it will be).
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    if not page.evaluate("typeof window.axe === 'object'"):
        # A script of the page's own site (the live server's), so the CSP allows it.
        page.add_script_tag(url=AXE_PATH)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", WCAG_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe found WCAG violations on {page.url}: {violations}"
