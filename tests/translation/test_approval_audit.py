"""Approving a translation is audited: who, which language (issue 13, item 16)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.translation.models import TranslationSegment
from feedback.translation.tasks import translate_pending


@pytest.fixture
def app_config(libretranslate):
    return {"LANGUAGES": "en,ur", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key"}


def test_approving_a_translation_is_audited_and_saving_a_draft_is_not(
        translatable, make_org, make_translator, sign_in_as):
    riverside = make_org(name="Riverside", description="Pain relief within **30 minutes**.")
    translate_pending()
    first, second = db.session.scalars(select(TranslationSegment).where(
        TranslationSegment.target_language == "ur").order_by(TranslationSegment.id)).all()[:2]
    translator = make_translator("ur", org=riverside)  # its own organisation's content
    client = sign_in_as(translator)
    client.post(f"/translation/review/ur/{first.id}",
                data={f"s{first.id}-text": "ریور سائیڈ", "action": "draft"})
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "translation.approved")).all() == []
    client.post(f"/translation/review/ur/{second.id}",
                data={f"s{second.id}-text": "<strong>30 منٹ</strong> کے اندر درد سے نجات۔",
                      "action": "approve"})  # the same number and formatting
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "translation.approved")).all()
    assert (event.actor_id, event.target_type, event.target_id) == (
        translator.id, "TranslationSegment", second.id)
    assert event.details["language"] == "ur"

