"""The scheduler's settings, its jobs, and the lock that keeps it to one process."""

from __future__ import annotations

import pytest

from feedback import scheduler as scheduler_module
from feedback.scheduler import MissingJob, SchedulerLock, build_scheduler, resolve

# Every job the scheduler must run, with its trigger: a job that disappears fails here.
EXPECTED_JOBS = {
    "create-due-editions": ("feedback.digests.tasks:create_due_editions", "interval[0:01:00]"),
    "deliver-outbox": ("feedback.delivery.tasks:deliver_outbox", "interval[0:00:15]"),
    "retry-failures": ("feedback.delivery.tasks:retry_failures", "interval[0:05:00]"),
    "purge-unconfirmed": ("feedback.subscriptions.tasks:purge_unconfirmed",
                          "interval[1:00:00]"),
    "advance-round-phases": ("feedback.priorities.tasks:advance_round_phases",
                             "interval[0:05:00]"),
    "translate-pending": ("feedback.translation.tasks:translate_pending",
                          "interval[0:10:00]"),
    "run-contact-imports": ("feedback.subscriptions.tasks:run_contact_imports",
                            "interval[0:00:05]"),
    "purge-personal-data": ("feedback.privacy.tasks:purge_personal_data",
                            "interval[1:00:00]"),
}


def _scheduled_jobs(app) -> dict:
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start(paused=True)  # defaults apply when jobs reach the job store
    try:
        return {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_every_job_is_scheduled_with_its_trigger_once_at_a_time_with_hours_of_grace(app):
    jobs = _scheduled_jobs(app)
    assert {job_id: (job.args[1], str(job.trigger)) for job_id, job in jobs.items()} == (
        EXPECTED_JOBS)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 3600
        assert job.next_run_time is not None  # none is paused
        assert callable(resolve(job.args[1]))


@pytest.mark.parametrize("app_config", [{"EDITIONS_CHECK_SECONDS": 5}])
def test_how_often_editions_are_checked_is_a_setting(app):
    assert str(_scheduled_jobs(app)["create-due-editions"].trigger) == "interval[0:00:05]"


@pytest.mark.parametrize(("path", "message"), [
    ("feedback.no_such_domain.tasks:run", "no module feedback.no_such_domain"),
    ("feedback.delivery.tasks:no_such_job", "has no function no_such_job"),
])
def test_a_missing_job_stops_the_scheduler_at_start(app, monkeypatch, path, message):
    jobs = (*scheduler_module.JOBS, ("missing", path, {"trigger": "interval", "minutes": 1}))
    monkeypatch.setattr(scheduler_module, "JOBS", jobs)
    with pytest.raises(MissingJob, match=message):
        build_scheduler(app, blocking=False)


def test_a_second_lock_holder_has_to_wait(app):
    first, second = SchedulerLock(app), SchedulerLock(app)
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        first.release()
        assert second.try_acquire() is True
    finally:
        first.release()
        second.release()
