"""The scheduler's settings, its jobs, and the lock that keeps it to one process."""

from __future__ import annotations

from feedback.scheduler import JOBS, SchedulerLock, build_scheduler, resolve


def test_jobs_are_importable_and_run_once_at_a_time_with_hours_of_grace(app):
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start(paused=True)  # defaults apply when jobs reach the job store
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert {"create-due-editions", "deliver-outbox", "retry-failures",
            "purge-unconfirmed"} <= set(jobs)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 3600
        assert job.next_run_time is not None  # none is paused
    for _job_id, path, _trigger in JOBS:
        if not path.startswith("feedback.priorities"):
            assert callable(resolve(path))


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
