"""Sending: the delivery worker sends each queued notification once, in the recipient's
language, retries one whose worker died after its lease, and skips people who were
deleted or stopped following in the meantime (development outbox channel)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as translate

from feedback.accounts import services as accounts
from feedback.core.models import utcnow
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import claim_batch, deliver_due
from feedback.extensions import db
from feedback.notifications.sending import NotificationQueue
from feedback.updates import services as updates


def test_the_worker_sends_each_once_even_when_run_twice(make_user, make_update, dataset,
                                                        notifications, outbox):
    people = [make_user(email=f"reader{n}@example.org") for n in range(3)]
    for person in people:
        updates.follow(person, "dataset", dataset.id)
    db.session.commit()
    update = make_update()

    assert deliver_due() == 3
    assert deliver_due() == 0
    assert sorted(m["To"] for m in outbox.messages()) == [p.email for p in people]
    message = outbox.last()
    assert message["Subject"] == f"New update: {update.title}"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"].startswith("<notification.")
    assert "Riverside Hospitals has published an update you follow:" in outbox.text(message)
    rows = notifications()
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.SENT, 1)}
    assert all(row.sent_at is not None for row in rows)


def test_a_worker_that_dies_after_claiming_is_replaced_after_its_lease(
        app, make_user, make_update, dataset, notifications, outbox):
    follower = make_user(email="reader@example.org")
    updates.follow(follower, "dataset", dataset.id)
    db.session.commit()
    make_update()

    assert claim_batch(10, queue=NotificationQueue) is not None  # ...and the worker dies
    [row] = notifications()
    assert row.status == DeliveryStatus.SENDING
    assert deliver_due() == 0  # still leased to the dead worker
    assert outbox.messages() == []

    lease = app.config["DELIVERY_LEASE_SECONDS"]
    row.claimed_at = utcnow() - timedelta(seconds=lease + 1)
    db.session.commit()
    assert deliver_due() == 1
    [row] = notifications()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert [m["To"] for m in outbox.messages()] == ["reader@example.org"]


def test_people_deleted_or_no_longer_following_are_skipped(make_user, make_update, dataset,
                                                           notifications, outbox):
    deleted, unfollowed, kept = (make_user(email=f"{name}@example.org")
                                 for name in ("deleted", "unfollowed", "kept"))
    for person in (deleted, unfollowed, kept):
        updates.follow(person, "dataset", dataset.id)
    db.session.commit()
    make_update()
    accounts.delete_account(deleted)
    updates.unfollow(unfollowed, "dataset", dataset.id)
    db.session.commit()

    assert deliver_due() == 1
    assert [m["To"] for m in outbox.messages()] == ["kept@example.org"]
    statuses = {row.user_id: row.status for row in notifications()}
    assert statuses == {deleted.id: DeliveryStatus.CANCELLED,
                        unfollowed.id: DeliveryStatus.CANCELLED,
                        kept.id: DeliveryStatus.SENT}


def test_an_update_withdrawn_before_sending_is_not_announced(make_user, make_update, dataset,
                                                             notifications, outbox):
    follower = make_user()
    updates.follow(follower, "dataset", dataset.id)
    db.session.commit()
    update = make_update()
    updates.withdraw_update(None, update, "Published by mistake.")
    db.session.commit()
    assert deliver_due() == 0
    assert outbox.messages() == []
    assert [row.status for row in notifications()] == [DeliveryStatus.CANCELLED]


def test_each_email_is_written_in_its_recipients_language_when_sent(
        make_user, make_update, dataset, outbox):
    welsh, urdu, english = (make_user(email=f"{code}@example.org") for code in
                            ("cy", "ur", "en"))
    for person in (welsh, urdu, english):
        updates.follow(person, "dataset", dataset.id)
    welsh.language = "en"  # changed after following: the language at send time counts
    db.session.commit()
    make_update()
    welsh.language, urdu.language = "cy", "ur"
    db.session.commit()

    assert deliver_due() == 3
    by_address = {m["To"]: m for m in outbox.messages()}
    assert "Darllenwch ef:" in outbox.text(by_address["cy@example.org"])
    assert by_address["cy@example.org"]["Content-Language"] == "cy"
    assert "اسے پڑھیں:" in outbox.text(by_address["ur@example.org"])
    assert by_address["ur@example.org"]["Content-Language"] == "ur"
    assert "Read it:" in outbox.text(by_address["en@example.org"])


def test_one_click_unsubscribe_stops_every_follow_and_the_emails_waiting(
        client, make_user, make_update, dataset, notifications, outbox):
    from feedback.priorities.models import PriorityFollower

    reader = make_user(email="reader@example.org")
    other = make_user(email="other@example.org")
    for person in (reader, other):
        updates.follow(person, "dataset", dataset.id)
    db.session.commit()
    make_update()
    assert deliver_due() == 2
    message = next(m for m in outbox.messages() if m["To"] == "reader@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://") and "/following/stop/" in link
    path = "/following/stop/" + link.rsplit("/", 1)[1]

    make_update(title="A second update")  # queued for both, not sent yet
    page = client.get(path)
    assert page.status_code == 200 and b'<form method="post">' in page.data
    # Mail providers post with no session and no CSRF token (RFC 8058).
    for _time in range(2):
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.data
    assert updates.list_follows(reader) == []
    assert db.session.query(PriorityFollower).filter_by(user_id=reader.id).count() == 0
    assert len(updates.list_follows(other)) == 1  # nobody else's follows change

    assert deliver_due() == 1
    assert [m["To"] for m in outbox.messages()][-1] == "other@example.org"


def test_a_forged_or_altered_stop_following_link_is_refused(client, make_user):
    reader = make_user(email="reader@example.org")
    token = updates.stop_following_token(reader.id)
    assert client.post(f"/following/stop/{token[:-2]}xx").status_code == 410
    assert client.post("/following/stop/not-a-token").status_code == 410
    accounts.delete_account(reader)
    db.session.commit()
    assert client.post(f"/following/stop/{token}").status_code == 410


def _approve_urdu(source: str, text: str, status_name: str = "APPROVED") -> None:
    """A translator's decision on one segment, as the review queue stores it."""
    from sqlalchemy import select

    from feedback.translation.models import SegmentStatus, TranslationSegment
    from feedback.translation.segments import hash_segment

    status = SegmentStatus[status_name]
    row = db.session.scalar(select(TranslationSegment).where(
        TranslationSegment.source_hash == hash_segment(source),
        TranslationSegment.target_language == "ur"))
    if row is None:
        row = TranslationSegment(source_hash=hash_segment(source), source_language="en",
                                 target_language="ur", source_text=source,
                                 origin="libretranslate")
        db.session.add(row)
    row.text, row.status = text, status
    db.session.commit()


def test_titles_and_summaries_are_sent_as_checked_translations_or_in_english_with_a_note(
        make_user, make_update, dataset, outbox):
    urdu = make_user(email="ur@example.org")
    urdu.language = "ur"
    updates.follow(urdu, "dataset", dataset.id)
    db.session.commit()
    update = make_update(title="Saturday sickle cell clinic",
                         summary="The clinic now opens on Saturdays.")
    _approve_urdu(update.title, "ہفتے کے دن سکل سیل کلینک")
    # A machine draft of the summary is never sent to followers: they get the English.
    _approve_urdu(update.summary, "کلینک اب ہفتے کو کھلتا ہے", "MACHINE_DRAFT")

    assert deliver_due() == 1
    message = outbox.last()
    assert message["Subject"] == "نئی اپ ڈیٹ: ہفتے کے دن سکل سیل کلینک"
    text = outbox.text(message)
    assert "ہفتے کے دن سکل سیل کلینک" in text
    assert "The clinic now opens on Saturdays." in text
    assert "کلینک اب ہفتے کو کھلتا ہے" not in text
    with force_locale("ur"):
        note = translate("A checked translation of this text is coming. Until then, here "
                         "it is in English.")
    assert note in text and note != "A checked translation of this text is coming. " \
        "Until then, here it is in English."


def test_english_readers_get_the_original_without_a_note(make_user, make_update, dataset,
                                                          outbox):
    reader = make_user(email="en@example.org")
    updates.follow(reader, "dataset", dataset.id)
    db.session.commit()
    update = make_update()
    assert deliver_due() == 1
    text = outbox.text(outbox.last())
    assert update.title in text and update.summary in text
    assert "A checked translation" not in text


def test_each_content_block_of_the_text_email_says_when_it_is_still_english(
        make_user, make_update, dataset, outbox):
    """The plain-text email marks content the way the HTML digest does (``email_text``):
    what changed and the organisation's name in Urdu where a translator approved them,
    and each block still in English followed by the note, in Urdu, that a checked
    translation is coming; the title, translated, carries no note."""
    urdu = make_user(email="ur-blocks@example.org")
    urdu.language = "ur"
    updates.follow(urdu, "dataset", dataset.id)
    db.session.commit()
    update = make_update(title="Evening diabetes clinic", summary="Clinics now run until 8pm.",
                         what_changed="Three evening clinics a week.")
    _approve_urdu(update.title, "شام کا ذیابیطس کلینک")
    _approve_urdu(update.what_changed, "ہفتے میں تین شام کے کلینک")
    _approve_urdu(update.organisation.name, "ریور سائیڈ ٹرسٹ")

    assert deliver_due() == 1
    text = outbox.text(outbox.last())
    with force_locale("ur"):
        note = "({})".format(translate("A checked translation of this text is coming. "
                                       "Until then, here it is in English."))
    lines = [line.strip() for line in text.splitlines()]
    assert "ریور سائیڈ ٹرسٹ" in text and "ہفتے میں تین شام کے کلینک" in text
    summary = lines.index("Clinics now run until 8pm.")
    assert lines[summary + 1] == note  # the English summary says so, right below it
    assert lines.count(note) == 1  # the translated title and what changed do not
    assert "<" not in text
