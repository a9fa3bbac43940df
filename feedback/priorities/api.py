"""JSON API v1: read-only rounds, priorities and (suppressed) results."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _

from feedback.core.envelope import (
    ApiError,
    document,
    envelope_schema,
    error_document,
    suppressed_fields,
    use_requested_language,
)
from feedback.core.suppression import ROUND_TO, SUPPRESSION_THRESHOLD, PublishedCount
from feedback.core.urls import external_url
from feedback.priorities import results as tallies
from feedback.priorities import services
from feedback.priorities.models import Phase, Priority, PriorityRound

bp = Blueprint("priorities_api", __name__, url_prefix="/api/v1")
bp.register_error_handler(ApiError, error_document)
bp.before_request(use_requested_language)

# Why a count is null (see feedback/core/suppression.py).
FEW = f"fewer than {SUPPRESSION_THRESHOLD + 1}"
FROM_FEW = f"worked out from a count of fewer than {SUPPRESSION_THRESHOLD + 1}"
SUPPRESSION = (f"Counts of 1 to {SUPPRESSION_THRESHOLD} are null, with the reason under "
               f"\"suppressed\"; other counts are rounded to the nearest {ROUND_TO}; "
               "percentages come from the rounded figures. Priorities are in order of "
               "their exact totals, and \"rank\" comes from them too.")


def _percentage(part: PublishedCount, whole: PublishedCount) -> int | None:
    """A whole-number percentage of two published counts (None if either is hidden)."""
    if part.value is None or whole.value is None:
        return None
    return round(100 * part.value / whole.value) if whole.value else 0


def _counts(whole: PublishedCount | None = None, **counts: PublishedCount | None,
            ) -> dict[str, Any]:
    """Counts as numbers or null, a ``percentage`` of ``whole`` if given, and the reason
    for each null under ``suppressed``."""
    out = suppressed_fields(counts, FEW)
    if whole is not None:
        part = counts["chose"]
        assert part is not None
        out["percentage"] = _percentage(part, whole)
        if out["percentage"] is None:
            out["suppressed"]["percentage"] = FROM_FEW
    return out


def round_json(round_: PriorityRound) -> dict[str, Any]:
    shortlist = services.current_shortlist(round_)
    return {
        "slug": round_.slug,
        "title": round_.title,
        "scope": round_.scope,
        "topics": round_.topic_list,
        "area": round_.area,
        "phase": round_.phase.value,
        "organisations": [{"name": o.name, "slug": o.slug} for o in round_.organisations],
        "groups": list(round_.groups or []),
        "voting": {"method": round_.voting_method.value, "max_choices": round_.max_choices,
                   "counts_hidden_until_close": round_.hide_counts},
        "dates": {name: (value.isoformat() if value else None) for name, value in (
            ("suggestions_open", round_.suggestions_open_at), ("review", round_.review_at),
            ("voting_opens", round_.voting_opens_at),
            ("voting_closes", round_.voting_closes_at), ("responses", round_.responses_at))},
        "shortlist_version": shortlist.number if shortlist else None,
        "url": external_url("priorities.round_page", slug=round_.slug),
    }


def priority_json(priority: Priority) -> dict[str, Any]:
    return {
        "id": priority.id,
        "round": priority.round.slug,
        "title": priority.title,
        "description": priority.description,
        "shortlist_versions": services.shortlisted_in(priority),
        "response": {"status": priority.response_status.value, "text": priority.response_text,
                     "published_at": priority.response_published_at.isoformat()
                     if priority.response_published_at else None}
        if priority.response_status else None,
        "url": external_url("priorities.priority", priority_id=priority.id),
    }


def _public_round(slug: str) -> PriorityRound:
    round_ = services.get_round(slug)
    if round_.phase == Phase.DRAFT:
        raise ApiError(404, _("There is no published round with that name."))
    return round_


@bp.get("/rounds")
def rounds():
    return document([round_json(r) for r in services.list_rounds()])


@bp.get("/rounds/<slug>")
def round_detail(slug: str):
    return document(round_json(_public_round(slug)))


@bp.get("/rounds/<slug>/priorities")
def round_priorities(slug: str):
    round_ = _public_round(slug)
    shortlist = services.current_shortlist(round_)
    ids = [e.priority_id for e in shortlist.entries] if shortlist else []
    return document([priority_json(services.get_priority(i)) for i in ids],
                    meta={"shortlist_version": shortlist.number if shortlist else None})


@bp.get("/priorities/<int:priority_id>")
def priority_detail(priority_id: int):
    priority = services.get_priority(priority_id)
    if priority.round.phase == Phase.DRAFT:
        raise ApiError(404, _("There is no published priority with that id."))
    return document(priority_json(priority))


@bp.get("/rounds/<slug>/results")
def round_results(slug: str):
    round_ = _public_round(slug)
    if not round_.results_visible:
        raise ApiError(404, _("Results for this round are not published yet."))
    outcome = tallies.compute_results(round_)
    return document({
        "round": round_.slug,
        "method": round_.voting_method.value,
        **_counts(voters=outcome.voters),
        "priorities": [{"id": t.priority_id, "title": t.title,
                        **_counts(outcome.voters, chose=t.chose, points=t.points),
                        "rank": t.rank}
                       for t in outcome.tallies],
        "breakdowns": [{"key": b.key, "title": b.title, "categories": [
            {"label": c.label, **_counts(voters=c.voters),
             "priorities": [{"id": t.priority_id, **_counts(c.voters, chose=cell.chose)}
                            for t, cell in zip(outcome.tallies, c.cells, strict=True)]}
            for c in b.categories]} for b in outcome.breakdowns],
    }, meta={"suppression": SUPPRESSION})


# The OpenAPI document (served by the api package at /api/v1/openapi.json) -------------

STRING = {"type": "string"}
COUNT = {"type": ["integer", "null"], "minimum": 0, "multipleOf": 5,
         "description": "A published count, rounded to the nearest 5; null when it is 1 to "
                        f"{SUPPRESSION_THRESHOLD} (the reason is under `suppressed`)"}
PERCENTAGE = {"type": ["integer", "null"], "minimum": 0, "maximum": 100,
              "description": "A whole-number percentage of the rounded counts; null when "
                             "either count is suppressed"}
SUPPRESSED = {"type": "object", "additionalProperties": {"type": "string"},
              "description": "Each field above that is null because of small-number "
                             "suppression, and why"}
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
SLUG_PATH = {"name": "slug", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,80}$"}}
PRIORITY_PATH = {"name": "priority_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(data: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": "OK",
            "content": {"application/json": {"schema": envelope_schema(data, meta)}}}


def _not_found(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _counted(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": [*required, "suppressed"],
            "properties": {**properties, "suppressed": SUPPRESSED}}


def openapi_schemas() -> dict[str, Any]:
    return {
        "PriorityRound": {
            "type": "object",
            "required": ["slug", "title", "scope", "topics", "area", "phase", "organisations",
                         "groups", "voting", "dates", "shortlist_version", "url"],
            "properties": {
                "slug": STRING, "title": STRING, "scope": STRING, "area": STRING,
                "topics": {"type": "array", "items": STRING},
                "phase": {"type": "string", "enum": [p.value for p in Phase]},
                "organisations": {"type": "array", "items": {
                    "type": "object", "required": ["slug", "name"],
                    "properties": {"slug": STRING, "name": STRING}}},
                "groups": {"type": "array", "items": STRING},
                "voting": {"type": "object",
                           "required": ["method", "max_choices", "counts_hidden_until_close"],
                           "properties": {"method": {"type": "string",
                                                     "enum": ["choose", "rank"]},
                                          "max_choices": {"type": "integer"},
                                          "counts_hidden_until_close": {"type": "boolean"}}},
                "dates": {"type": "object", "additionalProperties": DATE_TIME},
                "shortlist_version": {"type": ["integer", "null"]},
                "url": STRING,
            },
        },
        "Priority": {
            "type": "object",
            "required": ["id", "round", "title", "description", "shortlist_versions",
                         "response", "url"],
            "properties": {
                "id": {"type": "integer"}, "round": STRING, "title": STRING,
                "description": STRING, "url": STRING,
                "shortlist_versions": {"type": "array", "items": {"type": "integer"}},
                "response": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["status", "text", "published_at"],
                    "properties": {"status": {"type": "string", "enum": [
                        "will_research", "in_progress", "done", "not_taken"]},
                        "text": STRING, "published_at": DATE_TIME}}]},
            },
        },
        "PriorityResults": _counted({
            "round": STRING, "method": {"type": "string", "enum": ["choose", "rank"]},
            "voters": COUNT,
            "priorities": {"type": "array", "items": _counted(
                {"id": {"type": "integer"}, "title": STRING, "chose": COUNT,
                 "percentage": PERCENTAGE,
                 "points": {**COUNT, "description": "Rank rounds only (null otherwise): "
                                                    "Borda points, suppressed like counts"},
                 "rank": {"type": ["integer", "null"], "minimum": 1,
                          "description": "From the exact totals, 1 first; equal totals "
                                         "share a rank; null when the count is "
                                         "suppressed"}},
                ["id", "title", "chose", "percentage", "points", "rank"])},
            "breakdowns": {"type": "array", "items": {
                "type": "object", "required": ["key", "title", "categories"],
                "properties": {
                    "key": {"type": "string", "enum": ["group", "identity", "area", "method"]},
                    "title": STRING,
                    "categories": {"type": "array", "items": _counted({
                        "label": STRING, "voters": COUNT,
                        "priorities": {"type": "array", "items": _counted(
                            {"id": {"type": "integer"}, "chose": COUNT,
                             "percentage": PERCENTAGE},
                            ["id", "chose", "percentage"])}},
                        ["label", "voters", "priorities"])}}}},
        }, ["round", "method", "voters", "priorities", "breakdowns"]),
    }


def openapi_paths() -> dict[str, Any]:
    """Paths relative to the /api/v1 server."""
    tags = ["Research priorities"]
    return {
        "/rounds": {"get": {
            "operationId": "listPriorityRounds", "tags": tags,
            "summary": "Research priority rounds (drafts are not listed)",
            "responses": {"200": _ok({"type": "array", "items": _ref("PriorityRound")})}}},
        "/rounds/{slug}": {"parameters": [SLUG_PATH], "get": {
            "operationId": "getPriorityRound", "tags": tags, "summary": "One round",
            "responses": {"200": _ok(_ref("PriorityRound")),
                          "404": _not_found("No such round")}}},
        "/rounds/{slug}/priorities": {"parameters": [SLUG_PATH], "get": {
            "operationId": "listRoundPriorities", "tags": tags,
            "summary": "The round's current shortlist",
            "responses": {"200": _ok({"type": "array", "items": _ref("Priority")}, {
                "type": "object", "required": ["shortlist_version"],
                "properties": {"shortlist_version": {"type": ["integer", "null"]}}}),
                          "404": _not_found("No such round")}}},
        "/rounds/{slug}/results": {"parameters": [SLUG_PATH], "get": {
            "operationId": "getRoundResults", "tags": tags,
            "summary": "Results with every count suppressed (the NHS Digital rule), "
                       "overall and by group, self-described identity, area and way of "
                       "voting",
            "responses": {"200": _ok(_ref("PriorityResults"), {
                "type": "object", "required": ["suppression"],
                "properties": {"suppression": STRING}}),
                          "404": _not_found("No such round, or results not published "
                                            "yet")}}},
        "/priorities/{priority_id}": {"parameters": [PRIORITY_PATH], "get": {
            "operationId": "getPriority", "tags": tags,
            "summary": "One priority, its shortlist versions and its response",
            "responses": {"200": _ok(_ref("Priority")),
                          "404": _not_found("No such priority")}}},
    }
