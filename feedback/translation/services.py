"""Review by people, translator grants, and telling admins when the job stops."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, false, func, or_, select
from sqlalchemy.orm import joinedload

from feedback.accounts.models import OrgRole, PlatformRole, User
from feedback.accounts.permissions import PermissionDenied, require_org_admin
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
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
    SegmentOwner,
    SegmentStatus,
    TranslationSegment,
    TranslatorGrant,
)
from feedback.translation.segments import (
    HTML,
    Difference,
    Segment,
    clean_inline_html,
    differences,
)

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


def _granted_owners(user: Any, language_code: str) -> set[int | None]:
    """The organisations (None: the platform) whose content ``user`` may review in this
    language."""
    return set(db.session.scalars(select(TranslatorGrant.organisation_id).where(
        TranslatorGrant.user_id == user.id, TranslatorGrant.language == language_code)))


def segment_owners(source_hash: str) -> set[int | None]:
    """Whose content the segment is; ``{None}`` (platform content) when nobody's."""
    return set(db.session.scalars(select(SegmentOwner.organisation_id).where(
        SegmentOwner.source_hash == source_hash))) or {None}


def may_review(user: Any, segment: TranslationSegment) -> bool:
    """Platform admins review everything. Other translators review a segment in their
    language when it is in content of an organisation that granted them the role (or
    platform content, with the platform admin's grant). A sentence shared by two
    organisations' content may be reviewed by either one's translators."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return bool(_granted_owners(user, segment.target_language)
                & segment_owners(segment.source_hash))


def require_reviewer(user: Any, segment: TranslationSegment) -> User:
    require_translator(user, segment.target_language)
    if not may_review(user, segment):
        raise PermissionDenied(_("You can review translations of your own organisation's "
                                 "content only."))
    return user


def _scope(user: Any, language_code: str):
    """A WHERE clause limiting segments to those ``user`` may review (None: all)."""
    if user is None or getattr(user, "is_admin", False):
        return None
    granted = _granted_owners(user, language_code)
    owned = select(SegmentOwner.id).where(
        SegmentOwner.source_hash == TranslationSegment.source_hash)
    conditions = []
    organisations = [org for org in granted if org is not None]
    if organisations:
        conditions.append(exists(owned.where(SegmentOwner.organisation_id.in_(organisations))))
    if None in granted:
        conditions += [exists(owned.where(SegmentOwner.organisation_id.is_(None))),
                       ~exists(owned)]
    return or_(*conditions) if conditions else false()


def grant_platform_translator(actor: Any, user: User,
                              languages: Iterable[str]) -> list[TranslatorGrant]:
    """The platform admin lets ``user`` review translations of platform content
    (topics, shared pages, and segments nobody owns)."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only platform admins can do this."))
    codes = _language_codes(languages)
    existing = set(db.session.scalars(select(TranslatorGrant.language).where(
        TranslatorGrant.user_id == user.id, TranslatorGrant.organisation_id.is_(None))))
    added = [TranslatorGrant(user_id=user.id, organisation_id=None, language=code,
                             granted_by_id=getattr(actor, "id", None))
             for code in codes if code not in existing]
    db.session.add_all(added)
    db.session.flush()
    if added:
        audit.record("translation.grant", actor=actor, target=user,
                     summary=f"Platform translator for {', '.join(codes)}", languages=codes)
    return added


def _language_codes(languages: Iterable[str]) -> list[str]:
    codes = []
    for code in languages:
        language = get_language(code)
        if language is None or language not in target_languages():
            raise ValidationError(_("Choose languages from the list."), "languages")
        codes.append(language.code)
    if not codes:
        raise ValidationError(_("Choose at least one language."), "languages")
    return codes


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
    codes = _language_codes(languages)
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

def queue_counts(user: Any = None) -> dict[str, int]:
    """Open segments (not yet approved) per target language; with ``user``, only those
    they may review."""
    if user is None or getattr(user, "is_admin", False):
        rows = db.session.execute(
            select(TranslationSegment.target_language, func.count())
            .where(TranslationSegment.status.in_(OPEN_STATUSES))
            .group_by(TranslationSegment.target_language))
        return {language: count for language, count in rows}
    counts = {}
    for language in reviewable_languages(user):
        counts[language.code] = db.session.scalar(
            select(func.count()).select_from(TranslationSegment)
            .where(TranslationSegment.target_language == language.code,
                   TranslationSegment.status.in_(OPEN_STATUSES),
                   _scope(user, language.code)))
    return counts


def review_queue(language_code: str, page: int = 1, user: Any = None) -> Page:
    """Open segments for one language: people's drafts first, then machine drafts, then
    segments nobody has drafted. With ``user``, only segments they may review."""
    order = case({SegmentStatus.NEEDS_REVIEW: 0, SegmentStatus.MACHINE_DRAFT: 1},
                 value=TranslationSegment.status, else_=2)
    statement = (select(TranslationSegment)
                 .where(TranslationSegment.target_language == language_code,
                        TranslationSegment.status.in_(OPEN_STATUSES))
                 .order_by(order, TranslationSegment.id))
    scope = _scope(user, language_code)
    if scope is not None:
        statement = statement.where(scope)
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


def describe_differences(found: Iterable[Difference]) -> list[str]:
    """Each difference in words, in the reader's language, naming what differs."""
    messages = []
    for difference in found:
        missing = ", ".join(difference.missing) or "-"
        added = ", ".join(difference.added) or "-"
        if difference.kind == "numbers":
            messages.append(_("The numbers differ from the original. In the original: "
                              "%(missing)s. In the translation instead: %(added)s.",
                              missing=missing, added=added))
        elif difference.kind == "links":
            messages.append(_("The links differ from the original. In the original: "
                              "%(missing)s. In the translation instead: %(added)s.",
                              missing=missing, added=added))
        else:
            messages.append(_("The formatting differs from the original (bold, "
                              "italics, links or line breaks). Keep the same formatting "
                              "as the original."))
    return messages


def segment_differences(segment: TranslationSegment) -> list[str]:
    """What a stored draft changes against its source, in words (for reviewers)."""
    if not segment.text:
        return []
    return describe_differences(differences(Segment(segment.source_text,
                                                    segment.text_format), segment.text))


def review_segment(actor: Any, segment: TranslationSegment, text: str | None,
                   approve: bool) -> TranslationSegment:
    """Save a translator's text. ``approve`` marks it checked, recording who and when;
    otherwise it waits as a person's draft (needs review).

    Approved text goes through the machine's checks: numbers, links and formatting must
    match the source. Text that differs is refused, naming the difference, unless a
    second reviewer approves, unchanged, a draft another person wrote. Every approval is
    audited with the text before and after."""
    require_reviewer(actor, segment)
    cleaned = _clean_translation(segment, text)
    before = {"text": segment.text, "status": segment.status.value}
    found = differences(Segment(segment.source_text, segment.text_format), cleaned)
    changed = cleaned != (segment.text or "")
    if approve and found:
        second_reviewer = (not changed and segment.status == SegmentStatus.NEEDS_REVIEW
                           and segment.origin == HUMAN_ORIGIN
                           and segment.edited_by_id not in (None, actor.id))
        if not second_reviewer:
            advice = _("Correct the translation, or save it as a draft for a second "
                       "translator to check.")
            raise ValidationError(" ".join([*describe_differences(found), advice]), "text")
    now = utcnow()
    if changed:
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
    forget_pages()  # anonymous pages show approved text (and stop showing an unchecked draft)
    owners = sorted(owner for owner in segment_owners(segment.source_hash) if owner)
    audit.record("translation.approved" if approve else "translation.draft", actor=actor,
                 target=segment,
                 summary=f"{'Approved' if approve else 'Draft of'} a {segment.target_language}"
                         f" translation" + (" with differences, as second reviewer"
                                            if approve and found else ""),
                 language=segment.target_language, source_hash=segment.source_hash,
                 organisations=owners, before=before,
                 after={"text": segment.text, "status": segment.status.value},
                 differences=[difference.kind for difference in found], edited=changed)
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
