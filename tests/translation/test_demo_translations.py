"""The demo shows the translated experience without a provider: reviewed Urdu, Bengali,
Polish and Somali for the demo content, marked as demo data, with a few machine drafts in
the review queue and some content left untranslated on purpose.

Proof: in Urdu, the vote page, an update page and a digest email show Urdu for all demo
content, and Arabic-script letters are at least 80 % of all the letters a reader sees."""

from __future__ import annotations

import unicodedata

import lxml.html
from sqlalchemy import func, select

from feedback.core.models import utcnow
from feedback.demo import seed
from feedback.extensions import db
from feedback.translation.demo import DEMO_MACHINE_ORIGIN, DEMO_ORIGIN, demo_translations
from feedback.translation.models import SegmentStatus, TranslationSegment
from feedback.translation.segments import hash_segment
from tests.conftest import login

SICKLE_CELL_UPDATE = "Pain relief for sickle cell crises in A&E is now much faster"


def visible_text(html: str) -> str:
    """What a reader sees: no scripts or styles, and no collapsed "show the original"."""
    document = lxml.html.fromstring(html)
    for hidden in document.xpath("//script|//style|//details|//head"):
        hidden.drop_tree()
    return document.text_content()


def arabic_share(text: str) -> float:
    """Arabic-script letters among all letters (Unicode categories L*)."""
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    arabic = [ch for ch in letters if unicodedata.name(ch, "").startswith("ARABIC")]
    return len(arabic) / len(letters)


def _row(source: str, language: str) -> TranslationSegment | None:
    return db.session.scalar(select(TranslationSegment).where(
        TranslationSegment.source_hash == hash_segment(source),
        TranslationSegment.target_language == language))


def test_the_demo_ships_checked_translations_marked_as_demo_data(app):
    seed()
    db.session.commit()
    files = demo_translations()
    assert {"ur", "bn", "pl", "so"} <= set(files)
    for code, data in files.items():
        # Every entry matches demo content (a file that drifted from it would fail here).
        for source in data["approved"]:
            row = _row(source, code)
            assert row is not None and row.status == SegmentStatus.APPROVED, (code, source)
            assert row.origin == DEMO_ORIGIN
        for source in data["machine_drafts"]:
            row = _row(source, code)
            assert (row.status, row.origin) == (SegmentStatus.MACHINE_DRAFT,
                                                DEMO_MACHINE_ORIGIN)
        for source in data["not_yet_translated"]:
            assert _row(source, code).status == SegmentStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(TranslationSegment).where(
        TranslationSegment.target_language == "ur",
        TranslationSegment.status == SegmentStatus.MACHINE_DRAFT)) >= 3
    assert seed() == 0  # idempotent, and never overwrites a person's review


def test_urdu_readers_see_urdu_on_the_vote_page_an_update_and_a_digest(app, client):
    from feedback.accounts.models import User
    from feedback.digests import services as digests
    from feedback.digests.rendering import personalise
    from feedback.organisations.models import Organisation
    from feedback.subscriptions.models import Audience
    from feedback.updates.models import Update

    seed()
    db.session.commit()
    member = db.session.scalar(select(User).where(
        User.email == "member@feedback-demo.example.org"))
    login(client, member)
    client.get("/language?code=ur")
    update = db.session.scalar(select(Update).where(Update.title == SICKLE_CELL_UPDATE))
    pages = {
        "vote": client.get("/priorities/rounds/sickle-cell-research-priorities/vote"),
        "update": client.get(f"/updates/{update.slug}"),
        "home": client.get("/"),
        "results": client.get("/priorities/rounds/maternity-research-priorities/results"),
    }
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert 'data-testid="translation-coming"' not in page, name
        assert 'data-testid="machine-label"' not in page, name
        share = arabic_share(visible_text(page))
        assert share >= 0.8, (name, share)
    assert "<strong>70 منٹ سے زیادہ</strong>" in pages["update"].get_data(as_text=True)

    apna = db.session.scalar(select(Organisation).where(
        Organisation.slug == "apna-health-forum"))
    audience = db.session.scalar(select(Audience).where(
        Audience.organisation_id == apna.id))
    period, _until = digests.current_period(audience, utcnow())
    edition = digests.prepare_edition(audience.id, period)
    version = edition.version("ur")
    assert version.missing_translations == []
    html, _text = personalise(version, "Nasreen", {
        "manage": "https://feedback.example/m", "unsubscribe": "https://feedback.example/u"})
    assert arabic_share(visible_text(html)) >= 0.8


def test_content_the_demo_leaves_untranslated_falls_back_saying_so(app, client):
    from feedback.updates.models import Update

    seed()
    db.session.commit()
    client.get("/language?code=ur")
    diabetes = db.session.scalar(select(Update).where(
        Update.title == "Diabetes foot checks moved to evenings and weekends"))
    page = client.get(f"/updates/{diabetes.slug}").get_data(as_text=True)
    assert "ذیابیطس میں پیروں کی جانچ اب شام اور ہفتے کے آخر میں" in page  # the title
    assert '<p lang="en" dir="ltr">Foot-check clinics now run two evenings a week' in page
    assert 'data-testid="translation-coming"' in page
    therapies = db.session.scalar(select(Update).where(
        Update.title == "Talking therapies now offered in Tamil, Gujarati and Somali"))
    page = client.get(f"/updates/{therapies.slug}").get_data(as_text=True)
    assert 'data-testid="machine-label"' in page  # demo machine drafts, labelled
