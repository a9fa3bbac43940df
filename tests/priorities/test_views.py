"""The pages, through the web layer: suggesting, moderating, voting three ways, the
optional self-description, responses with email to followers, and the JSON API."""

from __future__ import annotations

from sqlalchemy import func, select

from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import (
    Ballot,
    PaperBallot,
    PaperStatus,
    Phase,
    Priority,
    Suggestion,
    SuggestionStatus,
    VoterDescription,
)


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def test_public_pages_render(client, make_round):
    round_ = make_round("voting")
    assert round_.title in client.get("/priorities").get_data(as_text=True)
    page = client.get(f"/priorities/rounds/{round_.slug}").get_data(as_text=True)
    assert "Priority question 1" in page and "Vote online" in page
    priority_id = _ids(round_)[0]
    journey = client.get(f"/priorities/{priority_id}").get_data(as_text=True)
    for step in ("Suggested", "Shortlisted", "Votes", "Response", "Updates that followed"):
        assert f"<h3>{step}</h3>" in journey
    assert client.get(f"/priorities/rounds/{round_.slug}/shortlist/1").status_code == 200


def test_drafts_are_only_seen_by_organisers(client, make_round, sign_in_as, organiser):
    round_ = make_round("draft")
    assert client.get(f"/priorities/rounds/{round_.slug}").status_code == 404
    assert round_.title not in client.get("/priorities").get_data(as_text=True)
    sign_in_as(organiser)
    assert client.get(f"/priorities/rounds/{round_.slug}").status_code == 200


def test_suggest_then_moderate_and_merge_through_the_pages(make_round, make_user, sign_in_as,
                                                            organiser):
    round_ = make_round("suggestions")
    client = sign_in_as(make_user())
    response = client.post(f"/priorities/rounds/{round_.slug}/suggest",
                           data={"question": "Why is pain relief slow in A&E?",
                                 "why_it_matters": "People wait hours in pain."})
    assert response.status_code == 302
    too_long = client.post(f"/priorities/rounds/{round_.slug}/suggest",
                           data={"question": "x" * 501})
    assert too_long.status_code == 400
    assert "must be 500 characters or fewer" in too_long.get_data(as_text=True)
    client.post(f"/priorities/rounds/{round_.slug}/suggest",
                data={"question": "Pain relief in A&E takes too long"})
    first, second = db.session.scalars(select(Suggestion).order_by(Suggestion.id)).all()
    assert "Why is pain relief slow" not in client.get(
        f"/priorities/rounds/{round_.slug}").get_data(as_text=True)

    sign_in_as(organiser)
    assert client.get(f"/priorities/rounds/{round_.slug}/manage").status_code == 200
    client.post(f"/priorities/suggestions/{first.id}/moderate", data={"status": "published"})
    response = client.post(f"/priorities/suggestions/{second.id}/merge",
                           data={"into": str(first.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert first.status == SuggestionStatus.PUBLISHED
    assert second.status == SuggestionStatus.MERGED
    assert "Why is pain relief slow" in client.get(
        f"/priorities/rounds/{round_.slug}").get_data(as_text=True)


def test_people_outside_the_round_cannot_manage_it(client, make_round, make_user, sign_in_as):
    round_ = make_round("suggestions")
    sign_in_as(make_user())
    assert client.get(f"/priorities/rounds/{round_.slug}/manage").status_code == 403
    assert client.post(f"/priorities/rounds/{round_.slug}/phase",
                       data={"phase": "voting"}).status_code == 403


def test_online_vote_then_describe_yourself(client, voting_round, make_user, sign_in_as):
    voter = make_user()
    sign_in_as(voter)
    ids = _ids(voting_round)
    url = f"/priorities/rounds/{voting_round.slug}/vote"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"choices": [str(ids[0]), str(ids[1])], "follow": "y"})
    assert response.status_code == 302 and response.location.endswith("/about-you")
    page = client.get(response.location).get_data(as_text=True)
    assert "Why we ask" in page and "Somali" in page
    response = client.post(response.location, data={
        "ethnicity_text": "Black British of Nigerian heritage",
        "ethnicity_options": ["Nigerian", "Black British"], "age_band": "25-34",
        "postcode_district": "b15", "group": "patients"})
    assert response.status_code == 302
    description = db.session.scalar(select(VoterDescription))
    assert description.postcode_district == "B15" and description.group == "patients"
    assert services.is_following(voter, db.session.get(Priority, ids[0]))
    # Too many choices: rejected with a clear message, nothing changes.
    bad = client.post(url, data={"choices": [str(i) for i in ids]})
    assert bad.status_code == 400
    assert "You can choose up to 3 priorities. You chose 4." in bad.get_data(as_text=True)
    changed = client.post(url, data={"choices": [str(ids[3])]})
    assert changed.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_individual_answers_are_never_shown(client, voting_round, make_user, sign_in_as):
    sign_in_as(make_user())
    ids = _ids(voting_round)
    client.post(f"/priorities/rounds/{voting_round.slug}/vote", data={"choices": [str(ids[0])]})
    client.post(f"/priorities/rounds/{voting_round.slug}/about-you",
                data={"ethnicity_text": "Unique self description", "postcode_district": "B15"})
    voting_round.phase = Phase.RESULTS
    db.session.commit()
    for url in (f"/priorities/rounds/{voting_round.slug}/results",
                f"/priorities/rounds/{voting_round.slug}/results.csv",
                f"/api/v1/rounds/{voting_round.slug}/results"):
        body = client.get(url).get_data(as_text=True)
        assert "Unique self description" not in body
        assert "B15" in body  # the district is a category, but its count is suppressed


def test_code_vote_and_the_clear_reuse_message(client, voting_round, organiser, sign_in_as):
    sign_in_as(organiser)
    sheet = client.post(f"/priorities/rounds/{voting_round.slug}/codes",
                        data={"size": "2", "label": "Community day"})
    assert sheet.status_code == 200
    html = sheet.get_data(as_text=True)
    assert "shown only this once" in html
    import re

    codes = re.findall(r'data-testid="ballot-code">([A-Z0-9-]+)<', html)
    assert len(codes) == 2
    anonymous = sign_in_as(None)
    url = f"/priorities/rounds/{voting_round.slug}/vote/code"
    ids = _ids(voting_round)
    first = anonymous.post(url, data={"code": codes[0], "choices": [str(ids[0])]})
    assert first.status_code == 302
    again = anonymous.post(url, data={"code": codes[0], "choices": [str(ids[1])]})
    assert again.status_code == 400
    assert "This ballot code has already been used to vote" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_paper_entry_pages(client, voting_round, organiser, partner_staff, sign_in_as):
    ids = _ids(voting_round)
    data = {"reference": "P-1", "location": "Community centre", "filled_in_on": "2026-03-01",
            "choices": [str(ids[0])]}
    sign_in_as(partner_staff)
    assert client.post(f"/priorities/rounds/{voting_round.slug}/paper",
                       data=data).status_code == 302
    sign_in_as(organiser)
    response = client.post(f"/priorities/rounds/{voting_round.slug}/paper",
                           data={**data, "choices": [str(ids[1])]})
    assert response.status_code == 302
    page = client.get(f"/priorities/rounds/{voting_round.slug}/paper").get_data(as_text=True)
    assert "The two entries differ" in page and "app-row-flagged" in page
    paper = db.session.scalar(select(PaperBallot))
    client.post(f"/priorities/paper/{paper.id}/clear-second")
    client.post(f"/priorities/rounds/{voting_round.slug}/paper", data=data)
    db.session.expire_all()
    assert paper.status == PaperStatus.MATCHED


def test_response_emails_followers(client, make_round, make_user, sign_in_as, organiser,
                                   outbox):
    round_ = make_round("results")
    priority_id = _ids(round_)[0]
    follower = make_user(email="follower@example.org")
    sign_in_as(follower)
    client.post(f"/priorities/{priority_id}/follow")
    sign_in_as(organiser)
    short = client.post(f"/priorities/{priority_id}/respond",
                        data={"status": "not_taken", "text": "No."})
    assert short.status_code == 400 and "Explain in a sentence" in short.get_data(as_text=True)
    response = client.post(f"/priorities/{priority_id}/respond", data={
        "status": "will_research", "text": "Midlands Health Research Partnership will study "
        "waiting times for pain relief."})
    assert response.status_code == 302
    assert outbox.messages() == []  # queued with the response; the worker sends it
    assert deliver_due() == 1
    message = outbox.last()
    assert message["To"] == "follower@example.org"
    assert f"/priorities/{priority_id}" in outbox.links(message)[0]
    journey = client.get(f"/priorities/{priority_id}").get_data(as_text=True)
    assert "Will be researched" in journey


def test_organiser_starts_a_round_and_moves_it_by_hand(client, sign_in_as, organiser, trust,
                                                        partner):
    sign_in_as(organiser)
    assert client.get("/priorities/rounds/new").status_code == 200
    response = client.post("/priorities/rounds/new", data={
        "organisation": str(trust.id), "partners": [str(partner.id)],
        "title": "Diabetes priorities", "scope": "What should diabetes research look at?",
        "groups": ["patients", "carers"], "voting_method": "rank", "max_choices": "5",
        "hide_counts": "y", "voting_opens_at": "2026-04-01", "voting_closes_at": "2026-04-30"})
    assert response.status_code == 302
    round_ = services.get_round("diabetes-priorities")
    assert round_.max_choices == 5 and round_.voting_closes_at.day == 30
    client.post(f"/priorities/rounds/{round_.slug}/phase", data={"phase": "suggestions"})
    db.session.expire_all()
    assert round_.phase == Phase.SUGGESTIONS


def test_api_lists_rounds_priorities_and_suppressed_results(client, make_round):
    round_ = make_round("results")
    make_round("draft", title="Secret draft")
    listing = client.get("/api/v1/rounds").get_json()
    assert [r["slug"] for r in listing["data"]] == [round_.slug]
    detail = client.get(f"/api/v1/rounds/{round_.slug}").get_json()["data"]
    assert detail["voting"] == {"method": "choose", "max_choices": 3,
                                "counts_hidden_until_close": False}
    priorities = client.get(f"/api/v1/rounds/{round_.slug}/priorities").get_json()
    assert len(priorities["data"]) == 4
    one = client.get(f"/api/v1/priorities/{priorities['data'][0]['id']}").get_json()["data"]
    assert one["shortlist_versions"] == [1]
    results = client.get(f"/api/v1/rounds/{round_.slug}/results").get_json()["data"]
    assert results["voters"] == 0 and len(results["breakdowns"]) == 4
    assert client.get("/api/v1/rounds/secret-draft").status_code == 404


def test_edit_round_keeps_voting_rules_once_voting_started(voting_round, sign_in_as,
                                                            organiser):
    client = sign_in_as(organiser)
    url = f"/priorities/rounds/{voting_round.slug}/edit"
    page = client.get(url).get_data(as_text=True)
    assert voting_round.title in page and 'value="3"' in page
    data = {"title": "Sickle cell priorities 2026", "scope": voting_round.scope,
            "groups": ["patients"], "voting_method": "choose", "max_choices": "5"}
    refused = client.post(url, data=data)
    assert refused.status_code == 400
    assert "cannot change once voting has started" in refused.get_data(as_text=True)
    assert client.post(url, data={**data, "max_choices": "3"}).status_code == 302
    db.session.expire_all()
    assert voting_round.title == "Sickle cell priorities 2026"
    assert voting_round.groups == ["patients"]


def test_following_a_draft_rounds_question_or_priority_by_id_is_a_404(
        make_round, make_user, sign_in_as, organiser):
    """Issue 13 item 12: the follow POSTs must not reveal a draft round's slug."""
    round_ = make_round("draft", title="Secret draft round")
    suggestion = Suggestion(round_id=round_.id, question="Hidden question?")
    db.session.add(suggestion)
    db.session.commit()
    client = sign_in_as(make_user())
    response = client.post(f"/priorities/suggestions/{suggestion.id}/follow")
    assert response.status_code == 404
    assert round_.slug not in (response.headers.get("Location") or "")
    assert client.post(f"/priorities/{_ids(round_)[0]}/follow").status_code == 404
    sign_in_as(organiser)  # the organisers may
    assert client.post(f"/priorities/suggestions/{suggestion.id}/follow").status_code == 302
