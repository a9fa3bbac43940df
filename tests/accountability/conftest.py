"""A known record: one trust with dated updates, questions, answers and a priority round
whose figures are worked out by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from feedback.extensions import db

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@dataclass
class Scenario:
    trust: object
    other: object
    updates: list
    priorities: list
    round: object


def _update(org, slug, published_at, datasets, status="published", **extra):
    from feedback.updates.models import Update

    update = Update(organisation_id=org.id, slug=slug, title=f"Update {slug}",
                    summary=f"Summary of {slug}", kind="finding", status=status,
                    published_at=published_at, datasets=list(datasets), **extra)
    db.session.add(update)
    return update


def _question(update, author, asked, answered=None, status="published"):
    from feedback.updates.models import Answer, Question

    question = Question(update=update, author_id=author.id if author else None,
                        body="Why?", status=status, created_at=asked)
    if answered is not None:
        question.answer = Answer(body="Because.", created_at=answered)
    db.session.add(question)
    return question


@pytest.fixture
def scenario(app, make_org, make_dataset, make_service, make_user) -> Scenario:
    from feedback.priorities.models import (
        Ballot,
        BallotMethod,
        Phase,
        Priority,
        PriorityRound,
        ResponseStatus,
        ShortlistEntry,
        ShortlistVersion,
    )

    trust = make_org(name="Riverside Hospitals", slug="riverside")
    other = make_org(kind="vcse", name="Quiet Partner", slug="quiet-partner")
    records = make_dataset(trust, name="Riverside patient records")
    hes = make_dataset(trust, name="Hospital Episode Statistics")
    emergency = make_service(trust, name="Emergency department", area="Birmingham")
    people = [make_user() for _ in range(3)]

    round_ = PriorityRound(slug="sickle-cell", title="Sickle cell priorities",
                           scope="What should research look at?", phase=Phase.RESPONSES,
                           voting_closes_at=at(2026, 2, 1), results_published_at=at(2026, 3, 1),
                           organisations=[trust])  # results came a month after the plan
    db.session.add(round_)
    priorities = [Priority(round=round_, title=f"Priority {n}") for n in (1, 2, 3)]
    db.session.add_all(priorities)
    db.session.flush()
    version = ShortlistVersion(round_id=round_.id, number=1)
    version.entries = [ShortlistEntry(priority_id=p.id, position=n, title=p.title)
                       for n, p in enumerate(priorities, start=1)]
    db.session.add(version)
    # Results 1 March; responses 10 days and 20 days later; the third has none.
    priorities[0].response_status = ResponseStatus.WILL_BE_RESEARCHED
    priorities[0].response_published_at = at(2026, 3, 11)
    priorities[0].response_text = "We will fund a study."
    priorities[1].response_status = ResponseStatus.IN_PROGRESS
    priorities[1].response_published_at = at(2026, 3, 21)
    for n in range(9):
        db.session.add(Ballot(round_id=round_.id, voter_key=f"voter-{n}",
                              method=BallotMethod.ONLINE))

    updates = [
        _update(trust, "january", at(2026, 1, 15), [records, hes]),
        _update(trust, "february", at(2026, 2, 1), [records], services=[emergency]),
        # Nothing in Q2; one in Q3, answering the first priority.
        _update(trust, "july", at(2026, 7, 10), [records], answers_priority=priorities[0]),
        _update(trust, "draft", None, [hes], status="draft", services=[emergency]),
    ]
    # Answered after 2 and 10 days, one unanswered, one still waiting for moderation.
    _question(updates[0], people[0], at(2026, 2, 1), at(2026, 2, 3))
    _question(updates[0], people[1], at(2026, 2, 1), at(2026, 2, 11))
    _question(updates[1], people[2], at(2026, 2, 5))
    _question(updates[1], people[2], at(2026, 2, 6), status="pending")
    db.session.commit()
    return Scenario(trust, other, updates, priorities, round_)
