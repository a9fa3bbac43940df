"""Sending queued follower notifications: the delivery worker's second queue.

Each email is rendered when its batch is sent, in the recipient's language, from the
update or priority as it is then. When the batch is claimed, a notification is cancelled
instead if its recipient was deleted, their address is suppressed, they no longer follow
what it is about, or the update was withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Row, Select, select

from feedback.accounts.models import User
from feedback.core.languages import Language, enabled_languages, get_language
from feedback.core.mail import mailbox
from feedback.core.urls import external_url, request_context
from feedback.delivery.channels import Outgoing
from feedback.delivery.mime import Skeleton
from feedback.delivery.queues import Queue, domain, https
from feedback.extensions import db
from feedback.notifications.models import Notification, NotificationKind
from feedback.notifications.services import reachable
from feedback.priorities.models import Priority
from feedback.priorities.services import follower_ids as priority_follower_ids
from feedback.subscriptions.services import suppress
from feedback.translation.display import Localised, localised_text
from feedback.translation.registry import translatable_fields
from feedback.updates.models import Update
from feedback.updates.services import follower_ids as update_follower_ids
from feedback.updates.services import stop_following_url

NOTIFICATION_REFERENCE = "notification-"  # Notify receipts: notification-<id>


@dataclass
class Event:
    """What one (kind, subject) says, and who may still be told it."""

    followers: Select  # user ids
    template: str  # templates/email/<template>.txt
    subject: Callable[[LocalText], str]  # the subject line, in the current language
    context: dict[str, Any]


class LocalText:
    """Titles, summaries and responses in the recipient's language, as digests show them:
    a checked translation, or else the English original with a note, in the recipient's
    language, that a checked translation is coming (``email_text`` in
    templates/translation/_display.txt prints it). Machine drafts are never sent here."""

    def __init__(self, language: Language):
        self.language = language

    def __call__(self, obj: Any, name: str) -> Localised:
        kind = translatable_fields(obj).get(name, "text")
        return localised_text(getattr(obj, name, None), self.language, kind=kind)


def event(kind: NotificationKind, subject_id: int) -> Event | None:
    """The event as it is now; None when there is nothing to tell any more (the update was
    withdrawn, or the priority lost its response or its link to the update)."""
    if kind == NotificationKind.PRIORITY_RESPONSE:
        priority = db.session.get(Priority, subject_id)
        if priority is None or priority.response_status is None:
            return None
        return Event(priority_follower_ids(priority.id), "priority_response",
                     lambda local: _("A response to a research priority you follow"),
                     {"priority": priority,
                      "link": external_url("priorities.priority", priority_id=priority.id)})
    update = db.session.get(Update, subject_id)
    if update is None or not update.is_published:
        return None
    if kind == NotificationKind.NEW_UPDATE:
        return Event(update_follower_ids(update), "update_published",
                     lambda local: _("New update: %(title)s", title=local(update, "title").text),
                     {"update": update, "link": external_url("updates.update", slug=update.slug),
                      "following_link": external_url("updates.following")})
    priority = update.answers_priority
    if priority is None:
        return None
    return Event(priority_follower_ids(priority.id), "priority_update",
                 lambda local: _("News about a research priority you follow: %(title)s",
                                         title=local(priority, "title").text),
                 {"priority": priority, "update": update,
                  "link": external_url("priorities.priority", priority_id=priority.id)})


@dataclass
class Rendered:
    """One event in one language: the same for every recipient but the address."""

    subject: str
    text: str
    skeleton: Skeleton


class NotificationQueue(Queue):
    """Follower notifications: one row per (kind, subject, user). Per batch, each event is
    loaded once, who still wants it is checked with one query, and it is rendered once per
    language."""

    model = Notification
    reference_prefix = NOTIFICATION_REFERENCE

    def __init__(self, worker):
        super().__init__(worker)
        sender = parseaddr(current_app.config["MAIL_FROM"])
        self.sender, self.envelope_from = mailbox(*sender), sender[1]
        self.host = domain(worker.base_url)
        self._events: dict[tuple[NotificationKind, int], Event | None] = {}
        self._wanted: set[int] = set()
        self._rendered: dict[tuple[NotificationKind, int, str], Rendered] = {}

    def claimed(self, token: str) -> Sequence[Row]:
        rows = db.session.execute(
            select(Notification.id, Notification.kind, Notification.subject_id,
                   Notification.user_id, Notification.attempts, Notification.created_at,
                   User.email, User.language)
            .join(User, User.id == Notification.user_id)
            .where(Notification.claim_token == token).order_by(Notification.id)).all()
        for key in {(row.kind, row.subject_id) for row in rows}:
            self._events[key] = found = event(*key)
            if found is None:
                continue
            users = {row.user_id: row.id for row in rows if (row.kind, row.subject_id) == key}
            still = db.session.scalars(select(User.id).where(
                User.id.in_(list(users)), *reachable(found.followers)))
            self._wanted.update(users[user_id] for user_id in still)
        return rows

    def still_wanted(self, rows: Sequence[Row]) -> set[int]:
        """Checked when the batch is claimed: deleted, suppressed and unfollowed people,
        and withdrawn updates, are skipped."""
        return {row.id for row in rows if row.id in self._wanted and row.email}

    def _render(self, row: Row, language: Language) -> Rendered:
        key = (row.kind, row.subject_id, language.code)
        rendered = self._rendered.get(key)
        if rendered is None:
            found = self._events[(row.kind, row.subject_id)]
            local = LocalText(language)
            with request_context(), force_locale(language.babel_locale):
                subject = found.subject(local)
                text = render_template(f"email/{found.template}.txt", local=local,
                                       **found.context)
            rendered = self._rendered[key] = Rendered(subject, text, Skeleton([
                ("From", self.sender), ("Subject", subject),
                ("Content-Language", language.code)]))
        return rendered

    def outgoing(self, row: Row) -> Outgoing:
        language = (get_language(row.language)
                    or get_language(current_app.config["DEFAULT_LANGUAGE"])
                    or enabled_languages()[0])
        rendered = self._render(row, language)
        queued_at = int(row.created_at.timestamp())  # a new Message-ID when queued again
        identifier = f"<notification.{row.id}.{queued_at}@{self.host}>"
        unsubscribe = https(stop_following_url(row.user_id))
        return Outgoing(
            delivery_id=row.id, reference=f"{NOTIFICATION_REFERENCE}{row.id}", to=row.email,
            subject=rendered.subject, text=rendered.text, html=None,
            headers={"Content-Language": language.code,
                     "List-Unsubscribe": f"<{unsubscribe}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            message_id=identifier, unsubscribe_url=unsubscribe,
            envelope_from=self.envelope_from,
            raw=rendered.skeleton.message(to=row.email, message_id=identifier,
                                          unsubscribe_url=unsubscribe, text=rendered.text,
                                          html=None))

    def permanent_failure(self, row: Row, reason: str) -> None:
        suppress(row.email, reason)

    @classmethod
    def receipt_failure(cls, record: Notification, reason: str) -> None:
        suppress(record.user.email, reason)

    def finish(self, rows: Sequence[Row]) -> None:
        """Forget this batch: the next one sees its events as they are then."""
        self._events.clear()
        self._wanted.clear()
        self._rendered.clear()
