"""List, update, feed and API pages run a fixed number of SQL queries however many
results they show: no N+1. Counted with SQLAlchemy engine events."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from feedback.extensions import db
from feedback.updates import questions


@contextmanager
def count_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def queries_for(client, path: str) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements)


def add_updates(make_update, make_dataset, make_service, make_user, editor, trust, start,
                count):
    made = []
    for number in range(start, start + count):
        extra_dataset = make_dataset(trust, name=f"Dataset {number}")
        extra_service = make_service(trust, name=f"Service {number}")
        update = make_update(title=f"Update {number}", topics=[f"Topic {number}", "Shared"],
                             areas=[f"Area {number}"], community_tags=[f"People {number}"],
                             evidence_links=[{"url": f"https://example.org/{number}"}],
                             datasets=None)
        update.datasets.append(extra_dataset)
        update.services.append(extra_service)
        question = questions.ask_question(make_user(), update, f"Question {number}?")
        questions.moderate_question(editor, question, True)
        questions.answer_question(editor, question, f"Answer {number}.")
        db.session.commit()
        made.append(update)
    return made


@pytest.mark.parametrize("language", ["en", "ur"])
def test_pages_run_the_same_number_of_queries_for_few_and_many_results(
        client, make_update, make_dataset, make_service, make_user, editor, trust, language):
    # In Urdu every translatable text is looked up too: one query per page, not per item.
    client.get(f"/language?code={language}")
    first = add_updates(make_update, make_dataset, make_service, make_user, editor, trust,
                        0, 2)[0]
    paths = ["/", "/updates", "/updates?topic=shared", "/updates?q=update",
             "/updates.atom", "/updates.atom?topic=shared", "/api/v1/updates",
             "/api/v1/updates?topic=shared", f"/api/v1/updates/{first.id}",
             f"/updates/{first.slug}", f"/organisations/{trust.slug}",
             f"/updates.atom?lang={language}", f"/api/v1/updates?lang={language}",
             f"/api/v1/updates/{first.id}?lang={language}", "/organisations",
             "/datasets", "/services"]
    few = {path: queries_for(client, path) for path in paths}

    add_updates(make_update, make_dataset, make_service, make_user, editor, trust, 2, 10)
    for number in range(4):  # more questions and answers on the same update
        question = questions.ask_question(make_user(), first, f"More {number}?")
        questions.moderate_question(editor, question, True)
        questions.answer_question(editor, question, f"More answers {number}.")
    db.session.commit()
    many = {path: queries_for(client, path) for path in paths}
    assert many == few
    assert max(many.values()) <= 12, many
