"""The operator page: progress per edition, pause and resume."""

from __future__ import annotations

from feedback.digests.models import Edition, EditionStatus
from feedback.extensions import db
from tests.digest_support import add_subscribers, item, make_audience, start_edition_now, use_items


def test_progress_bar_pause_and_resume(app, make_user, login_as):
    use_items(app, [item(1)])
    audience = make_audience(name="Weekly digest")
    add_subscribers(audience, 4)
    edition_id = start_edition_now(audience)
    client = login_as(make_user(role="admin"))

    page = client.get("/admin/deliveries").get_data(as_text=True)
    # The bar is named by the edition's heading and described by the counts.
    assert (f'<progress class="app-progress" aria-labelledby="edition-{edition_id}-heading" '
            f'aria-describedby="edition-{edition_id}-counts" max="4" value="0">') in page
    assert "Recipients: 4" in page and 'style="' not in page
    assert client.post(f"/admin/deliveries/{edition_id}/pause").status_code == 302
    assert db.session.get(Edition, edition_id).status == EditionStatus.PAUSED
    client.post(f"/admin/deliveries/{edition_id}/resume")
    db.session.expire_all()
    assert db.session.get(Edition, edition_id).status == EditionStatus.SENDING


def test_only_admins_see_it(app, make_user, login_as):
    client = login_as(make_user())
    assert client.get("/admin/deliveries").status_code == 403
