"""Updates that answer a research priority: the editor's choice, the journey page, the
emails to the priority's followers, and the OpenAPI document."""

from __future__ import annotations

from html import escape

import pytest

from feedback.core.validation import ValidationError
from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.priorities import services
from feedback.updates import services as updates
from tests.updates.conftest import update_data


@pytest.fixture
def dataset(make_dataset, trust):
    return make_dataset(trust, name="Sickle cell emergency attendances")


@pytest.fixture
def results_round(make_round):
    return make_round("responses")


# The updates package's own forms still pass (value, label) tuples, which WTForms 3.3
# deprecates; its pages are exercised here, so that warning (not ours) is let through.
THEIR_FORMS_WARNING = pytest.mark.filterwarnings(
    "ignore:Passing SelectField choices as tuples:DeprecationWarning")


def _priority(round_):
    return services.get_priority(services.current_shortlist(round_).entries[0].priority_id)


@THEIR_FORMS_WARNING
def test_a_published_update_answering_a_priority_emails_its_followers(
        client, results_round, make_user, organiser, trust, dataset, outbox):
    priority = _priority(results_round)
    follower = make_user(email="follows-priority@example.org")
    services.follow_priority(follower, priority)
    db.session.commit()
    update = updates.create_update(organiser, trust, update_data(
        dataset, answers_priority_id=str(priority.id)))
    updates.publish_update(organiser, update)
    db.session.commit()
    assert deliver_due() == 1
    message = outbox.last()
    assert message["To"] == "follows-priority@example.org"
    assert message["Subject"] == f"News about a research priority you follow: {priority.title}"
    assert priority.title in outbox.text(message) and update.title in outbox.text(message)
    journey = client.get(f"/priorities/{priority.id}").get_data(as_text=True)
    assert f"/updates/{update.slug}" in journey and escape(update.title) in journey
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert 'data-testid="answers-priority"' in page and priority.title in page


def test_draft_updates_are_not_on_the_journey(client, results_round, organiser, trust,
                                              dataset):
    priority = _priority(results_round)
    draft = updates.create_update(organiser, trust, update_data(
        dataset, title="Unpublished findings", answers_priority_id=priority.id))
    db.session.commit()
    assert draft.answers_priority_id == priority.id
    assert "Unpublished findings" not in client.get(
        f"/priorities/{priority.id}").get_data(as_text=True)


def test_only_shortlisted_priorities_of_open_rounds_can_be_linked(make_round, organiser,
                                                                 trust, dataset):
    draft_round = make_round("draft", title="Draft round")
    with pytest.raises(ValidationError, match="research priority"):
        updates.create_update(organiser, trust, update_data(
            dataset, answers_priority_id=_priority(draft_round).id))
    with pytest.raises(ValidationError, match="research priority"):
        updates.create_update(organiser, trust, update_data(dataset,
                                                            answers_priority_id=999_999))


@THEIR_FORMS_WARNING
def test_the_editor_offers_priorities(results_round, sign_in_as, organiser, trust):
    client = sign_in_as(organiser)
    page = client.get(f"/organisations/{trust.slug}/updates/new").get_data(as_text=True)
    assert "Research priority this answers" in page
    assert _priority(results_round).title in page


def test_openapi_document_lists_the_priority_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/rounds", "/rounds/{slug}", "/rounds/{slug}/priorities",
                 "/rounds/{slug}/results", "/priorities/{priority_id}"):
        assert "get" in document["paths"][path]
    assert "PriorityResults" in document["components"]["schemas"]
