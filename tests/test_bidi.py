"""Text people typed is isolated, so its direction cannot scramble the text around it
(the isolate and isolate_text filters, feedback/core/templating.py)."""

from __future__ import annotations

from markupsafe import Markup

from feedback.core.templating import isolate, isolate_text


def test_isolate_wraps_escaped_text_in_bdi():
    assert isolate("Apna Health Forum") == Markup("<bdi>Apna Health Forum</bdi>")
    assert isolate("<b>x</b>?") == Markup("<bdi>&lt;b&gt;x&lt;/b&gt;?</bdi>")
    assert isolate("Salaam", lang="ur", direction="rtl") == Markup(
        '<bdi lang="ur" dir="rtl">Salaam</bdi>')
    assert isolate(None) == isolate("") == Markup("")


def test_isolate_text_uses_unicode_isolates_where_markup_cannot_go():
    assert isolate_text("Ann?") == "\u2068Ann?\u2069"
    assert isolate_text(None) == ""


def test_an_english_name_keeps_its_punctuation_on_an_urdu_page(app, client, make_org):
    make_org(name="Which services help? (VCSE)", slug="which-services")
    client.get("/language?code=ur")
    page = client.get("/organisations").get_data(as_text=True)
    # Untranslated, the name is marked as English: an element with its own lang and dir
    # is isolated from the Urdu around it, so its "?" and brackets stay where they are.
    assert ('<span lang="en" dir="ltr">Which services help? (VCSE)</span>' in page
            or "<bdi>Which services help? (VCSE)</bdi>" in page)
