"""Partners help with paper ballots (issue 15 item 3). Staff of an organisation that does
not run a round offer to help; an organiser of the round accepts or declines; both steps
are in both organisations' audit logs. An accepted helper's staff may enter (and correct)
the round's paper ballots and nothing else, and the helper is named on the round."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import (
    InvitationRole,
    InvitationStatus,
    PaperStatus,
    Phase,
    RoundInvitation,
)


@pytest.fixture
def apna(make_org):
    return make_org(kind="vcse", name="Apna Community Centre")


@pytest.fixture
def apna_staff(make_user, apna):
    return make_user(org=apna, org_role="editor", name="Apna Staff")


@pytest.fixture
def apna_colleague(make_user, apna):
    return make_user(org=apna, org_role="admin", name="Apna Colleague")


def _actions(organisation_id: int) -> set[str]:
    return {e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.organisation_id == organisation_id))}


def _entry(round_, reference="A-1"):
    first = services.current_shortlist(round_).entries[0].priority_id
    return {"reference": reference, "location": "Apna coffee morning", "choices": [first]}


def test_a_partner_asks_and_an_organiser_accepts(voting_round, apna, apna_staff, trust,
                                                 partner, organiser, apna_colleague):
    assert services.help_organisations(apna_staff, voting_round) == [apna]
    offer = services.ask_to_help(apna_staff, voting_round, apna, "  We run a Tuesday group. ")
    db.session.commit()
    assert (offer.role, offer.status, offer.note) == (
        InvitationRole.PAPER_HELPER, InvitationStatus.PENDING, "We run a Tuesday group.")
    # Asking again while it waits changes nothing; nothing is granted yet.
    assert services.ask_to_help(apna_staff, voting_round, apna) is offer
    assert services.help_organisations(apna_staff, voting_round) == []
    assert not services.can_enter_papers(apna_staff, voting_round)
    assert services.helper_organisations(voting_round) == []
    for side in (apna, trust, partner):
        assert "priority_round.helper_requested" in _actions(side.id), side.name
    # The organisers see it; it is not an invitation to co-organise.
    assert services.help_requests(voting_round) == [offer]
    assert offer not in services.round_invitations(voting_round)

    services.decide_invitation(organiser, offer, accept=True)  # the shared answer route
    db.session.commit()
    assert offer.status == InvitationStatus.ACCEPTED and offer.decided_by_id == organiser.id
    assert services.helper_organisations(voting_round) == [apna]
    assert apna not in voting_round.organisations  # a helper does not run the round
    assert services.can_enter_papers(apna_staff, voting_round)
    assert services.can_enter_papers(apna_colleague, voting_round)
    assert "priority_round.helper_accepted" in _actions(apna.id)
    assert "priority_round.helper_accepted" in _actions(trust.id)
    with pytest.raises(ValidationError, match="already been answered"):
        services.decide_help(organiser, offer, accept=False)


def test_an_organiser_declines_and_the_partner_may_ask_again(voting_round, apna, apna_staff,
                                                             trust, organiser):
    offer = services.ask_to_help(apna_staff, voting_round, apna)
    services.decide_help(organiser, offer, accept=False)
    db.session.commit()
    assert offer.status == InvitationStatus.DECLINED
    assert not services.can_enter_papers(apna_staff, voting_round)
    assert services.helper_organisations(voting_round) == []
    assert "priority_round.helper_declined" in _actions(apna.id)
    assert "priority_round.helper_declined" in _actions(trust.id)
    assert services.help_organisations(apna_staff, voting_round) == [apna]
    again = services.ask_to_help(apna_staff, voting_round, apna, "We found a venue")
    assert again.id == offer.id and again.status == InvitationStatus.PENDING
    assert again.decided_by_id is None and again.note == "We found a venue"


def test_only_an_organiser_of_the_round_may_answer(voting_round, apna, apna_staff,
                                                   apna_colleague, make_user, make_org):
    offer = services.ask_to_help(apna_staff, voting_round, apna)
    db.session.commit()
    outsider_org = make_org(kind="nhs", name="Elsewhere Trust")
    for person in (apna_staff, apna_colleague, make_user(role="admin"), make_user(),
                   make_user(org=outsider_org, org_role="admin")):
        with pytest.raises(PermissionDenied):
            services.decide_invitation(person, offer, accept=True)
    db.session.rollback()
    assert db.session.get(RoundInvitation, offer.id).status == InvitationStatus.PENDING


def test_who_may_ask(voting_round, make_round, apna, apna_staff, partner, partner_staff,
                     make_user):
    # Only staff of the organisation, for an organisation not already running the round.
    with pytest.raises(PermissionDenied):
        services.ask_to_help(make_user(), voting_round, apna)
    with pytest.raises(ValidationError, match="already runs"):
        services.ask_to_help(partner_staff, voting_round, partner)
    assert services.help_organisations(partner_staff, voting_round) == []
    # Only while the round is open.
    finished = make_round("results", title="Finished round")
    assert services.help_organisations(apna_staff, finished) == []
    with pytest.raises(ValidationError, match="not open"):
        services.ask_to_help(apna_staff, finished, apna)
    with pytest.raises(ValidationError, match="500 characters or fewer"):
        services.ask_to_help(apna_staff, voting_round, apna, "x" * 501)


def test_a_helper_enters_paper_ballots_with_the_double_entry_check(
        voting_round, apna, apna_staff, apna_colleague, organiser):
    offer = services.ask_to_help(apna_staff, voting_round, apna)
    services.decide_help(organiser, offer, accept=True)
    paper = services.enter_paper_ballot(apna_staff, voting_round, _entry(voting_round))
    assert paper.status == PaperStatus.AWAITING_CHECK and paper.organisation_id == apna.id
    with pytest.raises(ValidationError, match="different person"):
        services.enter_paper_ballot(apna_staff, voting_round, _entry(voting_round))
    paper = services.enter_paper_ballot(apna_colleague, voting_round, _entry(voting_round))
    assert paper.status == PaperStatus.MATCHED and paper.ballot_id is not None
    assert "priority_paper.matched" in _actions(apna.id)


def test_a_helper_has_no_other_organiser_powers(voting_round, apna, apna_staff, organiser,
                                                make_round):
    offer = services.ask_to_help(apna_staff, voting_round, apna)
    services.decide_help(organiser, offer, accept=True)
    db.session.commit()
    assert not services.can_organise(apna_staff, voting_round)
    priority = services.list_priorities(voting_round)[0]
    for attempt in (
            lambda: services.update_round(apna_staff, voting_round, {"title": "Taken over"}),
            lambda: services.set_phase(apna_staff, voting_round, Phase.RESULTS),
            lambda: services.create_priority(apna_staff, voting_round, {"title": "Mine"}),
            lambda: services.publish_response(apna_staff, priority, "will_fund", "Yes"),
            lambda: services.create_code_batch(apna_staff, voting_round, 5, "Apna"),
            lambda: services.invite_organisation(apna_staff, voting_round, apna)):
        with pytest.raises(PermissionDenied):
            attempt()
    # Paper ballots for that round only.
    other = make_round("voting", title="Another round")
    with pytest.raises(PermissionDenied):
        services.enter_paper_ballot(apna_staff, other, _entry(other))


def test_the_round_page_names_the_helper_and_offers_help_to_other_staff(
        client, sign_in_as, voting_round, apna, apna_staff, organiser, make_user, make_org):
    url = f"/priorities/rounds/{voting_round.slug}"
    assert 'data-testid="offer-help"' not in client.get(url).get_data(as_text=True)
    sign_in_as(organiser)
    assert 'data-testid="offer-help"' not in client.get(url).get_data(as_text=True)
    sign_in_as(apna_staff)
    assert 'data-testid="offer-help"' in client.get(url).get_data(as_text=True)
    response = client.post(f"{url}/help", data={"note": "Tuesday group"})
    assert response.status_code == 303
    [offer] = services.help_requests(voting_round)
    assert offer.organisation_id == apna.id and offer.note == "Tuesday group"
    # Not yet: no paper page, not named.
    assert client.get(f"{url}/paper").status_code == 403
    assert "with help from" not in client.get(url).get_data(as_text=True)
    # The organiser sees the offer on the manage page and accepts it.
    sign_in_as(organiser)
    manage = client.get(f"{url}/manage").get_data(as_text=True)
    assert "Apna Community Centre" in manage and "Tuesday group" in manage
    response = client.post(f"/priorities/invitations/{offer.id}/accept")
    assert response.status_code == 303 and "#section-helpers" in response.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "Paper ballots collected with help from Apna Community Centre" in page
    # The helper's staff get the paper page, not the manage page.
    sign_in_as(apna_staff)
    assert client.get(f"{url}/paper").status_code == 200
    assert client.get(f"{url}/manage").status_code == 403
    assert client.post(f"{url}/phase", data={"phase": "results"}).status_code == 403
    # Someone with no organisation is refused and nothing is written.
    sign_in_as(make_user())
    assert client.post(f"{url}/help", data={}).status_code == 403
    assert len(services.help_requests(voting_round)) == 1


def test_a_colleague_offering_after_an_offer_is_saved_is_thanked_not_refused(
        app, voting_round, apna, apna_staff, apna_colleague):
    """The round page stops offering help once the partner has offered, but a colleague
    whose form was already open still gets the thank-you page, and the partner keeps one
    offer (it was a 403 when the view checked the organisations still to offer)."""
    from tests.conftest import login

    db.session.commit()
    slug = voting_round.slug
    answers = []
    for person in (apna_staff, apna_colleague):
        client = app.test_client()
        login(client, person)
        answers.append(client.post(f"/priorities/rounds/{slug}/help",
                                   data={"note": "Tuesdays"}).status_code)
    assert answers == [303, 303]
    assert len(services.help_requests(voting_round)) == 1
