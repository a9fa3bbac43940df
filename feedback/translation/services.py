"""Review by people, translator grants, and telling admins when the job stops."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from feedback.accounts.models import OrgRole, PlatformRole, User
from feedback.accounts.permissions import PermissionDenied, require_org_admin
from feedback.audit import services as audit
from feedback.core.languages import (
    Language,
    get_language,
    source_language,
    target_languages,
)
from feedback.core.mail import send_template_email
from feedback.core.models import utcnow
from feedback.core.pagination import Page, paginate
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.translation.models import (
    HUMAN_ORIGIN,
    SegmentStatus,
    TranslationSegment,
    TranslatorGrant,
)
from feedback.translation.segments import HTML, clean_inline_html

SEGMENT_MAX = 20_000
OPEN_STATUSES = (SegmentStatus.NEEDS_REVIEW, SegmentStatus.MACHINE_DRAFT,
                 SegmentStatus.PENDING)


# Translators ---------------------------------------------------------------------------

def reviewable_languages(user: Any) -> list[Language]:
    """The target languages ``user`` may review: all for platform admins, else those an
    org admin granted them."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if user.is_admin:
        return list(target_languages())
    codes = set(db.session.scalars(select(TranslatorGrant.language)
                                   .where(TranslatorGrant.user_id == user.id)))
    return [language for language in target_languages() if language.code in codes]


def can_review(user: Any, language_code: str) -> bool:
    return any(language.code == language_code for language in reviewable_languages(user))


def require_translator(user: Any, language_code: str) -> User:
    if not can_review(user, language_code):
        raise PermissionDenied(_l("Only translators for this language can review it."))
    return user


def list_grants(organisation_id: int) -> Sequence[TranslatorGrant]:
    return db.session.scalars(
        select(TranslatorGrant).options(joinedload(TranslatorGrant.user))
        .where(TranslatorGrant.organisation_id == organisation_id)
        .order_by(TranslatorGrant.user_id, TranslatorGrant.language)).all()


def grant_translator(actor: Any, organisation: Any, user: User,
                     languages: Iterable[str]) -> list[TranslatorGrant]:
    """Let a member (editor or admin) of ``organisation`` review these languages."""
    require_org_admin(actor, organisation.id)
    membership = user.membership_of(organisation.id)
    if membership is None or membership.role not in (OrgRole.EDITOR, OrgRole.ADMIN):
        raise ValidationError(_l("Choose someone from your organisation."), "user_id")
    codes = []
    for code in languages:
        language = get_language(code)
        if language is None or language not in target_languages():
            raise ValidationError(_l("Choose languages from the list."), "languages")
        codes.append(language.code)
    if not codes:
        raise ValidationError(_l("Choose at least one language."), "languages")
    existing = {grant.language for grant in list_grants(organisation.id)
                if grant.user_id == user.id}
    added = []
    for code in codes:
        if code in existing:
            continue
        grant = TranslatorGrant(user_id=user.id, organisation_id=organisation.id,
                                language=code, granted_by_id=getattr(actor, "id", None))
        db.session.add(grant)
        added.append(grant)
    db.session.flush()
    if added:
        audit.record("translation.grant", actor=actor, organisation=organisation,
                     target=user, summary=f"Translator for {', '.join(codes)}",
                     languages=codes)
    return added


def revoke_translator(actor: Any, organisation: Any, grant_id: int) -> None:
    require_org_admin(actor, organisation.id)
    grant = db.session.get(TranslatorGrant, grant_id)
    if grant is None or grant.organisation_id != organisation.id:
        raise ValidationError(_l("That translator role no longer exists."))
    audit.record("translation.revoke", actor=actor, organisation=organisation,
                 target=grant.user, summary=f"No longer translator for {grant.language}",
                 language=grant.language)
    db.session.delete(grant)
    db.session.flush()


# Review ---------------------------------------------------------------------------------

def queue_counts() -> dict[str, int]:
    """Open segments (not yet approved) per target language."""
    rows = db.session.execute(
        select(TranslationSegment.target_language, func.count())
        .where(TranslationSegment.status.in_(OPEN_STATUSES))
        .group_by(TranslationSegment.target_language))
    return {language: count for language, count in rows}


def review_queue(language_code: str, page: int = 1) -> Page:
    """Open segments for one language: people's drafts first, then machine drafts, then
    segments nobody has drafted."""
    order = case({SegmentStatus.NEEDS_REVIEW: 0, SegmentStatus.MACHINE_DRAFT: 1},
                 value=TranslationSegment.status, else_=2)
    statement = (select(TranslationSegment)
                 .where(TranslationSegment.target_language == language_code,
                        TranslationSegment.status.in_(OPEN_STATUSES))
                 .order_by(order, TranslationSegment.id))
    return paginate(statement, page, per_page=20)


def get_segment(segment_id: int, language_code: str) -> TranslationSegment:
    segment = db.session.get(TranslationSegment, segment_id)
    if segment is None or segment.target_language != language_code:
        raise LookupError(segment_id)
    return segment


def _clean_translation(segment: TranslationSegment, text: str | None) -> str:
    cleaned = clean_text(text, label=_l("the translation"), max_length=SEGMENT_MAX,
                         required=True, field="text", multiline=True)
    if segment.text_format == HTML:
        cleaned = clean_inline_html(cleaned)
        if not cleaned:
            raise ValidationError(_l("Enter the translation."), "text")
    return cleaned


def review_segment(actor: Any, segment: TranslationSegment, text: str | None,
                   approve: bool) -> TranslationSegment:
    """Save a translator's text. ``approve`` marks it checked, recording who and when;
    otherwise it waits as a person's draft (needs review)."""
    require_translator(actor, segment.target_language)
    cleaned = _clean_translation(segment, text)
    now = utcnow()
    if cleaned != (segment.text or ""):
        segment.text = cleaned
        segment.origin = HUMAN_ORIGIN
        segment.edited_by_id = actor.id
        segment.edited_at = now
        segment.translated_at = segment.translated_at or now
    segment.last_error = None
    segment.next_attempt_at = None
    if approve:
        segment.status = SegmentStatus.APPROVED
        segment.approved_by_id = actor.id
        segment.approved_at = now
    else:
        segment.status = SegmentStatus.NEEDS_REVIEW
        segment.approved_by_id = None
        segment.approved_at = None
    db.session.flush()
    return segment


def provider_usage(month: str) -> list[dict]:
    """Calls and characters per provider this month, with budgets (for admins)."""
    from feedback.translation.models import ProviderUsage
    from feedback.translation.providers import configured_providers, monthly_budgets

    budgets = monthly_budgets()
    used = {row.provider: row for row in db.session.scalars(
        select(ProviderUsage).where(ProviderUsage.month == month))}
    return [{"provider": name, "calls": used[name].calls if name in used else 0,
             "characters": used[name].characters if name in used else 0,
             "budget": budgets.get(name, 0),
             "paused_until": used[name].paused_until if name in used else None}
            for name in sorted(configured_providers())]


# Admin notices --------------------------------------------------------------------------

def notify_admins(provider: str, reason: str) -> None:
    """Tell platform admins that the translation job stopped using ``provider``."""
    audit.record("translation.provider_stopped", actor=None,
                 summary=f"Stopped using {provider}: {reason}", provider=provider)
    admins = db.session.scalars(select(User).where(User.role == PlatformRole.ADMIN,
                                                   User.deleted_at.is_(None),
                                                   User.email.is_not(None))).all()
    for admin in admins:
        language = get_language(admin.language) or source_language()
        with force_locale(language.babel_locale):  # each admin's own language
            send_template_email(admin.email,
                                _("Translation stopped: %(provider)s", provider=provider),
                                "translation_stopped", provider=provider, reason=reason,
                                service=current_app.config["SERVICE_NAME"])
