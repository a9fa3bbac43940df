"""Priority-round news in editions (runs when the priorities domain is installed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.core.models import utcnow
from feedback.digests import services
from feedback.extensions import db
from tests.digest_support import add_subscribers, make_audience

pytest.importorskip("feedback.priorities.models", reason="the priorities domain is not "
                    "installed on this branch")


def test_voting_results_and_responses_reach_every_audience_once(app, make_org, make_user):
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Phase

    trust = make_org(name="Riverside Hospitals")
    organiser = make_user(org=trust, org_role="editor")
    round_ = priorities.create_round(organiser, [trust], {
        "title": "Sickle cell research priorities",
        "scope": "What should research using patient data about sickle cell look at?",
        "topics": "sickle cell", "area": "Birmingham", "groups": ["patients"]})
    priority = priorities.create_priority(organiser, round_, {
        "title": "Faster pain relief", "description": "In A&E"})
    priorities.publish_shortlist(organiser, round_, [priority.id])
    round_.voting_opens_at = utcnow() - timedelta(days=3)
    round_.voting_closes_at = utcnow() - timedelta(days=1)
    round_.phase = Phase.RESULTS
    db.session.flush()
    priorities.publish_response(organiser, priority, "will_research",
                                "A study starts in the spring at two hospitals.")
    db.session.commit()

    audience = make_audience(topics=["maternity"])  # filters do not hold round news back
    add_subscribers(audience, 1)
    first = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    assert {item["kind"] for item in first.items} == {
        "round-voting", "round-results", "priority-response"}
    assert all(item["priority"] for item in first.items)
    text = first.version("en").text
    assert "Response to a research priority\n  Faster pain relief" in text
    assert "Results of the vote\n  Sickle cell research priorities" in text

    second = services.create_and_start(audience.id, "2026-W48")
    db.session.commit()
    assert second.items == []
