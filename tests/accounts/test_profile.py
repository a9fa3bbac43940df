"""Profile changes, account deletion and invitations."""

from __future__ import annotations

from sqlalchemy import select

from feedback.accounts.models import Invitation, Membership, OrgRole, User
from feedback.audit.models import AuditEvent
from feedback.extensions import db


def test_a_person_changes_their_display_name_and_language(make_user, login_as):
    user = make_user()
    client = login_as(user)
    response = client.post("/account", data={"display_name": "Wise Heron 3", "language": "ur"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.language) == ("Wise Heron 3", "ur")
    page = client.get("/account").get_data(as_text=True)
    assert 'lang="ur"' in page and 'dir="rtl"' in page


def test_display_names_over_the_limit_are_rejected_not_cut(make_user, login_as):
    user = make_user(name="Original")
    client = login_as(user)
    response = client.post("/account", data={"display_name": "x" * 61, "language": "en"})
    assert response.status_code == 400
    assert "60 characters or fewer" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.display_name == "Original"


def test_an_unknown_language_is_refused(make_user, login_as):
    client = login_as(make_user())
    response = client.post("/account", data={"display_name": "Kind Otter", "language": "xx"})
    assert response.status_code == 400


def test_deleting_an_account_erases_personal_data_and_ends_sessions(make_user, make_org,
                                                                    login_as):
    org = make_org()
    user = make_user(email="leaving@example.org", name="Leaving Person", org=org)
    client = login_as(user)
    assert client.post("/account/delete", data={}).status_code == 400
    response = client.post("/account/delete", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email is None and user.display_name is None and user.is_deleted
    assert user.public_name == "Former member"
    assert db.session.scalars(select(Membership)).all() == []
    # The old session no longer works.
    assert client.get("/account").status_code == 302


def test_deleted_people_can_sign_up_again_with_the_same_address(client, make_user, login_as,
                                                                outbox):
    user = make_user(email="back@example.org")
    login_as(user).post("/account/delete", data={"confirm": "y"})
    client.post("/sign-in", data={"email": "back@example.org"})
    token = outbox.links()[-1].rsplit("/", 1)[-1]
    assert client.post(f"/sign-in/{token}").status_code == 302
    assert db.session.scalar(select(User).where(User.email == "back@example.org")).id != user.id


def test_org_admins_invite_members_who_join_through_the_link(app, make_org, make_user, client,
                                                             outbox):
    org = make_org(name="Riverside Trust")
    admin = make_user(org=org, org_role="admin")
    invitee = make_user(email="new.editor@example.org")
    from tests.conftest import login

    login(client, admin)
    response = client.post(f"/organisations/{org.slug}/members",
                           data={"email": "new.editor@example.org", "role": "editor"})
    assert response.status_code == 302
    message = outbox.last()
    assert message["To"] == "new.editor@example.org"
    assert "Riverside Trust" in message["Subject"]
    link = next(link for link in outbox.links() if "/invitations/" in link)
    path = link.split("localhost", 1)[1]

    client.post("/sign-out")
    login(client, invitee)
    assert client.post(path).status_code == 302
    membership = db.session.scalar(select(Membership).where(Membership.user_id == invitee.id))
    assert membership.organisation_id == org.id and membership.role == OrgRole.EDITOR
    assert db.session.scalar(select(Invitation)).email is None
    again = client.post(path)
    assert again.status_code == 410
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "member.invited" in actions and "member.joined" in actions


def test_an_invitation_goes_out_in_the_invitees_language_not_the_inviters(
        make_org, make_user, login_as, outbox):
    org = make_org(name="Riverside Trust")
    client = login_as(make_user(org=org, org_role="admin"))
    client.get("/language?code=pl")  # the inviter reads Polish
    known = make_user(email="known@example.org")
    known.language = "ur"
    db.session.commit()
    client.post(f"/organisations/{org.slug}/members",
                data={"email": "known@example.org", "role": "editor"})
    urdu = outbox.last()
    assert urdu["Subject"] == (
        "آپ کو Feedback Loop پر \u2068Riverside Trust\u2069 میں شامل ہونے کی دعوت دی گئی ہے")
    text = outbox.text(urdu)
    assert "\u2068Riverside Trust\u2069 میں بطور" in text and "Zapraszamy" not in text
    # Someone without an account: the site's default language (English), not Polish.
    client.post(f"/organisations/{org.slug}/members",
                data={"email": "stranger@example.org", "role": "editor"})
    english = outbox.last()
    assert english["Subject"] == "You are invited to join \u2068Riverside Trust\u2069 on " \
        "Feedback Loop"
    assert "You have been invited to join \u2068Riverside Trust\u2069" in outbox.text(english)


def test_an_organisation_keeps_at_least_one_admin(make_org, make_user, login_as):
    org = make_org()
    admin = make_user(org=org, org_role="admin")
    membership = admin.memberships[0]
    client = login_as(admin)
    response = client.post(f"/organisations/{org.slug}/members/{membership.id}/remove")
    assert response.status_code == 303
    assert db.session.get(Membership, membership.id) is not None


def test_plain_text_emails_are_not_html_escaped(make_org, make_user, login_as, outbox):
    org = make_org(name="Harambee Women's Group & Friends")
    client = login_as(make_user(org=org, org_role="admin"))
    client.post(f"/organisations/{org.slug}/members",
                data={"email": "new@example.org", "role": "editor"})
    text = outbox.text(outbox.last())
    assert "Harambee Women's Group & Friends" in text
    assert "&amp;" not in text and "&#39;" not in text
