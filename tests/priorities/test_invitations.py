"""Co-organisers are invited and run a round only once one of their admins accepts
(issue 13 item 3). Until then they are not named on it, not counted in its figures and
have no organisers' powers; every step is in both organisations' audit logs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.accountability import services as accountability
from feedback.accounts import services as accounts
from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import InvitationStatus, Phase, RoundInvitation


@pytest.fixture
def pennine(make_org):
    return make_org(kind="nhs", name="Pennine Care")


@pytest.fixture
def pennine_editor(make_user, pennine):
    return make_user(org=pennine, org_role="editor", name="Pennine Editor")


@pytest.fixture
def riverside_admin(make_user, trust):
    return make_user(org=trust, org_role="admin", name="Riverside Admin")


def _start_round_as_pennine(client, pennine, riverside):
    """organisations=<Pennine>&partners=<Riverside>, as in the report, then a shortlist
    and closed voting, so Riverside's record would show 0 % responded if it counted."""
    response = client.post("/priorities/rounds/new", data={
        "organisation": str(pennine.id), "partners": [str(riverside.id)],
        "title": "Pennine asthma priorities", "scope": "What should asthma research look at?",
        "groups": ["patients"]})
    assert response.status_code == 302
    round_ = services.get_round("pennine-asthma-priorities")
    return round_


def _actions(organisation_id):
    return {e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.organisation_id == organisation_id))}


def test_an_invited_organisation_is_not_named_or_counted_until_its_admin_accepts(
        client, sign_in_as, pennine, pennine_editor, trust, organiser, riverside_admin):
    riverside = trust
    before = accountability.organisation_record(riverside)
    sign_in_as(pennine_editor)
    round_ = _start_round_as_pennine(client, pennine, riverside)
    priority = services.create_priority(pennine_editor, round_, {"title": "Inhalers"})
    services.publish_shortlist(pennine_editor, round_, [priority.id])
    round_.phase = Phase.RESULTS
    db.session.commit()

    # Not listed anywhere public, not counted, no powers.
    for url in ("/priorities", f"/priorities/rounds/{round_.slug}",
                f"/api/v1/rounds/{round_.slug}", f"/print/rounds/{round_.slug}"):
        assert riverside.name not in client.get(url).get_data(as_text=True), url
    assert "Pennine Care" in client.get(f"/priorities/rounds/{round_.slug}").get_data(
        as_text=True)
    after = accountability.organisation_record(riverside)
    assert (after.priorities, after.response_share) == (before.priorities,
                                                        before.response_share) == (0, None)
    sign_in_as(organiser)  # an editor of Riverside
    assert client.get(f"/priorities/rounds/{round_.slug}/manage").status_code == 403
    assert "invitations-notice" not in client.get("/priorities").get_data(as_text=True)
    [invitation] = db.session.scalars(select(RoundInvitation)).all()
    assert client.post(f"/priorities/invitations/{invitation.id}/accept").status_code == 403
    assert "priority_round.co_organiser_invited" in _actions(riverside.id)
    assert "priority_round.co_organiser_invited" in _actions(pennine.id)

    # Riverside's admin sees the notice and the invitation, and accepts.
    sign_in_as(riverside_admin)
    assert 'data-testid="invitations-notice"' in client.get("/priorities").get_data(
        as_text=True)
    page = client.get("/priorities/invitations").get_data(as_text=True)
    assert "Pennine asthma priorities" in page and "from Pennine Care" in page
    response = client.post(f"/priorities/invitations/{invitation.id}/accept")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/priorities/rounds/{round_.slug}/manage")
    db.session.expire_all()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert riverside.name in client.get(f"/priorities/rounds/{round_.slug}").get_data(
        as_text=True)
    assert accountability.organisation_record(riverside).priorities == 1
    assert services.can_organise(organiser, round_)
    assert "priority_round.co_organiser_accepted" in _actions(riverside.id)
    assert "priority_round.co_organiser_accepted" in _actions(pennine.id)
    # Answered once only.
    assert client.post(f"/priorities/invitations/{invitation.id}/decline").status_code == 303
    db.session.expire_all()
    assert invitation.status == InvitationStatus.ACCEPTED


def test_a_declined_invitation_changes_nothing_public(client, sign_in_as, pennine,
                                                      pennine_editor, trust,
                                                      riverside_admin):
    sign_in_as(pennine_editor)
    round_ = _start_round_as_pennine(client, pennine, trust)
    manage = client.get(f"/priorities/rounds/{round_.slug}/manage").get_data(as_text=True)
    assert "waiting for one of its admins to accept" in manage
    [invitation] = db.session.scalars(select(RoundInvitation)).all()
    sign_in_as(riverside_admin)
    assert client.post(f"/priorities/invitations/{invitation.id}/decline").status_code == 303
    db.session.expire_all()
    assert invitation.status == InvitationStatus.DECLINED
    assert round_.organisations == [pennine]
    assert "priority_round.co_organiser_declined" in _actions(trust.id)
    assert "priority_round.co_organiser_declined" in _actions(pennine.id)
    assert "invitations-notice" not in client.get("/priorities").get_data(as_text=True)


def test_only_the_invited_organisations_own_admins_can_answer(make_user, pennine,
                                                              pennine_editor, trust):
    round_ = services.create_round(pennine_editor, [pennine, trust], {
        "title": "t", "scope": "s", "groups": ["patients"]})
    [invitation] = services.round_invitations(round_)
    for outsider in (make_user(role="admin"), pennine_editor,
                     make_user(org=trust, org_role="editor")):
        with pytest.raises(PermissionDenied):
            services.decide_invitation(outsider, invitation, accept=True)
    assert round_.organisations == [pennine]


def test_an_admin_of_both_organisations_accepts_by_starting_the_round(make_user, pennine,
                                                                      trust):
    both = make_user(org=pennine, org_role="editor")
    accounts.add_member(None, trust, both, "admin")
    round_ = services.create_round(both, [pennine, trust], {
        "title": "t", "scope": "s", "groups": ["patients"]})
    assert {o.id for o in round_.organisations} == {pennine.id, trust.id}
    assert services.round_invitations(round_) == []
