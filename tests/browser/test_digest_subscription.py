"""Subscribe, confirm from the outbox, receive a weekly digest, unsubscribe in one click,
in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.extensions import db
from tests.browser.journeys.checks import follow
from tests.conftest import Outbox
from tests.updates.conftest import update_data

pytestmark = pytest.mark.browser


def test_subscribe_confirm_receive_a_weekly_digest_and_unsubscribe(live_server, page):
    app = live_server.app
    outbox = Outbox(Path(app.config["OUTBOX_DIR"]))
    page.goto(live_server("/"))
    follow(page, page.get_by_role("link", name="Get updates by email"))
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    confirmation = outbox.last()
    link = re.search(r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+",
                     outbox.text(confirmation)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    with app.app_context():
        from feedback.delivery.services import deliver_due
        from feedback.digests.tasks import create_due_editions
        from feedback.organisations import services as organisations
        from feedback.subscriptions.models import Audience
        from feedback.updates import services as updates

        trust = organisations.create_organisation(None, {"kind": "nhs", "name": "Riverside"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell audit"})
        update = updates.create_update(None, trust, update_data(
            dataset, title="Sickle cell clinic opens at weekends"))
        updates.publish_update(None, update)
        audience = db.session.scalar(select(Audience))
        audience.send_weekday, audience.send_hour = 0, 0  # due now
        db.session.commit()
        assert len(create_due_editions()) == 1
        assert deliver_due() == 1
        db.session.remove()

    digest = outbox.last()
    assert digest["To"] == "grace@example.org"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = outbox.text(digest)
    assert "Sickle cell clinic opens at weekends" in text
    unsubscribe = re.search(r"http://127\.0\.0\.1:\d+/subscriptions/unsubscribe/\S+",
                            text).group(0)
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
