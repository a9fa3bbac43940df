"""When each scheduled job last ran, written by the scheduler, read by ``/metrics``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.core.models import UTCDateTime
from feedback.extensions import db


class SchedulerRun(db.Model):
    __tablename__ = "scheduler_runs"

    job_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(120), default="")  # host:pid that ran it
