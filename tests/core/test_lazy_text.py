"""``lazy_text``: a ``lazy_gettext`` label through the request's catalog is the same
text ``str()`` gives, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from feedback.core.i18n import lazy_text
from feedback.updates.models import KIND_LABELS, UpdateKind


def test_a_label_is_the_text_str_gives_in_the_readers_language(app):
    label = KIND_LABELS[UpdateKind.FINDING]
    for language, expected in (("en", "Finding"), ("cy", "Canfyddiad"), ("ur", "نتیجہ")):
        # A fresh app context (its own ``g``) for each request, as the server gives one.
        with app.app_context(), app.test_request_context(
                "/", headers={"Accept-Language": language}):
            assert lazy_text(label) == str(label) == expected, language


def test_a_label_with_variables_or_no_request_is_str():
    assert lazy_text("plain") == "plain"
    assert lazy_text(_l("Updated %(date)s", date="today")).endswith("today")


def test_outside_a_request_the_source_language(app):
    assert lazy_text(KIND_LABELS[UpdateKind.FINDING]) == "Finding"
