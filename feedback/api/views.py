"""JSON API v1. Reads are public; writes need an organisation's API token
(``Authorization: Bearer fbk_...``). Every answer, error or not, is in the envelope of
feedback/core/envelope.py. The OpenAPI document at /api/v1/openapi.json describes it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_babel import format_number
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from feedback.api import tokens
from feedback.api.openapi import input_schema, openapi_document
from feedback.core.caching import cached_page
from feedback.core.envelope import ApiError, document, error_document, use_requested_language
from feedback.core.languages import Language, enabled_languages, get_language, source_language
from feedback.core.models import utcnow
from feedback.core.pagination import paginate
from feedback.core.urls import external_url, url_maker
from feedback.core.validation import ValidationError
from feedback.extensions import csrf, db, limiter
from feedback.organisations.models import Dataset, Organisation, OrganisationKind, Service
from feedback.translation.display import (
    Localised,
    field_status,
    localise,
    prefetch_translations,
)
from feedback.translation.registry import translatable_fields
from feedback.updates import services
from feedback.updates.models import MAX_ID, Update
from feedback.updates.services import UpdateFilters, UpdateLinks, UpdateLocked

bp = Blueprint("api", __name__)
csrf.exempt(bp)
bp.before_request(use_requested_language)



@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return error_document(error)


@bp.errorhandler(ValidationError)
def validation_error(error: ValidationError):
    status = 409 if isinstance(error, UpdateLocked) else 400
    if request.method == "GET":  # a filter in the query string
        return api_error(ApiError(status, error.message, parameter=error.field))
    pointer = f"/{error.field}" if error.field else None
    return api_error(ApiError(status, error.message, pointer=pointer))


# Languages ----------------------------------------------------------------------------
# ``?lang=ur`` returns each translatable field in that language (approved translations
# and labelled machine drafts, segment by segment; the original where there is neither)
# and a ``translation`` object giving the language and each field's status: original,
# approved, machine, partial (some still in the original) or untranslated. Markdown
# fields keep their original Markdown; their ``_html`` twin is translated.

def requested_language() -> Language | None:
    """The language asked for with ``?lang=`` (None: the original), or a 400."""
    code = request.args.get("lang", "")
    if not code:
        return None
    language = get_language(code)
    if language is None:
        codes = ", ".join(language.code for language in enabled_languages())
        raise ApiError(400, _("lang must be one of: %(codes)s.", codes=codes),
                       parameter="lang")
    return None if language.code == source_language().code else language


class _Translator:
    """Translates one object's fields for the response, collecting their statuses."""

    def __init__(self, language: Language | None):
        self.language = language
        self.statuses: dict[str, str] = {}

    def field(self, obj: Any, name: str, key: str | None = None) -> Localised | None:
        if self.language is None:
            return None
        kind = translatable_fields(obj).get(name, "text")
        result = localise(getattr(obj, name, None), kind, self.language)
        status = field_status(result)
        key = key or name
        # Several objects under one key (the datasets' names): the weakest status wins.
        order = ["untranslated", "partial", "machine", "approved", "original"]
        if key in self.statuses:
            status = min(status, self.statuses[key], key=order.index)
        self.statuses[key] = status
        return result

    def text(self, obj: Any, name: str, key: str | None = None) -> str:
        result = self.field(obj, name, key)
        return result.text if result is not None else getattr(obj, name)

    def description(self, obj: Any) -> dict[str, str]:
        """The original Markdown, and with a language its translated HTML."""
        result = self.field(obj, "description")
        return {"description": obj.description,
                **({"description_html": str(result.html)} if result is not None else {})}

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.language is not None:
            data["translation"] = {"language": self.language.code,
                                   "direction": self.language.direction,
                                   "fields": self.statuses}
        return data


# Serialising --------------------------------------------------------------------------

def organisation_json(org: Organisation, language: Language | None = None) -> dict[str, Any]:
    tr = _Translator(language)
    return tr.apply({
        "slug": org.slug, "name": tr.text(org, "name"), "kind": org.kind.value,
        "area": org.area, "ods_code": org.ods_code, "website": org.website,
        **tr.description(org), "verified": org.verified,
        "url": external_url("organisations.organisation", slug=org.slug)})


def dataset_json(dataset: Dataset, language: Language | None = None) -> dict[str, Any]:
    tr = _Translator(language)
    return tr.apply({
        "slug": dataset.slug, "name": tr.text(dataset, "name"), **tr.description(dataset),
        "link": dataset.link, "organisation": dataset.organisation.slug,
        "custodian": dataset.custodian_label,
        "url": external_url("organisations.dataset", slug=dataset.slug)})


def service_json(service: Service, language: Language | None = None) -> dict[str, Any]:
    tr = _Translator(language)
    return tr.apply({
        "slug": service.slug, "name": tr.text(service, "name"), "area": service.area,
        **tr.description(service), "organisation": service.organisation.slug,
        "url": external_url("organisations.service", slug=service.slug)})


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _update_parts(update: Update, revisions: bool = False) -> list[Any]:
    """Every object whose text an update's JSON shows (for one prefetch)."""
    return [update, update.organisation, *update.datasets, *update.services, *update.terms,
            *update.evidence_links, *(update.revisions if revisions else [])]


def _link_texts(links: UpdateLinks) -> list[str]:
    """The texts an update's JSON shows of its links (for one prefetch)."""
    return [*(item.name for part in (links.datasets, links.services, links.topics,
                                     links.areas, links.community_tags) for item in part),
            *(link.title for link in links.evidence_links)]


def update_json(update: Update, revisions: bool = False,
                language: Language | None = None, url: str | None = None,
                links: UpdateLinks | None = None) -> dict[str, Any]:
    """``url``: the update's address, and ``links`` what it links to, when the caller
    has them (a list makes the addresses with one ``url_maker`` and reads the links as
    plain rows); otherwise from the update itself."""
    tr = _Translator(language)
    links = links or UpdateLinks.of(update)
    body = tr.field(update, "body")
    data = {
        "id": update.id, "slug": update.slug,
        "url": url or external_url("updates.update", slug=update.slug),
        "title": tr.text(update, "title"), "summary": tr.text(update, "summary"),
        "body": update.body,
        "body_html": str(body.html) if body else services.rendered_body(update.body),
        "kind": update.kind.value, "status": update.status.value,
        "organisation": {"slug": update.organisation.slug,
                         "name": tr.text(update.organisation, "name", "organisation")},
        "datasets": [{"slug": d.slug, "name": tr.text(d, "name", "datasets")}
                     for d in links.datasets],
        "services": [{"slug": s.slug, "name": tr.text(s, "name", "services")}
                     for s in links.services],
        "topics": [tr.text(t, "name", "topics") for t in links.topics],
        "areas": [tr.text(t, "name", "areas") for t in links.areas],
        "community_tags": [tr.text(t, "name", "community_tags")
                           for t in links.community_tags],
        "what_changed": tr.text(update, "what_changed"),
        "who_benefits": tr.text(update, "who_benefits"),
        "evidence_links": [{"title": tr.text(link, "title", "evidence_links")
                            if link.title else link.title, "url": link.url}
                           for link in links.evidence_links],
        "purpose": tr.text(update, "purpose"), "legal_basis": tr.text(update, "legal_basis"),
        "opt_out_applied": update.opt_out_applied.value,
        "content_checked_on": _iso(update.content_checked_on),
        "next_check_due": _iso(update.next_check_due),
        "answers_priority_id": update.answers_priority_id,
        "published_at": _iso(update.published_at), "updated_at": _iso(update.updated_at),
        "withdrawn_at": _iso(update.withdrawn_at),
        "withdrawal_reason": update.withdrawal_reason or None,
    }
    if revisions:
        data["revisions"] = [{"number": r.number, "created_at": _iso(r.created_at),
                              "change_note": tr.text(r, "change_note", "revisions")}
                             for r in update.revisions]
    return tr.apply(data)


# Reading ------------------------------------------------------------------------------

def _per_page(default: int = 20) -> int:
    raw = request.args.get("per_page", "")
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ApiError(400, _("%(name)s must be a whole number from 1 to %(most)s.",
                               name="per_page", most=100),
                       parameter="per_page")
    return int(raw)


def _page_number() -> int:
    raw = request.args.get("page", "")
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ApiError(400, _("%(name)s must be a whole number from 1 to %(most)s.",
                               name="page", most=100_000), parameter="page")
    return int(raw)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/updates")
@cached_page()  # keyed by address (filters, cursor, lang) and language, not by body
def list_updates():
    filters = UpdateFilters.from_args(request.args)
    language = requested_language()
    page = services.list_published_updates(filters, cursor=request.args.get("cursor") or None,
                                           per_page=_per_page(), details=True)
    lang = {"lang": language.code} if language else {}
    next_link = (external_url("api.list_updates", **filters.as_args(), cursor=page.next_cursor,
                           per_page=_per_page(), **lang) if page.next_cursor else None)
    links = page.links or {}
    if language is not None:
        prefetch_translations([part for u in page.items for part in (u, u.organisation)],
                              language, texts=[text for u in page.items
                                               for text in _link_texts(links[u.id])])
    link = url_maker(external_url, "updates.update", "slug")
    return document([update_json(u, language=language, url=link(u.slug), links=links[u.id])
                     for u in page.items],
                    next_link=next_link,
                    meta={"next_cursor": page.next_cursor, "per_page": _per_page()})


def _update_for_reading(update_id: int) -> Update:
    update = services.get_update(update_id)
    if update.is_draft:
        token = tokens.authenticate(request.headers.get("Authorization"))
        if token is None or token.organisation_id != update.organisation_id:
            raise ApiError(404, _("There is no published update with that id."))
    return update


@bp.get("/updates/<int:update_id>")
@cached_page()
def get_update(update_id: int):
    language = requested_language()
    update = _update_for_reading(update_id)
    if language is not None:
        prefetch_translations(_update_parts(update, revisions=True), language)
    return document(update_json(update, revisions=True, language=language))


def _listing(statement, serialise):
    language = requested_language()
    page = paginate(statement, _page_number(), _per_page(50))
    if language is not None:
        prefetch_translations(page.items, language)
    per_page = _per_page(50)
    next_link = None
    if page.has_next:
        args = {**request.args.to_dict(), "page": page.page + 1}
        next_link = external_url(request.endpoint or "", **args)
    return document([serialise(item, language) for item in page.items], next_link=next_link,
                    meta={"page": page.page, "per_page": per_page,
                          "has_next": page.has_next})


def _one(item: Any, serialise):
    language = requested_language()
    return document(serialise(item, language))


def _org_filter(statement, model):
    slug = request.args.get("organisation")
    if slug:
        statement = statement.where(model.organisation_id.in_(
            select(Organisation.id).where(Organisation.slug == slug)))
    return statement


@bp.get("/organisations")
def list_organisations():
    statement = select(Organisation).order_by(Organisation.name, Organisation.id)
    kind = request.args.get("kind")
    if kind:
        try:
            statement = statement.where(Organisation.kind == OrganisationKind(kind))
        except ValueError:
            raise ApiError(400, _("Unknown kind of organisation."),
                           parameter="kind") from None
    return _listing(statement, organisation_json)


@bp.get("/organisations/<slug>")
def get_organisation(slug: str):
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise ApiError(404, _("There is no organisation with that name."))
    return _one(org, organisation_json)


@bp.get("/datasets")
def list_datasets():
    statement = (select(Dataset).options(joinedload(Dataset.organisation),
                                         joinedload(Dataset.custodian))
                 .order_by(Dataset.name, Dataset.id))
    return _listing(_org_filter(statement, Dataset), dataset_json)


@bp.get("/datasets/<slug>")
def get_dataset(slug: str):
    item = db.session.scalar(select(Dataset).options(joinedload(Dataset.organisation))
                             .where(Dataset.slug == slug))
    if item is None:
        raise ApiError(404, _("There is no dataset with that name."))
    return _one(item, dataset_json)


@bp.get("/services")
def list_services():
    statement = (select(Service).options(joinedload(Service.organisation))
                 .order_by(Service.name, Service.id))
    return _listing(_org_filter(statement, Service), service_json)


@bp.get("/services/<slug>")
def get_service(slug: str):
    item = db.session.scalar(select(Service).options(joinedload(Service.organisation))
                             .where(Service.slug == slug))
    if item is None:
        raise ApiError(404, _("There is no service with that name."))
    return _one(item, service_json)


# Writing ------------------------------------------------------------------------------

def _token() -> tokens.TokenActor:
    record = tokens.authenticate(request.headers.get("Authorization"))
    if record is None:
        raise ApiError(401, _("Send a live API token: %(header)s",
                               header="Authorization: Bearer fbk_..."))
    record.last_used_at = utcnow()
    g.api_token = record
    return tokens.TokenActor(record)


def _schema_message(error) -> str:
    """A plain message for a schema error, without echoing the value back. Field names
    are the API's own, the same in every language."""
    field = ".".join(str(part) for part in error.path) or _("The body")
    rule, kind = error.validator_value, error.validator
    if kind == "maxLength":
        length = len(error.instance) if isinstance(error.instance, str) else 0
        return _("%(field)s must be %(most)s characters or fewer (it has %(length)s).",
                 field=field, most=format_number(rule), length=format_number(length))
    if kind == "pattern":
        return _("%(field)s is empty or contains characters that are not allowed.",
                 field=field)
    if kind == "enum":
        return _("%(field)s must be one of: %(values)s.", field=field,
                 values=", ".join(map(str, rule)))
    if kind == "required":
        missing = [name for name in rule if name not in (error.instance or {})]
        return _("%(field)s is missing a required field: %(names)s.", field=field,
                 names=", ".join(missing))
    simple = {
        "minLength": lambda: _("%(field)s must not be empty.", field=field),
        "type": lambda: _("%(field)s must be of type %(type)s.", field=field, type=rule),
        "maxItems": lambda: _("%(field)s has too many items (at most %(most)s).",
                              field=field, most=rule),
        "minItems": lambda: _("%(field)s needs at least %(least)s item.", field=field,
                              least=rule),
        "format": lambda: _("%(field)s must be a %(format)s.", field=field, format=rule),
        "minimum": lambda: _("%(field)s must be at least %(least)s.", field=field,
                             least=rule),
        "maximum": lambda: _("%(field)s must be at most %(most)s.", field=field, most=rule),
        "oneOf": lambda: _("%(field)s must be an id or a short name from the catalogue.",
                           field=field),
        "minProperties": lambda: _("%(field)s must change at least one field.", field=field),
    }
    message = simple.get(kind)
    return message() if message else _("%(field)s is not valid.", field=field)


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    with current_app.app_context():
        schema = input_schema(schema_name)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _json_body(schema_name: str) -> dict[str, Any]:
    """The request's JSON object, checked against its schema in the OpenAPI document."""
    if not request.is_json:
        raise ApiError(415, _("Send a JSON body with %(header)s.",
                               header="Content-Type: application/json"))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, _("The body must be a JSON object."), pointer="")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # JSON escapes can spell lone surrogates
        raise ApiError(400, _("The body is not valid Unicode text."), pointer="") from None
    error = best_match(_validator(schema_name).iter_errors(data))
    if error is not None:
        if error.validator == "additionalProperties":
            unknown = sorted(set(data) - set(_validator(schema_name).schema["properties"]))
            field = unknown[0][:50] if unknown else ""
            raise ApiError(400, _("Unknown field: %(field)s.", field=field),
                           pointer=_pointer([field]))
        raise ApiError(400, _schema_message(error), pointer=_pointer(error.path))
    return data


def _pointer(path) -> str:
    """A JSON Pointer (RFC 6901) to a place in the body."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def write_rate_limit() -> str:
    """The limit on writes from one address (every write shares it)."""
    return current_app.config["API_WRITE_RATE_LIMIT"]


writes = limiter.shared_limit(write_rate_limit, scope="api-writes")


def _own_update(actor: tokens.TokenActor, update_id: int) -> Update:
    update = db.session.get(Update, update_id) if 0 < update_id <= MAX_ID else None
    if update is None:
        raise ApiError(404, _("There is no update with that id."))
    if update.organisation_id != actor.token.organisation_id:
        raise ApiError(403, _("This token can only change its own organisation's updates."))
    return services.get_update(update_id)


@bp.post("/updates")
@writes
def create_update():
    actor = _token()
    data = _json_body("UpdateCreate")
    publish = data.pop("publish", False)
    update = services.create_update(actor, actor.token.organisation, data)
    if publish:
        services.publish_update(actor, update)
    db.session.commit()
    response = document(update_json(services.get_update(update.id), revisions=True),
                        status=201)
    response.headers["Location"] = external_url("api.get_update", update_id=update.id)
    return response


@bp.patch("/updates/<int:update_id>")
@writes
def edit_update(update_id: int):
    actor = _token()
    update = _own_update(actor, update_id)
    data = _json_body("UpdateEdit")
    note = data.pop("change_note", None)
    services.update_update(actor, update, data, change_note=note)
    db.session.commit()
    return document(update_json(services.get_update(update_id), revisions=True))


@bp.delete("/updates/<int:update_id>")
@writes
def delete_update(update_id: int):
    actor = _token()
    update = _own_update(actor, update_id)
    services.delete_draft(actor, update)
    db.session.commit()
    return "", 204


@bp.post("/updates/<int:update_id>/publish")
@writes
def publish_update(update_id: int):
    actor = _token()
    update = _own_update(actor, update_id)
    services.publish_update(actor, update)
    db.session.commit()
    return document(update_json(services.get_update(update_id), revisions=True))


@bp.post("/updates/<int:update_id>/withdraw")
@writes
def withdraw_update(update_id: int):
    actor = _token()
    update = _own_update(actor, update_id)
    services.withdraw_update(actor, update, _json_body("Withdrawal")["reason"])
    db.session.commit()
    return document(update_json(services.get_update(update_id), revisions=True))


@bp.before_request
def json_only_errors():
    # 404s for unknown API paths come from the app's handler, which answers JSON under /api/.
    if request.method in ("POST", "PATCH", "PUT") and (request.content_length or 0) > 1_000_000:
        abort(413)
