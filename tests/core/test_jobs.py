"""The ``@job`` helper: a job's work is committed when it returns and rolled back when
it raises."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.core.jobs import job
from feedback.extensions import db
from feedback.organisations import services
from feedback.organisations.models import Organisation


def _names() -> set[str]:
    db.session.rollback()  # only what was committed is left
    return set(db.session.scalars(select(Organisation.name)))


def test_a_job_that_returns_is_committed(app):
    @job
    def add(name: str) -> str:
        return services.create_organisation(None, {"kind": "nhs", "name": name}).name

    assert add("Kept Trust") == "Kept Trust"
    assert add.__name__ == "add"  # the scheduler and its figures name jobs by function
    assert _names() == {"Kept Trust"}


def test_a_job_that_raises_is_rolled_back(app):
    @job
    def add_then_fail() -> None:
        services.create_organisation(None, {"kind": "nhs", "name": "Lost Trust"})
        db.session.flush()
        raise RuntimeError("the job failed part way")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert _names() == set()


def test_the_outbox_file_writer_takes_messages_and_raw_bytes(app, outbox):
    from feedback.core.mail import build_message, write_to_outbox

    write_to_outbox(build_message("a@example.org", "Built", "Hello"))
    write_to_outbox(bytes(build_message("b@example.org", "Raw", "Hello")))
    assert sorted(m["To"] for m in outbox.messages()) == ["a@example.org", "b@example.org"]
