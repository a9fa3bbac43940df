"""Printing in a real browser: Chromium prints an update page and an Urdu leaflet to PDF;
each is one A4 page whose QR code decodes to the right address."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from feedback.extensions import db
from tests.updates.conftest import update_data

pytestmark = pytest.mark.browser

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm


@pytest.fixture
def poppler():
    if shutil.which("pdftoppm") and shutil.which("pdfinfo"):
        return
    if os.environ.get("FEEDBACK_REQUIRE_BROWSER"):
        pytest.fail("pdftoppm is missing: CI installs Debian's poppler-utils (.ci/run)")
    pytest.skip("the print test needs pdftoppm and pdfinfo "
                "(apt-get install poppler-utils)")


@pytest.fixture
def live_app_config() -> dict:
    return {"LANGUAGES": "en,ur"}


@pytest.fixture
def published(live_server) -> str:
    from feedback.organisations import services as organisations
    from feedback.updates import services

    with live_server.app.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs",
                                                         "name": "Riverside Hospitals"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell data"})
        update = services.create_update(None, trust, update_data(dataset))
        services.publish_update(None, update)
        db.session.commit()
        slug = update.slug
        db.session.remove()
    return slug


def print_to_pdf(page, url: str, path: Path) -> Path:
    page.goto(url)
    page.emulate_media(media="print")
    page.pdf(path=str(path), format="A4", print_background=True)
    return path


def assert_one_a4_page(path: Path) -> None:
    pages, (width, height) = pdf_pages(path)
    assert pages == 1
    # Chromium rounds the sheet to whole CSS pixels: 794 x 1123 px is 595.5 x 842.25 pt.
    assert abs(width - A4_POINTS[0]) < 1.5 and abs(height - A4_POINTS[1]) < 1.5


def pdf_pages(path: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    width, _x, height = fields["Page size"].split()[:3]
    return int(fields["Pages"]), (float(width), float(height))


def qr_codes(path: Path, tmp_path: Path) -> list[str]:
    import zxingcpp
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png")))
    return sorted(code.text for code in zxingcpp.read_barcodes(image))


def test_an_update_page_prints_on_one_a4_page_with_its_qr_code(live_server, page, poppler,
                                                                published, tmp_path):
    pdf = print_to_pdf(page, live_server(f"/updates/{published}"), tmp_path / "update.pdf")
    assert_one_a4_page(pdf)
    assert qr_codes(pdf, tmp_path) == [live_server(f"/updates/{published}")]


def test_a_partner_prints_an_urdu_leaflet(live_server, page, poppler, published, tmp_path):
    page.goto(live_server(f"/updates/{published}"))
    page.get_by_test_id("leaflet-link").click()
    page.get_by_label("Language of the leaflet").select_option("ur")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**lang=ur")
    assert page.locator("html").get_attribute("dir") == "rtl"
    pdf = print_to_pdf(page, page.url, tmp_path / "leaflet.pdf")
    assert_one_a4_page(pdf)
    assert qr_codes(pdf, tmp_path) == sorted([
        live_server(f"/language?code=ur&next=/updates/{published}"),
        live_server("/language?code=ur&next=/subscribe")])


def test_accountability_and_kit_pages_pass_axe(live_server, page):
    from feedback.demo import seed
    from tests.browser.axe import assert_accessible

    with live_server.app.app_context():
        seed()
        db.session.commit()
        db.session.remove()
    for path in ["/accountability", "/organisations/pennine-maternity/accountability",
                 "/open-data", "/widget?topic=maternity",
                 "/widget/updates?topic=maternity&lang=ur",
                 "/print/rounds/maternity-research-priorities?lang=ur",
                 "/print/updates/what-bradford-families-told-us-about-interpreters-in-"
                 "maternity-care?lang=ur"]:
        page.goto(live_server(path))
        assert_accessible(page)
