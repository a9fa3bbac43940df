"""Org admins grant the translator role; translators approve or correct drafts, and
every approval records who and when."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.translation import services
from feedback.translation.models import SegmentStatus, TranslationSegment
from feedback.translation.tasks import translate_pending


@pytest.fixture
def app_config(libretranslate):
    return {"LANGUAGES": "en,ur,so", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key"}


@pytest.fixture
def drafted(translatable, make_org):
    make_org(name="Riverside", description="Pain relief within **30 minutes**.")
    translate_pending()
    return db.session.scalars(select(TranslationSegment).where(
        TranslationSegment.target_language == "ur").order_by(TranslationSegment.id)).all()


def test_org_admins_grant_the_role_to_their_own_people_only(make_user, make_org):
    partner = make_org(kind="vcse")
    admin = make_user(org=partner, org_role="admin")
    editor = make_user(org=partner, org_role="editor")
    outsider = make_user()
    services.grant_translator(admin, partner, editor, ["ur", "so"])
    db.session.commit()
    assert [lang.code for lang in services.reviewable_languages(editor)] == ["ur", "so"]
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "translation.grant")) == "translation.grant"
    with pytest.raises(ValidationError):
        services.grant_translator(admin, partner, outsider, ["ur"])
    with pytest.raises(ValidationError):
        services.grant_translator(admin, partner, editor, ["xx"])
    with pytest.raises(PermissionDenied):
        services.grant_translator(editor, partner, editor, ["ur"])


def test_only_translators_for_the_language_can_review(drafted, make_translator, make_user,
                                                        sign_in_as):
    somali_translator = make_translator("so")
    with pytest.raises(PermissionDenied):
        services.review_segment(somali_translator, drafted[0], "x", approve=True)
    assert sign_in_as(somali_translator).get("/translation/review/ur").status_code == 403
    assert sign_in_as(make_user()).get("/translation/review").status_code == 403


def test_review_queue_shows_source_and_draft_side_by_side(drafted, make_translator,
                                                          sign_in_as, riverside):
    client = sign_in_as(make_translator("ur", org=riverside))
    page = client.get("/translation/review/ur").get_data(as_text=True)
    assert "Pain relief within <strong>30 minutes</strong>." in page  # the source, shown
    assert "[ur] Pain relief within &lt;strong&gt;30 minutes&lt;/strong&gt;." in page  # draft
    assert 'lang="ur" dir="rtl"' in page
    assert "Machine draft" in page


def test_approving_with_an_edit_records_who_and_when(drafted, make_translator, sign_in_as,
                                                     riverside):
    translator = make_translator("ur", org=riverside)
    client = sign_in_as(translator)
    segment = drafted[1]
    response = client.post(f"/translation/review/ur/{segment.id}", data={
        f"s{segment.id}-text": "درد سے نجات <strong>30 منٹ</strong> میں۔",
        "action": "approve"})
    assert response.status_code == 302
    db.session.refresh(segment)
    assert segment.status == SegmentStatus.APPROVED
    assert segment.text == "درد سے نجات <strong>30 منٹ</strong> میں۔"
    assert segment.origin == "person"
    assert segment.approved_by_id == translator.id and segment.approved_at is not None
    assert segment.edited_by_id == translator.id


def test_saving_a_draft_waits_for_approval_and_bad_input_is_refused(drafted, make_translator,
                                                                     sign_in_as, riverside):
    client = sign_in_as(make_translator("ur", org=riverside))
    segment = drafted[0]
    client.post(f"/translation/review/ur/{segment.id}",
                data={f"s{segment.id}-text": "ریور سائیڈ", "action": "draft"})
    db.session.refresh(segment)
    assert segment.status == SegmentStatus.NEEDS_REVIEW and segment.approved_at is None
    response = client.post(f"/translation/review/ur/{segment.id}",
                           data={f"s{segment.id}-text": "  ", "action": "approve"})
    assert response.status_code == 400
    assert "Enter the translation." in response.get_data(as_text=True)


def test_translators_page_for_org_admins(make_user, make_org, sign_in_as):
    partner = make_org(kind="vcse", name="Apna Health Forum")
    admin = make_user(org=partner, org_role="admin")
    editor = make_user(org=partner, org_role="editor", name="Forum Volunteer")
    client = sign_in_as(admin)
    page = client.get(f"/organisations/{partner.slug}/translators").get_data(as_text=True)
    assert "Forum Volunteer" in page and "اردو" in page
    response = client.post(f"/organisations/{partner.slug}/translators",
                           data={"user_id": editor.id, "languages": ["ur"]})
    assert response.status_code == 302
    grant = services.list_grants(partner.id)[0]
    assert (grant.user_id, grant.language) == (editor.id, "ur")
    client.post(f"/organisations/{partner.slug}/translators/{grant.id}/revoke")
    assert services.list_grants(partner.id) == []
    assert sign_in_as(editor).get(f"/organisations/{partner.slug}/translators").status_code == 403


def test_translators_and_org_admins_find_their_pages_from_the_languages_page(
        make_translator, make_user, make_org, sign_in_as):
    translator = make_translator("ur")
    page = sign_in_as(translator).get("/languages").get_data(as_text=True)
    assert 'href="/translation/review"' in page
    partner = make_org(kind="vcse", name="Harambee")
    admin = make_user(org=partner, org_role="admin")
    page = sign_in_as(admin).get("/languages").get_data(as_text=True)
    assert f'href="/organisations/{partner.slug}/translators"' in page


def test_demo_seed_grants_partner_translators(app):
    from feedback.demo import seed
    from feedback.translation.models import TranslatorGrant

    seed()
    db.session.commit()
    languages = set(db.session.scalars(select(TranslatorGrant.language)))
    assert {"ur", "so", "pa-Arab"} <= languages
    assert seed() == 0  # idempotent


def test_admins_see_provider_usage_against_the_budget(app, drafted, make_user, sign_in_as):
    app.config["TRANSLATION_BUDGETS"] = "libretranslate=500000"
    admin = make_user(role="admin")
    page = sign_in_as(admin).get("/translation/review").get_data(as_text=True)
    table = page.split('data-testid="provider-usage"', 1)[1].split("</table>", 1)[0]
    assert "libretranslate" in table and "500,000" in table
    characters = sum(len(s.source_text) for s in drafted)
    assert f"{characters:,}" in table
