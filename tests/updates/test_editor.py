"""The editors' workflow on the web: draft, preview with reading age, publish, edit with a
public note, withdraw with a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.updates.models import Update, UpdateStatus


def count_updates() -> int:
    return db.session.scalar(select(func.count(Update.id)))


def form(dataset, service, **overrides) -> dict:
    data = {
        "title": "Interpreters at antenatal appointments",
        "summary": "Now we book a trained interpreter when you need one.",
        "kind": "service_change",
        "body": "We **checked** the records.",
        "what_changed": "Automatic interpreter booking.",
        "who_benefits": "Women who prefer another language.",
        "datasets": [str(dataset.id)], "services": [str(service.id)],
        "topics": "Maternity, Interpreters", "areas": "Bradford",
        "community_tags": "Urdu speakers",
        "evidence_links": "Audit report | https://example.org/audit\nhttps://example.org/2",
        "purpose": "Service evaluation.", "legal_basis": "Direct care.",
        "opt_out_applied": "not_applicable",
        "content_checked_on": "2026-10-01", "next_check_due": "2027-10-01",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_draft_preview_publish_edit_and_withdraw(login_as, editor, trust, dataset, service,
                                                 outbox):
    client = login_as(editor)
    assert client.get(f"/organisations/{trust.slug}/updates/new").status_code == 200

    preview = client.post(f"/organisations/{trust.slug}/updates/new",
                          data=form(dataset, service, action="preview"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-testid="preview"' in page
    assert "Estimated reading age of the summary" in page
    assert "<strong>checked</strong>" in page
    assert "may be hard to read" not in page
    assert count_updates() == 0  # a preview saves nothing

    hard = client.post(f"/organisations/{trust.slug}/updates/new", data=form(
        dataset, service, action="preview",
        summary="The operationalisation of multidisciplinary interpretation provision "
                "necessitated comprehensive reconfiguration of departmental methodologies."))
    assert "may be hard to read" in hard.get_data(as_text=True)

    saved = client.post(f"/organisations/{trust.slug}/updates/new", data=form(dataset, service))
    assert saved.status_code == 302
    update = db.session.scalars(select(Update)).one()
    assert update.status == UpdateStatus.DRAFT
    assert [(link.title, link.url) for link in update.evidence_links] == [
        ("Audit report", "https://example.org/audit"), ("", "https://example.org/2")]
    assert str(update.content_checked_on) == "2026-10-01"

    assert client.post(f"/updates/{update.slug}/publish").status_code == 302
    db.session.refresh(update)
    assert update.status == UpdateStatus.PUBLISHED

    # Editing a published update needs a public note, kept as a revision.
    edit = client.get(f"/updates/{update.slug}/edit").get_data(as_text=True)
    assert "Interpreters at antenatal appointments" in edit and "What changed in this edit" in edit
    missing_note = client.post(f"/updates/{update.slug}/edit",
                               data=form(dataset, service, title="Interpreters for every "
                                                                 "antenatal appointment"))
    assert missing_note.status_code == 400
    assert "Enter what changed in this edit" in missing_note.get_data(as_text=True)
    client.post(f"/updates/{update.slug}/edit", data=form(
        dataset, service, title="Interpreters for every antenatal appointment",
        change_note="Clearer title"))
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "Interpreters for every antenatal appointment" in page
    assert "Updated on" in page and "Clearer title" in page

    missing_reason = client.post(f"/updates/{update.slug}/withdraw", data={"reason": ""})
    assert missing_reason.status_code == 400
    client.post(f"/updates/{update.slug}/withdraw", data={"reason": "Figures were wrong."})
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert 'data-testid="withdrawn"' in page and "Figures were wrong." in page

    refused = client.get(f"/updates/{update.slug}/edit", follow_redirects=True)
    assert "withdrawn, so it cannot be changed" in refused.get_data(as_text=True)
    posted = client.post(f"/updates/{update.slug}/edit",
                         data=form(dataset, service, change_note="x"))
    assert posted.status_code == 303
    db.session.refresh(update)
    assert update.title == "Interpreters for every antenatal appointment"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"body": "a" * 50_001}, "must be 50,000 characters or fewer"),
    ({"summary": "a" * 301}, "must be 300 characters or fewer"),
    ({"datasets": []}, "Choose at least one dataset"),
    ({"evidence_links": "javascript:alert(1)"}, "must be a web address"),
    ({"next_check_due": "2026-01-01"}, "next check must be after"),
])
def test_bad_input_shows_the_error_summary(login_as, editor, trust, dataset, service,
                                           overrides, message):
    response = login_as(editor).post(f"/organisations/{trust.slug}/updates/new",
                                     data=form(dataset, service, **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in page
    assert count_updates() == 0


def test_drafts_can_be_deleted_but_published_updates_cannot(login_as, editor, make_update):
    client = login_as(editor)
    draft = make_update(publish=False)
    client.post(f"/updates/{draft.slug}/delete")
    assert db.session.get(Update, draft.id) is None
    published = make_update()
    response = client.post(f"/updates/{published.slug}/delete")
    assert response.status_code == 303
    assert db.session.get(Update, published.id) is not None


def test_the_dashboard_lists_drafts_for_editors_only(client, sign_in_as, editor, make_user,
                                                     make_update, trust):
    make_update(publish=False, title="Secret draft")
    sign_in_as(make_user())
    assert client.get(f"/organisations/{trust.slug}/updates").status_code == 403
    sign_in_as(editor)
    assert "Secret draft" in client.get(f"/organisations/{trust.slug}/updates").get_data(
        as_text=True)
