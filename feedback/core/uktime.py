"""UK local time: what people type and read is Europe/London (British Summer Time
included); what is stored and compared is UTC. zoneinfo knows the clock changes, so a
weekly "Monday 09:00" is 08:00 UTC in summer and 09:00 UTC in winter. An hour that does
not exist (01:30 on the last Sunday of March) is read as the hour before the change; an
hour that happens twice (01:30 on the last Sunday of October) as the first of the two."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def to_uk(moment: datetime) -> datetime:
    """A stored (UTC) moment as UK local time. Naive values are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK)


def uk_to_utc(local: datetime) -> datetime:
    """A UK wall-clock time (naive, or already in UK time) as UTC."""
    return local.replace(tzinfo=UK).astimezone(UTC)


def format_uk(moment: datetime) -> str:
    """A moment as people in the UK read it, in the current language, saying whether it
    is British Summer Time or Greenwich Mean Time: "Monday 30 March 2026, 09:00 (British
    Summer Time)"."""
    from babel.dates import format_datetime
    from flask_babel import get_locale
    from flask_babel import gettext as _

    local = to_uk(moment)
    text = format_datetime(local, "EEEE d MMMM y, HH:mm", tzinfo=UK,
                           locale=get_locale() or "en")
    zone = _("British Summer Time") if local.dst() else _("Greenwich Mean Time")
    return _("%(when)s (%(zone)s)", when=text, zone=zone)
