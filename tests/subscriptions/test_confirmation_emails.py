"""Confirmation emails speak the language the person chose, and a partner's names the
partner; subjects survive folding into encoded words in every catalog."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header

import pytest
from babel.support import Translations
from flask_babel import force_locale
from flask_babel import gettext as _

from feedback.core.languages import DEFAULT_LANGUAGES
from feedback.core.mail import build_message
from feedback.delivery.mime import Skeleton
from feedback.translation.catalogs import TRANSLATIONS_DIR

SETTINGS = {"name": "Apna news", "sender_name": "Apna Health Forum", "intro": "Salaam",
            "languages": ["en", "ur"], "cadence": "weekly", "send_weekday": "0",
            "send_hour": "9"}


def test_the_platform_confirmation_is_in_the_language_chosen_on_the_form(client, outbox):
    """The page is in English; the person chose Urdu for their digest."""
    client.post("/subscribe", data={"email": "amina@example.org", "language": "ur",
                                    "cadence": "weekly"})
    message = outbox.last()
    with force_locale("ur"):
        subject = _("Confirm your subscription to %(service)s", service="Feedback Loop")
        name = _("Weekly digest")
    assert message["Subject"] == subject
    assert f"“{name}”" in outbox.text(message)  # the digest's name, in Urdu too


def test_a_partner_confirmation_names_the_partner_in_the_contacts_language(
        make_org, make_user, login_as, outbox):
    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org)
    client = login_as(staff)
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    client.post(f"/partners/{org.slug}/newsletter/contacts",
                data={"email": "zara@example.org", "language": "ur"})
    message = outbox.last()
    text = outbox.text(message)
    with force_locale("ur"):
        subject = _("%(partner)s: please confirm you want their updates",
                    partner="Apna Health Forum")
        first_line = _("%(partner)s added this address to their list for “%(name)s”, to "
                       "send you news about what health data has led to.",
                       partner="Apna Health Forum", name="Apna news")
    assert message["Subject"] == subject
    assert text.splitlines()[0] == first_line
    assert "hopefully you" not in text and "امید ہے آپ ہی نے" not in text


def _subjects(translations: Translations) -> list[str]:
    """Every subject line the service sends, with long content in it, in one catalog."""
    title = "Pain relief for sickle cell crises in A&E is now much faster for everyone"
    values = {"service": "Feedback Loop", "title": title, "partner": "Apna Health Forum",
              "org": "Riverside University Hospitals NHS Foundation Trust",
              "provider": "deepl"}
    ids = ["Your sign-in link for %(service)s", "Confirm your subscription to %(service)s",
           "%(partner)s: please confirm you want their updates",
           "You already get updates from %(service)s", "New update: %(title)s",
           "News about a research priority you follow: %(title)s",
           "A response to a research priority you follow",
           "Your question has been answered: %(title)s",
           "You are invited to join %(org)s on %(service)s",
           "Translation stopped: %(provider)s"]
    subjects = [translations.gettext(msgid) % values for msgid in ids]
    week = translations.gettext("week of %(date)s") % {"date": "16 November 2026"}
    for name in ("Weekly digest", "Monthly digest"):
        subjects.append(translations.gettext("%(name)s, %(period)s") % {
            "name": translations.gettext(name), "period": week})
    return subjects


@pytest.mark.parametrize("language", DEFAULT_LANGUAGES, ids=lambda lang: lang.code)
def test_every_subject_survives_folding_exactly(app, language):
    """Built both ways the service builds messages (transactional mail, and the bulk
    skeletons of digests and follower notifications), then parsed back: not a
    character lost or added, in any catalog ("سبسکرپشن کی" once lost its space)."""
    translations = Translations.load(str(TRANSLATIONS_DIR), [language.babel_locale])
    sender = "اپنا ہیلتھ فورم، بریڈفورڈ کی کمیونٹی <no-reply@feedback.localhost>"
    for subject in _subjects(translations):
        built = bytes(build_message("reader@example.org", subject, "text",
                                    headers={"Reply-To": sender}))
        bulk = Skeleton([("From", sender), ("Subject", subject)]).message(
            to="reader@example.org", message_id="<1@feedback.localhost>",
            unsubscribe_url=None, text="text", html=None)
        for raw in (built, bulk):
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert str(parsed["Subject"]) == subject
            headers = raw.replace(b"\r\n", b"\n").split(b"\n\n")[0].split(b"\n")
            assert all(len(line) <= 78 for line in headers), raw  # folded, as RFC 5322 asks
        for raw, name in ((built, "Reply-To"), (bulk, "From")):  # display names too
            # Decoded as RFC 2047 says (and mail programs do): Python's own address parser
            # puts a space between any two encoded words, even inside a word.
            parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
            decoded = str(make_header(decode_header(parsed[name])))
            assert decoded == sender
