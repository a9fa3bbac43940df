"""Translators review their own organisation's content only, approvals are audited, and
approved text passes the same checks as machine text: numbers, links and formatting must
match the source unless a second reviewer approves another person's draft."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.translation import services
from feedback.translation.models import SegmentStatus, TranslationSegment
from feedback.translation.segments import hash_segment
from feedback.translation.tasks import translate_pending

WAIT = "Half of people waited more than 70 minutes for pain relief."


@pytest.fixture
def app_config(libretranslate):
    return {"LANGUAGES": "en,ur", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key"}


@pytest.fixture
def two_trusts(make_org):
    first = make_org(name="Riverside Hospitals", description=WAIT)
    second = make_org(name="Pennine Maternity",
                      description="Read [the audit](https://example.org/audit) first.")
    db.session.commit()
    translate_pending()
    return first, second


def _row(source: str) -> TranslationSegment:
    return db.session.scalar(select(TranslationSegment).where(
        TranslationSegment.source_hash == hash_segment(source),
        TranslationSegment.target_language == "ur"))


def test_a_translator_from_one_organisation_cannot_approve_anothers_segment(
        two_trusts, make_translator, sign_in_as):
    _riverside, pennine = two_trusts
    translator = make_translator("ur", org=pennine)
    segment = _row(WAIT)
    before = (segment.status, segment.text)
    response = sign_in_as(translator).post(f"/translation/review/ur/{segment.id}", data={
        f"s{segment.id}-text": "آدھے لوگوں نے 70 منٹ سے زیادہ انتظار کیا۔", "action": "approve"})
    assert response.status_code == 403
    db.session.expire_all()
    assert (segment.status, segment.text) == before
    # Their queue holds their own organisation's content only.
    queue = services.review_queue("ur", user=translator).items
    assert {row.source_text for row in queue} == {
        "Pennine Maternity", 'Read <a href="https://example.org/audit">the audit</a> first.'}
    assert services.queue_counts(translator) == {"ur": 2}


def test_platform_content_needs_the_platform_admins_grant(two_trusts, make_translator,
                                                          make_user):
    from feedback.updates.models import Term, TermKind

    db.session.add(Term(kind=TermKind.TOPIC, slug="sickle-cell", name="Sickle cell"))
    db.session.commit()
    translate_pending()
    topic = _row("Sickle cell")
    translator = make_translator("ur", org=two_trusts[0])
    with pytest.raises(PermissionDenied):
        services.review_segment(translator, topic, "سکل سیل", approve=True)
    with pytest.raises(PermissionDenied):
        services.grant_platform_translator(translator, translator, ["ur"])
    services.grant_platform_translator(make_user(role="admin"), translator, ["ur"])
    services.review_segment(translator, topic, "سکل سیل", approve=True)
    db.session.commit()
    assert topic.status == SegmentStatus.APPROVED


def test_a_changed_number_is_refused_naming_the_difference(two_trusts, make_translator,
                                                           sign_in_as):
    translator = make_translator("ur", org=two_trusts[0])
    segment = _row(WAIT)
    before = (segment.status, segment.text)
    response = sign_in_as(translator).post(f"/translation/review/ur/{segment.id}", data={
        f"s{segment.id}-text": "آدھے لوگوں نے 0 منٹ سے زیادہ انتظار کیا۔", "action": "approve"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "In the original: 70. In the translation instead: 0." in page
    db.session.expire_all()
    assert (segment.status, segment.text) == before
    # Eastern Arabic digits with the same value are the same number.
    services.review_segment(translator, segment, "آدھے لوگوں نے ۷۰ منٹ سے زیادہ انتظار کیا۔",
                            approve=True)
    assert segment.status == SegmentStatus.APPROVED


def test_a_new_link_is_refused(two_trusts, make_translator):
    translator = make_translator("ur", org=two_trusts[1])
    segment = _row('Read <a href="https://example.org/audit">the audit</a> first.')
    with pytest.raises(ValidationError) as refused:
        services.review_segment(translator, segment, 'پہلے <a href="https://example.org/audit">'
                                'آڈٹ</a> پڑھیں، اور https://elsewhere.example دیکھیں۔',
                                approve=True)
    assert "https://elsewhere.example" in refused.value.message
    with pytest.raises(ValidationError) as refused:
        services.review_segment(translator, segment, 'پہلے <a href="https://evil.example">'
                                'آڈٹ</a> پڑھیں۔', approve=True)
    assert "https://evil.example" in refused.value.message
    with pytest.raises(ValidationError):
        services.review_segment(translator, segment, "پہلے آڈٹ <strong>پڑھیں</strong>۔",
                                approve=True)


def test_a_second_reviewer_can_approve_a_difference_and_approvals_are_audited(
        two_trusts, make_translator, make_user, sign_in_as):
    riverside = two_trusts[0]
    first = make_translator("ur", org=riverside)
    second = make_user(org=riverside, org_role="editor")
    admin = next(m.user for m in riverside.memberships if m.role.value == "admin")
    services.grant_translator(admin, riverside, second, ["ur"])
    segment = _row(WAIT)
    machine_text = segment.text
    # "Half" written as a number: a real difference a person may mean.
    draft = "50% لوگوں نے 70 منٹ سے زیادہ انتظار کیا۔"
    services.review_segment(first, segment, draft, approve=False)
    db.session.commit()
    with pytest.raises(ValidationError):  # the author cannot be their own second reviewer
        services.review_segment(first, segment, draft, approve=True)
    page = sign_in_as(second).get("/translation/review/ur").get_data(as_text=True)
    assert "In the original: -. In the translation instead: 50." in page
    response = sign_in_as(second).post(f"/translation/review/ur/{segment.id}", data={
        f"s{segment.id}-text": draft, "action": "approve"})
    assert response.status_code == 302
    db.session.expire_all()
    assert segment.status == SegmentStatus.APPROVED and segment.approved_by_id == second.id
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["translation.draft", "translation.approved"]))
        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("translation.draft", first.id),
                                                       ("translation.approved", second.id)]
    approval = events[-1]
    assert approval.details["before"] == {"text": draft, "status": "needs_review"}
    assert approval.details["after"] == {"text": draft, "status": "approved"}
    assert approval.details["organisations"] == [riverside.id]
    assert approval.details["differences"] == ["numbers"]
    assert events[0].details["before"]["text"] == machine_text
    assert approval.created_at is not None


def test_commands_record_owners_of_older_content_and_grant_platform_translators(
        app, two_trusts, make_user):
    from sqlalchemy import delete

    from feedback.translation.models import SegmentOwner, TranslatorGrant

    db.session.execute(delete(SegmentOwner))  # content saved before owners were recorded
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["translation-owners"])
    assert result.exit_code == 0 and '"owners_added": 4' in result.output
    assert services.segment_owners(hash_segment(WAIT)) == {two_trusts[0].id}
    person = make_user(email="reviewer@example.org")
    result = runner.invoke(args=["grant-platform-translator", "reviewer@example.org", "ur"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(TranslatorGrant.organisation_id).where(
        TranslatorGrant.user_id == person.id)) is None
    assert runner.invoke(args=["grant-platform-translator", "reviewer@example.org",
                               "xx"]).exit_code != 0
