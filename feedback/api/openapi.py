"""The OpenAPI 3.1 document for JSON API v1. The test suite runs schemathesis against it,
so the document and the implementation cannot drift apart."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import current_app

from feedback.core.envelope import envelope_schema
from feedback.core.urls import base_url
from feedback.core.validation import JOINERS, SINGLE_LINE_REFUSED
from feedback.organisations.models import OrganisationKind
from feedback.updates.models import (
    BODY_MAX,
    LEGAL_BASIS_MAX,
    LINK_TITLE_MAX,
    LONG_TEXT_MAX,
    MAX_EVIDENCE_LINKS,
    MAX_ID,
    MAX_TERMS,
    REASON_MAX,
    SUMMARY_MAX,
    TERM_MAX,
    TITLE_MAX,
    OptOutApplied,
    UpdateKind,
    UpdateStatus,
)

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
DATE = {"type": ["string", "null"], "format": "date"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _data(name: str) -> dict[str, Any]:
    return envelope_schema(_ref(name))


# Text rules the services apply (feedback.core.validation.clean_text): no control
# characters; one line unless multiline; required text must not be only spaces. (Bodies
# whose JSON escapes spell lone surrogates are refused before these checks.)
def _refused_in_one_line() -> str:
    """A regex character class body of every character ``clean_text`` refuses in one-line
    text (controls, invisible format characters, line and paragraph separators), worked
    out from the Unicode database so the document and the services agree."""
    refused = [code for code in range(0x110000)
               if not 0xD800 <= code <= 0xDFFF and chr(code) not in JOINERS
               and unicodedata.category(chr(code)) in SINGLE_LINE_REFUSED]
    ranges, start = [], refused[0]
    for previous, code in zip(refused, [*refused[1:], None], strict=True):
        if code != previous + 1:
            ranges.append((start, previous))
            start = code
    def escape(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges)


_CONTROL = _refused_in_one_line()
_CONTROL_MULTILINE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
ONE_LINE = f"^[^{_CONTROL}]*$"
MULTILINE = f"^[^{_CONTROL_MULTILINE}]*$"
ONE_LINE_REQUIRED = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
MULTILINE_REQUIRED = (f"^[^{_CONTROL_MULTILINE}]*[^\\s{_CONTROL_MULTILINE}]"
                      f"[^{_CONTROL_MULTILINE}]*$")
EVIDENCE_URL = "^https?://[^\\s/?#]+([/?#][^\\s]*)?$"
SLUG = "^[a-z0-9]+(-[a-z0-9]+)*$"
TAG = f"^[^{_CONTROL}]*[^\\W_][^{_CONTROL}]*$"


def _text(max_length: int, description: str = "", *, multiline: bool = True,
          required: bool = False) -> dict[str, Any]:
    if multiline:
        pattern = MULTILINE_REQUIRED if required else MULTILINE
    else:
        pattern = ONE_LINE_REQUIRED if required else ONE_LINE
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": pattern}
    if description:
        schema["description"] = description
    return schema


REF_LIST = {"type": "array", "maxItems": 50, "items": {"oneOf": [
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    {"type": "string", "pattern": SLUG, "maxLength": 80}]}}
TAGS = {"type": "array", "maxItems": MAX_TERMS,
        "items": {"type": "string", "maxLength": TERM_MAX, "pattern": TAG}}

UPDATE_INPUT_PROPERTIES: dict[str, Any] = {
    "title": _text(TITLE_MAX, multiline=False, required=True),
    "summary": _text(SUMMARY_MAX, "Plain English, shown in lists and digests",
                     required=True),
    "body": _text(BODY_MAX, "Markdown; raw HTML is not kept"),
    "kind": {"type": "string", "enum": [k.value for k in UpdateKind]},
    "what_changed": _text(LONG_TEXT_MAX),
    "who_benefits": _text(LONG_TEXT_MAX),
    "purpose": _text(LONG_TEXT_MAX),
    "legal_basis": _text(LEGAL_BASIS_MAX),
    "opt_out_applied": {"type": "string", "enum": [o.value for o in OptOutApplied]},
    "content_checked_on": {"type": ["string", "null"], "format": "date"},
    "next_check_due": {"type": ["string", "null"], "format": "date"},
    "datasets": {**REF_LIST, "minItems": 1,
                 "description": "Dataset ids or slugs from the catalogue"},
    "services": {**REF_LIST, "description": "Service ids or slugs from the catalogue"},
    "topics": TAGS, "areas": TAGS, "community_tags": TAGS,
    "evidence_links": {"type": "array", "maxItems": MAX_EVIDENCE_LINKS, "items": {
        "type": "object", "required": ["url"], "additionalProperties": False,
        "properties": {"title": _text(LINK_TITLE_MAX, multiline=False),
                       "url": {"type": "string", "maxLength": 500,
                               "pattern": EVIDENCE_URL}}}},
    "answers_priority_id": {"type": ["integer", "null"], "minimum": 1,
                            "maximum": MAX_ID},
}


TRANSLATION_STATUSES = ["original", "approved", "machine", "partial", "untranslated"]
TRANSLATION = {
    "type": "object", "required": ["language", "direction", "fields"],
    "description": "Only with ?lang=: the language of the translated fields, and each "
                   "field's status (machine text is unreviewed; partial is part original)",
    "properties": {"language": STRING, "direction": {"type": "string",
                                                     "enum": ["ltr", "rtl"]},
                   "fields": {"type": "object", "additionalProperties": {
                       "type": "string", "enum": TRANSLATION_STATUSES}}}}
DESCRIPTION_HTML = {"type": "string", "description": "Only with ?lang=: the description, "
                                                     "translated, as sanitised HTML"}


def _schemas() -> dict[str, Any]:
    named_list = {"type": "array", "items": {
        "type": "object", "required": ["slug", "name"],
        "properties": {"slug": STRING, "name": STRING}}}
    return {
        "Links": {"type": "object", "required": ["self", "next"],
                  "additionalProperties": False,
                  "description": "Absolute links, on the site's public address",
                  "properties": {"self": {"type": "string", "format": "uri"},
                                 "next": {"type": ["string", "null"], "format": "uri",
                                          "description": "The next page (lists only)"}}},
        "Error": {"type": "object", "required": ["errors"], "additionalProperties": False,
                  "properties": {"errors": {"type": "array", "minItems": 1, "items": {
                      "type": "object", "additionalProperties": False,
                      "required": ["status", "code", "title", "detail", "source"],
                      "properties": {
                          "status": {"type": "integer", "description": "The HTTP status"},
                          "code": {"type": "string", "description": "A stable word for "
                                   "programs: invalid, unauthorised, forbidden, not_found, "
                                   "conflict, too_large, unsupported_media_type, "
                                   "too_many_requests"},
                          "title": STRING, "detail": STRING,
                          "source": {"oneOf": [
                              {"type": "null"},
                              {"type": "object", "required": ["parameter"],
                               "additionalProperties": False,
                               "properties": {"parameter": STRING}},
                              {"type": "object", "required": ["pointer"],
                               "additionalProperties": False,
                               "properties": {"pointer": {
                                   "type": "string",
                                   "description": "A JSON Pointer into the body"}}}]}}}}}},
        "Update": {
            "type": "object",
            "required": ["id", "slug", "url", "title", "summary", "body", "body_html", "kind",
                         "status", "organisation", "datasets", "services", "topics",
                         "areas", "community_tags", "evidence_links", "opt_out_applied",
                         "published_at", "updated_at"],
            "properties": {
                "id": {"type": "integer"}, "slug": STRING, "url": STRING,
                "title": STRING, "summary": STRING, "body": STRING,
                "body_html": {"type": "string", "description": "Sanitised HTML"},
                "kind": {"type": "string", "enum": [k.value for k in UpdateKind]},
                "status": {"type": "string", "enum": [s.value for s in UpdateStatus]},
                "organisation": {"type": "object", "required": ["slug", "name"],
                                 "properties": {"slug": STRING, "name": STRING}},
                "datasets": named_list, "services": named_list,
                "topics": {"type": "array", "items": STRING},
                "areas": {"type": "array", "items": STRING},
                "community_tags": {"type": "array", "items": STRING},
                "what_changed": STRING, "who_benefits": STRING,
                "evidence_links": {"type": "array", "items": {
                    "type": "object", "required": ["url"],
                    "properties": {"title": STRING, "url": STRING}}},
                "purpose": STRING, "legal_basis": STRING,
                "opt_out_applied": {"type": "string",
                                    "enum": [o.value for o in OptOutApplied]},
                "content_checked_on": DATE, "next_check_due": DATE,
                "answers_priority_id": {"type": ["integer", "null"]},
                "published_at": DATE_TIME, "updated_at": DATE_TIME, "withdrawn_at": DATE_TIME,
                "withdrawal_reason": NULLABLE_STRING,
                "revisions": {"type": "array", "items": {
                    "type": "object", "required": ["number", "created_at", "change_note"],
                    "properties": {"number": {"type": "integer"}, "created_at": DATE_TIME,
                                   "change_note": STRING}}},
                "translation": TRANSLATION,
            },
        },
        "UpdateCreate": {
            "type": "object", "additionalProperties": False,
            "required": ["title", "summary", "kind", "datasets"],
            "properties": {**UPDATE_INPUT_PROPERTIES,
                           "publish": {"type": "boolean", "default": False}},
        },
        "UpdateEdit": {
            "type": "object", "additionalProperties": False,
            "properties": {**UPDATE_INPUT_PROPERTIES,
                           "change_note": {**_text(REASON_MAX), "description":
                                           "Required once published: shown publicly"}},
            "minProperties": 1,
        },
        "Withdrawal": {"type": "object", "additionalProperties": False, "required": ["reason"],
                       "properties": {"reason": _text(REASON_MAX, required=True)}},
        "UpdateList": envelope_schema({"type": "array", "items": _ref("Update")}, {
            "type": "object", "required": ["next_cursor", "per_page"],
            "properties": {"next_cursor": NULLABLE_STRING,
                           "per_page": {"type": "integer", "minimum": 1}}}),
        "Organisation": {"type": "object",
                         "required": ["slug", "name", "kind", "url", "verified"],
                         "properties": {"slug": STRING, "name": STRING,
                                        "kind": {"type": "string",
                                                 "enum": [k.value for k in OrganisationKind]},
                                        "area": STRING, "ods_code": NULLABLE_STRING,
                                        "website": STRING, "description": STRING,
                                        "verified": {"type": "boolean"}, "url": STRING,
                                        "description_html": DESCRIPTION_HTML,
                                        "translation": TRANSLATION}},
        "Dataset": {"type": "object", "required": ["slug", "name", "organisation", "url"],
                    "properties": {"slug": STRING, "name": STRING, "description": STRING,
                                   "link": STRING, "organisation": STRING,
                                   "custodian": STRING, "url": STRING,
                                   "description_html": DESCRIPTION_HTML,
                                   "translation": TRANSLATION}},
        "Service": {"type": "object", "required": ["slug", "name", "organisation", "url"],
                    "properties": {"slug": STRING, "name": STRING, "area": STRING,
                                   "description": STRING, "organisation": STRING,
                                   "url": STRING, "description_html": DESCRIPTION_HTML,
                                   "translation": TRANSLATION}},
    }


def input_schema(name: str) -> dict[str, Any]:
    """A request body schema, which the API validates against before anything else."""
    return _schemas()[name]


def _page_list(name: str) -> dict[str, Any]:
    return envelope_schema({"type": "array", "items": _ref(name)}, {
        "type": "object", "required": ["page", "per_page", "has_next"],
        "properties": {"page": {"type": "integer", "minimum": 1},
                       "per_page": {"type": "integer", "minimum": 1},
                       "has_next": {"type": "boolean"}}})


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


SLUG_QUERY = {"type": "string", "maxLength": 80, "pattern": ONE_LINE}
PER_PAGE = _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100})
PAGE = _query("page", {"type": "integer", "minimum": 1, "maximum": 100_000})


def _lang() -> dict[str, Any]:
    """``?lang=``: one of the site's languages (read when the document is served)."""
    from feedback.core.languages import enabled_languages

    return _query("lang", {"type": "string",
                           "enum": [language.code for language in enabled_languages()]},
                  "Translate the content into this language; each field's status is in "
                  "`translation`")
UPDATE_ID = {"name": "update_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
SLUG_PATH = {"name": "slug", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,80}$"}}
TOKEN = [{"bearerToken": []}]


RESPONSES = {
    "400": "The input breaks a rule; `source` says which",
    "401": "No live API token",
    "403": "The token belongs to another organisation",
    "404": "No such update",
    "409": "The update cannot change like that (for example, it was withdrawn)",
    "413": "The body is over 1 MB",
    "415": "The body is not JSON",
    "429": "Too many writes from this address: wait a minute (Retry-After says how long)",
}


def _write_responses(ok: dict[str, Any], *statuses: str) -> dict[str, Any]:
    """A write's responses: ``ok`` and the error statuses it can return."""
    return {**ok, **{status: _error_response(RESPONSES[status]) for status in statuses}}


def openapi_document() -> dict[str, Any]:
    """The document served at /api/v1/openapi.json."""
    base = base_url()
    update_filters = [
        _query("organisation", SLUG_QUERY, "Organisation slug"),
        _query("dataset", SLUG_QUERY, "Dataset slug"),
        _query("service", SLUG_QUERY, "Service slug"),
        _query("topic", SLUG_QUERY, "Topic slug"),
        _query("area", SLUG_QUERY, "Area slug"),
        _query("community", SLUG_QUERY, "Community tag slug"),
        _query("kind", {"type": "string", "enum": [k.value for k in UpdateKind]}),
        _query("q", {"type": "string", "maxLength": 200, "pattern": ONE_LINE},
               "Full-text search"),
        _query("priority", {"type": "integer", "minimum": 0, "maximum": MAX_ID},
               "Research priority id"),
        _query("cursor", {"type": "string", "pattern": "^[0-9]{1,16}-[0-9]{1,12}$"},
               "The next_cursor of the previous page"),
        PER_PAGE, _lang(),
    ]
    org_filter = [_query("organisation", SLUG_QUERY, "Organisation slug"), PAGE, PER_PAGE,
                  _lang()]
    document = {
        "openapi": "3.1.0",
        "info": {"title": f"{current_app.config['SERVICE_NAME']} API", "version": "1.0.0",
                 "description": "What patient data led to: updates from NHS organisations, "
                                "and the organisations, datasets and services they name. "
                                "Reading is open; writing needs an organisation's API token "
                                "(`feedback tokens create --org SLUG`)."},
        "servers": [{"url": f"{base}/api/v1"}],
        "components": {
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/updates": {
                "get": {"operationId": "listUpdates", "summary": "Published updates, newest "
                        "first", "parameters": update_filters,
                        "responses": {"200": _ok(_ref("UpdateList")),
                                      "400": _error_response("A filter value is not valid")}},
                "post": {"operationId": "createUpdate", "summary": "Create a draft (or "
                         "publish it at once with publish: true)", "security": TOKEN,
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": _ref("UpdateCreate")}}},
                         "responses": _write_responses(
                             {"201": _ok(_data("Update"), "Created")},
                             "400", "401", "413", "415", "429")},
            },
            "/updates/{update_id}": {
                "parameters": [UPDATE_ID],
                "get": {"operationId": "getUpdate", "summary": "One update with its "
                        "revisions (drafts only with the owner's token)",
                        "parameters": [_lang()],
                        "responses": {"200": _ok(_data("Update")),
                                      "400": _error_response("lang is not valid"),
                                      "404": _error_response("No such update")}},
                "patch": {"operationId": "editUpdate", "summary": "Edit an update; once "
                          "published, change_note is required and kept as a revision",
                          "security": TOKEN,
                          "requestBody": {"required": True, "content": {
                              "application/json": {"schema": _ref("UpdateEdit")}}},
                          "responses": _write_responses(
                              {"200": _ok(_data("Update"))},
                              "400", "401", "403", "404", "409", "413", "415", "429")},
                "delete": {"operationId": "deleteUpdate", "summary": "Delete a draft that "
                           "was never published (a published update is withdrawn instead: "
                           "409)", "security": TOKEN,
                           "responses": _write_responses(
                               {"204": {"description": "Deleted"}},
                               "401", "403", "404", "409", "429")},
            },
            "/updates/{update_id}/publish": {
                "parameters": [UPDATE_ID],
                "post": {"operationId": "publishUpdate", "summary": "Publish a draft and "
                         "email its followers", "security": TOKEN,
                         "responses": _write_responses(
                             {"200": _ok(_data("Update"))},
                             "401", "403", "404", "409", "413", "429")},
            },
            "/updates/{update_id}/withdraw": {
                "parameters": [UPDATE_ID],
                "post": {"operationId": "withdrawUpdate", "summary": "Withdraw a published "
                         "update with a public reason", "security": TOKEN,
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": _ref("Withdrawal")}}},
                         "responses": _write_responses(
                             {"200": _ok(_data("Update"))},
                             "400", "401", "403", "404", "409", "413", "415", "429")},
            },
            "/organisations": {"get": {
                "operationId": "listOrganisations", "summary": "Organisations",
                "parameters": [_query("kind", {"type": "string", "enum": [
                    k.value for k in OrganisationKind]}), PAGE, PER_PAGE, _lang()],
                "responses": {"200": _ok(_page_list("Organisation")),
                              "400": _error_response("A filter value is not valid")}}},
            "/organisations/{slug}": {"parameters": [SLUG_PATH], "get": {
                "operationId": "getOrganisation", "parameters": [_lang()],
                "summary": "One organisation",
                "responses": {"200": _ok(_data("Organisation")),
                              "400": _error_response("lang is not valid"),
                              "404": _error_response("No such organisation")}}},
            "/datasets": {"get": {
                "operationId": "listDatasets", "summary": "The dataset catalogue",
                "parameters": org_filter,
                "responses": {"200": _ok(_page_list("Dataset")),
                              "400": _error_response("A filter value is not valid")}}},
            "/datasets/{slug}": {"parameters": [SLUG_PATH], "get": {
                "operationId": "getDataset", "parameters": [_lang()], "summary": "One dataset",
                "responses": {"200": _ok(_data("Dataset")),
                              "400": _error_response("lang is not valid"),
                              "404": _error_response("No such dataset")}}},
            "/services": {"get": {
                "operationId": "listServices", "summary": "The service catalogue",
                "parameters": org_filter,
                "responses": {"200": _ok(_page_list("Service")),
                              "400": _error_response("A filter value is not valid")}}},
            "/services/{slug}": {"parameters": [SLUG_PATH], "get": {
                "operationId": "getService", "parameters": [_lang()], "summary": "One service",
                "responses": {"200": _ok(_data("Service")),
                              "400": _error_response("lang is not valid"),
                              "404": _error_response("No such service")}}},
        },
    }
    from feedback.priorities.api import openapi_paths, openapi_schemas

    document["paths"].update(openapi_paths())
    document["components"]["schemas"].update(openapi_schemas())
    return document
