"""Several SMTP connections per worker (``SMTP_CONNECTIONS``), against the real aiosmtpd
server: each connection is really used, one query checks a whole batch, an unsubscribe
during a run stops every batch claimed after it, and each message keeps its own failure
handling."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import Subscriber, Suppression
from tests.digest_support import (
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    statements_while,
    use_items,
)


@pytest.fixture
def app_config(smtp_sink):
    return {**smtp_sink.config(), "DELIVERY_RETRY_SECONDS": 0, "DELIVERY_BATCH_SIZE": 6,
            "SMTP_CONNECTIONS": 3, "BASE_URL": "http://feedback.test"}


def _edition_for(app, readers: int) -> None:
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, readers)
    start_edition_now(audience)


def _still_wanted_queries_while(action) -> int:
    """SELECTs that look at the suppression list: only the still-wanted check does, once
    the edition has started."""
    return len([s for s in statements_while(action)
                if s.lstrip().upper().startswith("SELECT") and "suppressions" in s])


def _statuses() -> dict:
    return dict(db.session.execute(select(Delivery.subscriber_id, Delivery.status)).all())


@pytest.mark.parametrize(("connections", "batch"), [(3, 6), (4, 4), (1, 3), (2, 5)])
def test_one_query_checks_each_batch(app, smtp_sink, connections, batch):
    """12 readers in batches of ``batch``: one still-wanted check per batch, whatever the
    number of connections, not one per message or per round."""
    app.config.update(SMTP_CONNECTIONS=connections, DELIVERY_BATCH_SIZE=batch)
    _edition_for(app, 12)
    sent: list[int] = []
    queries = _still_wanted_queries_while(lambda: sent.append(Worker().run()))
    assert sent == [12]
    assert queries == -(-12 // batch)
    assert sorted(smtp_sink.recipients().values()) == [1] * 12


def test_every_connection_carries_messages(app, smtp_sink):
    _edition_for(app, 9)
    worker = Worker()
    assert worker.connections == 3
    assert worker.run() == 9
    assert len(smtp_sink.sessions) == 3  # three connections, each kept for the whole run
    assert sorted(smtp_sink.recipients().values()) == [1] * 9


def test_an_unsubscribe_stops_every_batch_claimed_after_it(app, smtp_sink):
    """Three connections, and batches longer than the rounds the worker queues ahead: the
    worker claims (and checks) a batch only once the one before is queued, so a reader
    who unsubscribes as the first message is accepted gets nothing from the second batch
    on, however many batches are claimed together behind it."""
    batch = 3 * (Worker.ROUNDS_AHEAD + 4)
    app.config["DELIVERY_BATCH_SIZE"] = batch
    _edition_for(app, 3 * batch)
    readers = {s.email: s for s in db.session.scalars(select(Subscriber))}
    leaving = [readers[f"reader{n}@example.org"] for n in (batch, 3 * batch - 1)]
    links = [subscriptions.links_for(s.id)["unsubscribe"] for s in leaving]

    def unsubscribe(message):
        if len(smtp_sink.messages) == 1:
            client = app.test_client()
            for link in links:
                assert client.post(link, data={"List-Unsubscribe": "One-Click"}
                                   ).status_code == 200

    smtp_sink.on_message = unsubscribe
    assert Worker().run() == 3 * batch - 2
    copies = smtp_sink.recipients()
    assert [copies[reader.email] for reader in leaving] == [0, 0]
    assert len(copies) == 3 * batch - 2 and set(copies.values()) == {1}
    statuses = _statuses()
    assert [statuses[s.id] for s in leaving] == [DeliveryStatus.CANCELLED] * 2


def test_each_message_of_a_round_keeps_its_own_outcome(app, smtp_sink):
    """One round of three: one dropped connection, one deferral and one refusal. The
    refused address is suppressed and failed; the other two are retried (on a new
    connection for the dropped one) and arrive exactly once, as does everyone else."""
    _edition_for(app, 7)
    smtp_sink.plan = ["drop", "defer", "reject"]
    assert Worker().run() == 6
    failed = db.session.scalars(select(Delivery).where(
        Delivery.status == DeliveryStatus.FAILED)).all()
    assert len(failed) == 1 and failed[0].last_error == "refused (550)"
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash(failed[0].subscriber.email)]
    copies = smtp_sink.recipients()
    assert len(copies) == 6 and set(copies.values()) == {1}
    assert failed[0].subscriber.email not in copies
    assert sorted(_statuses().values()) == sorted([DeliveryStatus.SENT] * 6
                                                  + [DeliveryStatus.FAILED])


def test_the_attempt_cap_holds_for_messages_sent_together(app, smtp_sink):
    """The first three messages the server answers are deferred, with one attempt
    allowed: each gives up on its own, nobody is suppressed, and the rest of the batch
    still goes. (Two rounds are on their way at once, so which rows the server defers
    depends on which connection answers first.)"""
    app.config["DELIVERY_MAX_ATTEMPTS"] = 1
    _edition_for(app, 5)
    smtp_sink.plan = ["defer", "defer", "defer"]
    assert Worker().run() == 2
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    failed = [r for r in rows if r.status == DeliveryStatus.FAILED]
    assert len(failed) == 3
    assert [r.status for r in rows].count(DeliveryStatus.SENT) == 2
    assert {r.last_error for r in failed} == {"gave up: deferred (451)"}
    assert all(r.attempts == 1 for r in rows)
    assert db.session.scalars(select(Suppression)).all() == []
    assert len(smtp_sink.messages) == 2


def test_the_fast_links_are_the_ones_links_for_builds(app):
    links = subscriptions.links_maker()
    for subscriber_id in (1, 12345, 10**9):
        assert links(subscriber_id) == subscriptions.links_for(subscriber_id)
        token = links(subscriber_id)["unsubscribe"].rsplit("/", 1)[-1]
        assert subscriptions._serializer().loads(token) == subscriber_id


def test_bulk_base64_matches_the_standard_library():
    import base64

    from feedback.delivery.mime import _base64

    for text in ("", "a", "abc", "x" * 57, "x" * 58, "é" * 1000, "Hello " * 999):
        assert _base64(text) == base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")


@pytest.mark.parametrize("sender", ["bulk@feedback.test", "Feedback <bulk@feedback.test>"])
@pytest.mark.parametrize("recipient", ["reader@example.org", '"a reader"@example.org'])
def test_the_envelope_and_body_arrive_as_sendmail_would_send_them(app, smtp_sink, sender,
                                                                   recipient):
    """Plain addresses skip smtplib's address parser and a body with no line starting
    with a dot skips its dot-stuffing; anything else goes through ``sendmail``. Either
    way the server gets the same envelope, and a line that starts with a dot arrives as
    it was written."""
    from email.utils import parseaddr

    from feedback.delivery.channels import Outgoing, SmtpChannel

    bodies = {"plain": b"Hello,\r\nA line.\r\n",
              "dotted": b"Hello,\r\n.a line that starts with a dot\r\n..and two\r\n"}
    channel = SmtpChannel(connections=1)
    try:
        for name, body in bodies.items():
            raw = (f"From: {sender}\r\nTo: {recipient}\r\nSubject: {name}\r\n"
                   "Content-Type: text/plain\r\n\r\n").encode() + body
            assert channel.send(Outgoing(
                delivery_id=1, to=recipient, subject=name, text="", html=None, headers={},
                message_id="", unsubscribe_url="", raw=raw,
                envelope_from=parseaddr(sender)[1])) is None
    finally:
        channel.close()
    assert [m["Subject"] for m in smtp_sink.messages] == ["plain", "dotted"]
    for message, body in zip(smtp_sink.messages, bodies.values(), strict=True):
        assert message.get_payload(decode=True) == body
    assert smtp_sink.envelopes == [("bulk@feedback.test", [recipient])] * 2
