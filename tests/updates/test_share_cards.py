"""Share cards (issue 15): each update's og:image is a 1200 x 630 PNG with its title, in
the fonts the site ships, drawn once per title and language and served with an ETag."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, features

from feedback.core import share_cards
from feedback.core.languages import get_language
from feedback.extensions import db
from feedback.updates import services


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def test_the_page_points_og_image_at_its_card(client, make_update):
    update = make_update()
    html = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    card = f"http://localhost/updates/{update.slug}/card/en.png"
    assert f'<meta property="og:image" content="{card}">' in html
    assert ('<meta property="og:image:alt" content="Faster pain relief for sickle cell '
            'crises in A&amp;E">') in html
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    urdu = client.get(f"/updates/{update.slug}", headers={"Accept-Language": "ur"})
    assert f"/updates/{update.slug}/card/ur.png" in urdu.get_data(as_text=True)


def test_the_card_is_a_1200_by_630_png_kept_until_the_title_changes(client, app,
                                                                      make_update):
    update = make_update()
    url = f"/updates/{update.slug}/card/en.png"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert _png(first.data).size == (1200, 630)
    etag = first.headers["ETag"]
    assert first.cache_control.max_age == 3600
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url).data == first.data  # drawn once, kept on disk
    services.update_update(None, update, {"title": "Pain relief within 30 minutes"},
                           change_note="A shorter title.")
    db.session.commit()
    second = client.get(url)
    assert second.headers["ETag"] != etag and second.data != first.data
    assert _png(second.data).size == (1200, 630)


def test_cards_of_hidden_updates_and_unknown_languages_are_not_found(client, make_update):
    draft = make_update(publish=False)
    assert client.get(f"/updates/{draft.slug}/card/en.png").status_code == 404
    update = make_update(title="Another update")
    assert client.get(f"/updates/{update.slug}/card/xx.png").status_code == 404


@pytest.mark.parametrize(("code", "title"), [
    ("ur", "سکل سیل بحران میں درد سے جلد آرام: ہم نے 2026 میں کیا بدلا؟"),
    ("bn", "সিকেল সেল সংকটে দ্রুত ব্যথা উপশম (NHS 111)"),
    ("cy", "Lleddfu poen yn gynt: beth wnaethon ni ei newid"),
])
def test_titles_in_other_scripts_are_drawn_in_the_sites_fonts(app, code, title):
    with app.test_request_context():
        language = get_language(code)
        blank = _png(share_cards.render("", language, "Feedback Loop"))
        card = _png(share_cards.render(title, language, "Feedback Loop"))
    assert card.size == (1200, 630)
    drawn = ImageChops.difference(card.convert("RGB"), blank.convert("RGB")).getbbox()
    if language.font and not features.check("raqm"):
        assert drawn is None  # no shaping here: the card leaves the title out
    else:
        assert drawn is not None
        left, _top, right, _bottom = drawn
        if language.is_rtl:  # right-aligned, from the right margin
            assert right > 1200 - share_cards.MARGIN - 10
        else:
            assert left < share_cards.MARGIN + 10


def test_a_long_title_ends_with_an_ellipsis_inside_the_card(app):
    with app.test_request_context():
        language = get_language("en")
        lines, size = share_cards.layout(" ".join(["word"] * 200), share_cards.faces(language),
                                          False)
    assert size == share_cards.SIZES[-1] and lines[-1].endswith(" …")
    assert len(lines) <= share_cards.MAX_LINES
