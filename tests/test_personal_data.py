"""Personal data is kept no longer than needed (issue 13, item 15).

Every column whose name says it could hold an email address, phone number or a person's
name must say in ``info["personal"]`` when it is erased (or ``False``); docs/privacy.md
lists each one; account deletion leaves no trace of the address, name or phone anywhere;
the retention job deletes and erases on time, keeping only keyed hashes."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

import feedback.models  # noqa: F401  (every model, so the metadata is complete)
from feedback.accounts import services as accounts
from feedback.accounts.models import Invitation, OrgRole, SignInToken
from feedback.core.addresses import address_hash
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import (
    Cadence,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
    Suppression,
)

ROOT = Path(__file__).resolve().parent.parent
# A column named like this could hold personal data: it must declare a rule.
PERSONAL_NAME = re.compile(r"(^|_)(e_?mail|phone|mobile|telephone|name|surname|forename)$")

EMAIL, NAME, PHONE = "amina.leaving@example.org", "Amina Leaving", "07911 123456"
STORED_PHONE = "+447911123456"  # E.164, as the sign-up stores it


def _columns_named_personal():
    return [(table.name, column) for table in db.metadata.sorted_tables
            for column in table.columns if PERSONAL_NAME.search(column.name)]


def _personal_columns():
    return [(table.name, column) for table in db.metadata.sorted_tables
            for column in table.columns if column.info.get("personal")]


def test_every_column_that_could_hold_personal_data_has_a_rule():
    found = _columns_named_personal()
    assert len(found) >= 8  # the pattern still finds the known ones
    missing = [f"{table}.{column.name}" for table, column in found
               if "personal" not in column.info]
    assert missing == [], (
        "Say in info={'personal': ...} when these are erased (feedback.core.models."
        "personal), or NOT_PERSONAL if they never hold a person's details, and list them in "
        f"docs/privacy.md: {missing}")
    for _table, column in _personal_columns():
        assert isinstance(column.info["personal"], str) and len(column.info["personal"]) > 20


def test_docs_privacy_lists_every_personal_column():
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    missing = [f"{table}.{column.name}" for table, column in _personal_columns()
               if f"`{table}.{column.name}`" not in text]
    assert missing == []


def _traces(values: tuple[str, ...]) -> list[str]:
    """Every (table.column) where any of ``values`` is still stored, in any text column."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String | sa.Text | sa.JSON):
                continue
            text_value = sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) \
                else column
            conditions = [text_value.contains(value) for value in values]
            if db.session.scalar(select(sa.func.count()).select_from(table)
                                 .where(sa.or_(*conditions))):
                found.append(f"{table.name}.{column.name}")
    return found


def test_deleting_an_account_leaves_no_trace_of_the_address_name_or_phone(
        app, client, make_user, make_org, login_as, outbox):
    partner = make_org(kind="vcse", name="Apna Health Forum")
    admin = make_user(org=partner, org_role="admin")
    person = make_user(email=EMAIL, name=NAME)
    # The address turns up in every place that can hold it:
    with app.test_request_context():
        accounts.request_sign_in(EMAIL, "/updates")  # a sign-in link
        accounts.invite_member(admin, partner, EMAIL, OrgRole.EDITOR)  # an invitation
    subscriptions.subscribe({"email": EMAIL, "language": "en", "cadence": "weekly",
                             "phone": PHONE}, "/subscribe")  # a digest, pending
    audience = subscriptions.save_partner_audience(admin, partner, {
        "name": "Apna news", "languages": ["en"], "cadence": "weekly"})
    subscriptions.add_contact(admin, audience, {"email": EMAIL, "name": NAME,
                                                "attested": True, "basis": "paper form"})
    db.session.commit()
    assert len(_traces((EMAIL,))) >= 4

    client = login_as(person)
    assert client.post("/account/delete", data={"confirm": "y"}).status_code == 302
    db.session.expire_all()

    assert _traces((EMAIL, NAME, PHONE, STORED_PHONE)) == []
    erased = db.session.scalars(select(Subscriber)).all()
    assert len(erased) == 2 and all(s.is_erased for s in erased)
    assert {s.status for s in erased} == {SubscriberStatus.UNSUBSCRIBED}
    # The ledger stays, pseudonymous: found again only from the address.
    ledger = db.session.scalars(select(ConsentRecord)).all()
    assert ledger and {r.address_hash for r in ledger} == {address_hash(EMAIL)}


def _age(model, row_id, **when):
    db.session.execute(sa.update(model).where(model.id == row_id).values(**when))


def test_the_retention_job_deletes_and_erases_on_time(app, make_user, make_org):
    from feedback.scheduler import JOBS, resolve

    partner = make_org(kind="vcse")
    admin = make_user(org=partner, org_role="admin")
    now = utcnow()
    with app.test_request_context():
        accounts.request_sign_in("old@example.org")
        accounts.request_sign_in("new@example.org")
        old_invite = accounts.invite_member(admin, partner, "old-invite@example.org",
                                            OrgRole.EDITOR)
        live_invite = accounts.invite_member(admin, partner, "live@example.org",
                                             OrgRole.EDITOR)
    audience = subscriptions.platform_audience(Cadence.WEEKLY)
    gone = Subscriber(audience=audience, email="gone@example.org", name="Gone", phone="1",
                      status=SubscriberStatus.UNSUBSCRIBED,
                      unsubscribed_at=now - timedelta(days=31))
    recent = Subscriber(audience=audience, email="recent@example.org", name="Recent",
                        status=SubscriberStatus.UNSUBSCRIBED,
                        unsubscribed_at=now - timedelta(days=29))
    staying = Subscriber(audience=audience, email="staying@example.org", name="Staying",
                         status=SubscriberStatus.CONFIRMED, confirmed_at=now)
    db.session.add_all([gone, recent, staying])
    db.session.flush()
    subscriptions.record_consent(gone, subscriptions.ConsentAction.UNSUBSCRIBED, "/x")
    old_token = db.session.scalar(select(SignInToken.id).where(
        SignInToken.email == "old@example.org"))
    _age(SignInToken, old_token, created_at=now - timedelta(days=1, minutes=1))
    _age(Invitation, old_invite.id, expires_at=now - timedelta(days=2))
    db.session.commit()

    [(_job, path, _trigger)] = [job for job in JOBS if job[0] == "purge-personal-data"]
    purged = resolve(path)()
    assert (purged.sign_in_links, purged.invitations, purged.unsubscribed) == (1, 1, 1)
    db.session.expire_all()

    assert db.session.scalars(select(SignInToken.email)).all() == ["new@example.org"]
    assert db.session.get(Invitation, old_invite.id).email is None
    assert db.session.get(Invitation, live_invite.id).email == "live@example.org"
    assert (gone.email, gone.name, gone.phone) == (None, "", "")
    assert recent.email == "recent@example.org" and staying.email == "staying@example.org"
    [record] = db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.subscriber_id == gone.id)).all()
    assert record.address_hash == address_hash("gone@example.org")
    assert resolve(path)().unsubscribed == 0  # nothing more to do


def test_the_suppression_list_keeps_only_a_keyed_hash_and_still_works_after_erasure(
        app, make_app):
    subscriptions.suppress("Bounced@Example.org", "hard bounce")
    audience = subscriptions.platform_audience(Cadence.WEEKLY)
    subscriber = Subscriber(audience=audience, email="bounced@example.org",
                            status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=utcnow())
    db.session.add(subscriber)
    db.session.commit()
    subscriptions.erase_subscriber(subscriber, "test")
    db.session.commit()
    assert _traces(("bounced@example.org", "Bounced@Example.org")) == []
    [row] = db.session.scalars(select(Suppression)).all()
    assert re.fullmatch(r"[0-9a-f]{64}", row.address_hash)
    assert subscriptions.is_suppressed("bounced@example.org")
    assert not subscriptions.is_suppressed("someone.else@example.org")
    # The database computes the same hash (pgcrypto on PostgreSQL, a function on SQLite).
    from feedback.core.addresses import address_hash_sql

    assert db.session.scalar(select(address_hash_sql(sa.literal("bounced@example.org")))) \
        == row.address_hash


@pytest.mark.parametrize("page", ["manage", "unsubscribe"])
def test_links_of_an_erased_subscriber_reveal_nothing(app, client, page):
    audience = subscriptions.platform_audience(Cadence.WEEKLY)
    subscriber = Subscriber(audience=audience, email="erased@example.org",
                            status=SubscriberStatus.CONFIRMED)
    db.session.add(subscriber)
    db.session.commit()
    links = subscriptions.links_for(subscriber.id)
    subscriptions.erase_subscriber(subscriber, "test")
    db.session.commit()
    response = client.get(links[page].replace("http://localhost", ""))
    assert response.status_code == (410 if page == "manage" else 200)
    assert "erased@example.org" not in response.get_data(as_text=True)


def test_the_privacy_notice_states_the_retention_periods(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert "sign-in link 1 day after" in page
    assert "phone number 30 days later" in page
    app.config["RETENTION_UNSUBSCRIBED_DAYS"] = 1
    assert "phone number 1 day later" in client.get("/privacy").get_data(as_text=True)
