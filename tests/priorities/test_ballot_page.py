"""The code ballot page is rendered once per worker for each language and each wording of
the round (``feedback/priorities/ballot_page.py``): each visitor still gets their own
CSRF token, which works, and a new wording, shortlist or translation shows at once."""

from __future__ import annotations

import re

import pytest
from flask import template_rendered
from sqlalchemy import select

from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Ballot
from feedback.translation import services as translations
from feedback.translation.models import TranslationSegment
from feedback.translation.segments import hash_segment

TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "LANGUAGES": "en,ur"}  # as in production


@pytest.fixture
def renders(app):
    """How many times the ballot page's template was rendered."""
    seen: list[str] = []

    def record(_sender, template, context, **_extra):
        seen.append(template.name)

    template_rendered.connect(record, app)
    yield lambda: seen.count("priorities/vote.html")
    template_rendered.disconnect(record, app)


def _url(round_):
    return f"/priorities/rounds/{round_.slug}/vote/code"


def _ids(round_):
    return [str(e.priority_id) for e in services.current_shortlist(round_).entries]


def test_the_page_is_rendered_once_and_each_visitor_gets_a_working_token(
        app, voting_round, organiser, renders):
    _batch, codes = services.create_code_batch(organiser, voting_round, 2)
    db.session.commit()
    pages, tokens = [], []
    for code in codes:
        visitor = app.test_client()
        page = visitor.get(_url(voting_round)).get_data(as_text=True)
        token = TOKEN.search(page).group(1)
        response = visitor.post(_url(voting_round), data={
            "csrf_token": token, "code": code, "choices": _ids(voting_round)[:1]})
        assert response.status_code == 302  # the token in the shared page is theirs
        pages.append(page)
        tokens.append(token)
    assert renders() == 1
    assert tokens[0] != tokens[1]
    assert pages[0].replace(tokens[0], "") == pages[1].replace(tokens[1], "")
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 2


def test_a_token_from_another_visitor_is_refused(app, voting_round, organiser):
    _batch, codes = services.create_code_batch(organiser, voting_round, 1)
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    token = TOKEN.search(first.get(_url(voting_round)).get_data(as_text=True)).group(1)
    second.get(_url(voting_round))
    response = second.post(_url(voting_round), data={
        "csrf_token": token, "code": codes[0], "choices": _ids(voting_round)[:1]})
    assert response.status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 0


def test_a_new_wording_or_shortlist_shows_at_once(client, voting_round, organiser, renders):
    assert "Sickle cell research priorities" in client.get(_url(voting_round)).text
    services.update_round(organiser, voting_round, {
        "title": "Sickle cell questions", "scope": voting_round.scope,
        "groups": voting_round.groups or []})
    db.session.commit()
    assert "Sickle cell questions" in client.get(_url(voting_round)).text
    priority = services.create_priority(organiser, voting_round, {
        "title": "A question added late", "description": ""})
    services.publish_shortlist(organiser, voting_round, [*map(int, _ids(voting_round)),
                                                         priority.id])
    db.session.commit()
    assert "A question added late" in client.get(_url(voting_round)).text
    assert renders() == 3


def test_each_language_has_its_own_page_and_a_new_translation_shows_at_once(
        client, voting_round, make_user):
    english = client.get(_url(voting_round)).text
    client.get("/language?code=ur")
    urdu = client.get(_url(voting_round)).text
    assert 'lang="ur"' in urdu and english != urdu
    row = db.session.scalar(select(TranslationSegment).where(
        TranslationSegment.source_hash == hash_segment("Priority question 1"),
        TranslationSegment.target_language == "ur"))
    translations.review_segment(make_user(role="admin"), row, "ترجیحی سوال 1",
                                approve=True)
    db.session.commit()
    assert "ترجیحی سوال 1" in client.get(_url(voting_round)).text


def test_a_signed_in_visitor_and_a_waiting_message_get_their_own_page(
        client, voting_round, make_user, sign_in_as, renders):
    client.get(_url(voting_round))
    sign_in_as(make_user(name="Shared Page Reader"))
    assert "Shared Page Reader" in client.get(_url(voting_round)).text
    sign_in_as(None)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message waiting for this visitor")]
    assert "A message waiting for this visitor" in client.get(_url(voting_round)).text
    assert renders() == 3
