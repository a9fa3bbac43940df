"""Every figure on the accountability pages, from known inputs to known outputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedback.accountability import services
from feedback.core.suppression import PublishedCount
from tests.accountability.conftest import NOW, at


def test_quarter_labels():
    assert services.quarter_of(datetime(2026, 1, 1, tzinfo=UTC)) == "2026 Q1"
    assert services.quarter_of(datetime(2026, 12, 31, tzinfo=UTC)) == "2026 Q4"
    assert services.quarters_between("2025 Q3", "2026 Q2") == [
        "2025 Q3", "2025 Q4", "2026 Q1", "2026 Q2"]


def test_per_quarter_counts_empty_quarters_as_zero():
    moments = [at(2025, 11, 1), at(2026, 5, 1), at(2026, 5, 2)]
    assert services.per_quarter(moments) == [("2025 Q4", 1), ("2026 Q1", 0), ("2026 Q2", 2)]
    assert services.per_quarter([]) == []


@pytest.mark.parametrize(("days", "expected"), [
    ([], None),  # nothing to take the middle of
    ([4], 4.0),
    ([1, 9, 3], 3.0),
    ([1, 2, 3, 10], 2.5),
    ([0.25, 0.5], 0.4),  # 0.375 to one decimal
])
def test_median_days(days, expected):
    start = at(2026, 1, 1)
    pairs = [(start, start + (at(2026, 1, 2) - start) * d) for d in days]
    assert services.median_days(pairs) == expected


@pytest.mark.parametrize(("part", "whole", "expected"),
                         [(0, 0, None), (0, 3, 0), (2, 3, 67), (3, 3, 100)])
def test_share(part, whole, expected):
    assert services.share(part, whole) == expected


def test_organisation_record(scenario):
    record = services.organisation_record(scenario.trust, now=NOW)
    assert record.updates_published == 3  # the draft is not counted
    assert record.updates_per_quarter == [("2026 Q1", 2), ("2026 Q2", 0), ("2026 Q3", 1)]
    assert [(d.name, d.updates) for d in record.datasets] == [
        ("Riverside patient records", 3), ("Hospital Episode Statistics", 1)]

    assert record.priorities == 3
    assert record.priorities_with_response == 2
    assert record.response_share == 67
    assert record.median_days_to_response == 15.0  # 10 and 20 days after results
    assert record.voters == PublishedCount(10)  # 9 ballots, rounded to the nearest 5

    assert record.questions == 3  # the one waiting for moderation is not public
    assert record.questions_answered == 2
    assert record.answered_share == 67
    assert record.median_days_to_answer == 6.0  # 2 and 10 days
    assert record.askers == PublishedCount(None)  # 3 people: suppressed
    assert str(record.askers) == "*"

    promised = record.promised
    assert [(p.title, p.status_label, p.days_waited) for p in promised] == [
        ("Priority 1", "Will be researched", 82), ("Priority 2", "Research in progress", 72)]
    assert [u.slug for u in promised[0].updates] == ["july"]
    assert promised[1].updates == []


def test_days_to_respond_count_from_the_results_whatever_dates_were_planned(
        app, make_org, make_user):
    """A round with no planned close, moved to results by hand, still has a figure."""
    from feedback.extensions import db
    from feedback.priorities import services as priorities
    from feedback.priorities.models import (
        Phase,
        Priority,
        PriorityRound,
        ShortlistEntry,
        ShortlistVersion,
    )

    trust = make_org(name="Unplanned Trust", slug="unplanned")
    organiser = make_user(org=trust, org_role="editor")
    round_ = PriorityRound(slug="unplanned", title="Unplanned", scope="Scope",
                           phase=Phase.VOTING, organisations=[trust])
    priority = Priority(round=round_, title="Priority A")
    db.session.add_all([round_, priority])
    db.session.flush()
    version = ShortlistVersion(round_id=round_.id, number=1)
    version.entries = [ShortlistEntry(priority_id=priority.id, position=1, title="A")]
    db.session.add(version)
    priorities.set_phase(organiser, round_, Phase.RESULTS)
    assert round_.voting_closes_at is None and round_.results_published_at is not None
    first_results = round_.results_published_at
    priorities.set_phase(organiser, round_, Phase.RESPONSES)
    assert round_.results_published_at == first_results  # set once, never moved on
    round_.results_published_at = at(2026, 4, 1)
    priority.response_status, priority.response_text = "will_research", "We will."
    priority.response_published_at = at(2026, 4, 8)
    db.session.commit()
    assert services.organisation_record(trust, now=NOW).median_days_to_response == 7.0


def test_an_organisation_with_nothing_yet(scenario):
    record = services.organisation_record(scenario.other, now=NOW)
    assert record.is_empty
    assert record.updates_per_quarter == []
    assert record.response_share is None and record.median_days_to_response is None
    assert record.answered_share is None and record.median_days_to_answer is None
    assert str(record.voters) == "0" and str(record.askers) == "0"
    assert record.promised == []


def test_answering_another_round_counts_as_answered(scenario, make_org):
    from feedback.extensions import db
    from feedback.updates.models import Update

    research = make_org(kind="research", name="Midlands Research")
    db.session.add(Update(organisation_id=research.id, slug="study", title="Study",
                          summary="Done", kind="research_result", status="published",
                          published_at=at(2026, 4, 1),
                          answers_priority_id=scenario.priorities[1].id))
    db.session.commit()
    record = services.organisation_record(research, now=NOW)
    assert record.priorities == 1 and record.response_share == 100
    assert [p.title for p in record.promised] == ["Priority 2"]


def test_platform_records_are_in_name_order(scenario):
    names = [r.organisation.name for r in services.platform_records(now=NOW)]
    assert names == sorted(names)


def test_the_data_dictionary_defines_days_to_respond(client):
    """The open-data dictionary says where "days to respond" starts and ends."""
    html = client.get("/open-data").get_data(as_text=True)
    responses = html.split("results_published_at", 1)[1]
    assert ("Days to respond, on the accountability pages, count from this moment to "
            "response_published_at.") in " ".join(responses.split())
