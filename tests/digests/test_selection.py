"""Editions select real published updates: since the last edition, matching filters."""

from __future__ import annotations

from datetime import timedelta

from feedback.core.models import utcnow
from feedback.digests import services
from feedback.extensions import db
from feedback.updates import services as updates
from tests.digest_support import add_subscribers, make_audience
from tests.updates.conftest import update_data


def _update(org, dataset, title: str, topics: str, published_days_ago: float | None):
    update = updates.create_update(None, org, update_data(dataset, title=title, topics=topics))
    if published_days_ago is not None:
        updates.publish_update(None, update, utcnow() - timedelta(days=published_days_ago))
    db.session.commit()
    return update


def test_published_matching_updates_since_the_last_edition(app, make_org, make_dataset):
    org = make_org(name="Riverside Hospitals")
    dataset = make_dataset(org)
    _update(org, dataset, "Sickle cell fast-track", "Sickle cell", 2)
    _update(org, dataset, "Diabetes eye checks", "Diabetes", 1)
    _update(org, dataset, "Draft about sickle cell", "Sickle cell", None)
    _update(org, dataset, "Old sickle cell news", "Sickle cell", 40)
    audience = make_audience(topics=["sickle-cell"])
    add_subscribers(audience, 2)

    first = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    assert [item["title"] for item in first.items] == ["Sickle cell fast-track"]
    assert first.items[0]["url"].endswith("/updates/sickle-cell-fast-track")
    assert "Sickle cell fast-track" in first.version("en").html

    _update(org, dataset, "Sickle cell clinic at weekends", "Sickle cell", 0)
    second = services.create_and_start(audience.id, "2026-W48")
    db.session.commit()
    assert [item["title"] for item in second.items] == ["Sickle cell clinic at weekends"]


def test_the_sign_up_form_offers_the_topics_updates_use(app, client, make_org, make_dataset):
    org = make_org()
    _update(org, make_dataset(org), "Maternity triage", "Maternity", 1)
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'value="maternity"' in page and "Birmingham" in page
