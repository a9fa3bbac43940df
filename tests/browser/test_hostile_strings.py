"""Hostile strings stored through the services are shown as text in a real browser: no
script runs, no dialog opens, and the CSP reports no blocked inline code (the ``page``
fixture fails on any console error, which is where CSP violations appear)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from feedback.extensions import db

pytestmark = pytest.mark.browser

ATTACKS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script>",
    '"><svg onload="window.__pwned=3">',
    "\u202etxt.exe zero\u200bwidth 🧬",
]


@pytest.fixture
def hostile_pages(live_server):
    from feedback.accounts.models import PlatformRole
    from feedback.accounts.services import create_user
    from feedback.organisations import services as organisations
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Phase
    from feedback.updates import questions
    from feedback.updates import services as updates
    from tests.updates.conftest import update_data

    text = " ".join(ATTACKS)
    with live_server.app.app_context():
        org = organisations.create_organisation(None, {
            "kind": "nhs", "name": f"Trust {ATTACKS[0]}", "description": text})
        partner = organisations.create_organisation(None, {"kind": "vcse", "name": "Partner"})
        dataset = organisations.create_dataset(None, org, {"name": f"Data {ATTACKS[1]}",
                                                           "description": text})
        service = organisations.create_service(None, org, {"name": f"Clinic {ATTACKS[2]}",
                                                           "description": text})
        update = updates.create_update(None, org, update_data(
            dataset, service, title=f"Update {ATTACKS[0]}", summary=text, body=text))
        updates.publish_update(None, update)
        asker = create_user("asker@example.org", PlatformRole.MEMBER, f"Asker {ATTACKS[2]}")
        moderator = create_user("mod@example.org", PlatformRole.MODERATOR, "Mod")
        question = questions.ask_question(asker, update, f"Why {text}?")
        questions.moderate_question(moderator, question, True)
        editor = create_user("editor@example.org", PlatformRole.MEMBER, "Editor")
        from feedback.accounts.services import add_member

        add_member(None, org, editor, "editor")
        add_member(None, partner, editor, "admin")  # so the partner runs the round too
        round_ = priorities.create_round(editor, [org, partner], {
            # The scope is one line: invisible and bidi controls are refused there.
            "title": f"Round {ATTACKS[1]}", "scope": " ".join(ATTACKS[:3]), "topics": "pain",
            "area": "Birmingham", "groups": ["patients"]})
        priority = priorities.create_priority(editor, round_, {"title": f"P {ATTACKS[0]}",
                                                               "description": text})
        priorities.publish_shortlist(editor, round_, [priority.id])
        round_.phase = Phase.VOTING
        db.session.commit()
        paths = [f"/organisations/{org.slug}", f"/datasets/{dataset.slug}",
                 f"/services/{service.slug}", f"/updates/{update.slug}", "/updates",
                 f"/priorities/rounds/{round_.slug}", f"/priorities/{priority.id}",
                 "/organisations", "/datasets", "/services", "/"]
    return paths


def test_hostile_strings_are_shown_as_text_and_never_run(page, live_server, hostile_pages):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in hostile_pages:
        page.goto(live_server(path))
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("img[src='x'], svg[onload]").count() == 0, path
    page.goto(live_server(hostile_pages[1]))
    expect(page.locator("h1")).to_contain_text("<script>window.__pwned=2</script>")
    assert dialogs == []
