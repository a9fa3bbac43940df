"""Demo newsletters: two VCSE partners' audiences with contacts who agreed on paper
forms, and a few confirmed readers of the platform's weekly digest. The scheduler makes
their editions when they are due; nothing is sent outside the outbox folder."""

from __future__ import annotations

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.organisations.models import Organisation
from feedback.subscriptions import services
from feedback.subscriptions.models import (
    Audience,
    Cadence,
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
)

NEWSLETTERS = [
    ("apna-health-forum", "staff@apna.example.org", {
        "name": "Apna Health Forum: your data, your say", "sender_name": "Apna Health Forum",
        "intro": "Here is what local NHS services changed because of **patient data**. "
                 "Ask us at any group session if you want to talk about it.",
        "outro": "Groups meet on Fridays at the community centre.",
        "languages": ["en", "ur", "bn", "pa-Arab"], "cadence": "weekly", "send_weekday": 4,
        "send_hour": 9},
     [("nasreen@apna-readers.example.org", "Nasreen", "ur"),
      ("rahim@apna-readers.example.org", "Rahim", "bn"),
      ("gurpreet@apna-readers.example.org", "Gurpreet", "pa-Arab"),
      ("sarah@apna-readers.example.org", "Sarah", "en")]),
    ("harambee-womens-group", None, {
        "name": "Harambee maternity news", "sender_name": "Harambee Women's Group",
        "intro": "News from local maternity services.", "outro": "",
        "languages": ["en", "so"], "cadence": "monthly", "send_hour": 10},
     [("hodan@harambee-readers.example.org", "Hodan", "so"),
      ("grace@harambee-readers.example.org", "Grace", "en")]),
]

PLATFORM_READERS = [("reader1@feedback-demo.example.org", "en"),
                    ("reader2@feedback-demo.example.org", "pl")]


def seed() -> int:
    created = 0
    for slug, staff_email, settings, contacts in NEWSLETTERS:
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        if organisation is None:
            continue
        audience = services.partner_audience(organisation.id)
        if audience is None:
            audience = Audience(organisation_id=organisation.id, **{
                key: (Cadence(value) if key == "cadence" else value)
                for key, value in settings.items()})
            db.session.add(audience)
            created += 1
        staff = db.session.scalar(select(User).where(User.email == staff_email)) \
            if staff_email else None
        for email, name, language in contacts:
            created += _reader(audience, email, name, language, f"partner:{slug}", staff)
    weekly = services.platform_audience(Cadence.WEEKLY)
    for email, language in PLATFORM_READERS:
        created += _reader(weekly, email, "", language, "/subscribe", None)
    db.session.flush()
    return created


def _reader(audience: Audience, email: str, name: str, language: str, source: str,
            attested_by) -> int:
    db.session.flush()
    if db.session.scalar(select(Subscriber.id).where(Subscriber.audience_id == audience.id,
                                                     Subscriber.email == email)):
        return 0
    subscriber = Subscriber(audience=audience, email=email, name=name, language=language,
                            status=SubscriberStatus.CONFIRMED, confirmed_at=utcnow())
    db.session.add(subscriber)
    action = ConsentAction.ATTESTED if attested_by is not None or source.startswith(
        "partner:") else ConsentAction.CONFIRMED
    db.session.add(ConsentRecord(
        subscriber=subscriber, action=action, source=source,
        wording_version=services.WORDING_VERSION,
        basis="Signed the group's paper consent form (demo)" if action ==
        ConsentAction.ATTESTED else "", attested_by_id=getattr(attested_by, "id", None)))
    return 1
