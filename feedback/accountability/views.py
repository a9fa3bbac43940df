"""Accountability pages, open data downloads and the print and share kits."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import gettext as _
from flask_babel import refresh

from feedback.accountability import kits, opendata, services
from feedback.core.charts import bar_rows
from feedback.core.languages import Language, enabled_languages, get_language
from feedback.core.security import relax_csp
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError
from feedback.organisations import services as organisations
from feedback.translation.display import prefetch_translations, translated_field
from feedback.updates import services as updates
from feedback.updates.models import TermKind
from feedback.updates.services import UpdateFilters

bp = Blueprint("accountability", __name__)
NOTHING_YET = "\u2013"  # an en dash: nothing to count yet


# Accountability ----------------------------------------------------------------------

def _percent(value: int | None) -> str:
    return NOTHING_YET if value is None else f"{value}%"


def _days(value: float | None) -> str:
    return NOTHING_YET if value is None else _("%(days)s days", days=f"{value:g}")


@bp.app_template_filter("percent_or_dash")
def percent_or_dash(value: int | None) -> str:
    return _percent(value)


@bp.app_template_filter("days_or_dash")
def days_or_dash(value: float | None) -> str:
    return _days(value)


@bp.get("/accountability")
def platform():
    records = services.platform_records()
    # Each organisation's name in the reader's language where there is a translation: a
    # Localised label, which the chart and the table mark with the language it is in.
    prefetch_translations([r.organisation for r in records])
    names = [translated_field(r.organisation, "name") for r in records]
    charts = {
        "updates": bar_rows((name, r.updates_published, str(r.updates_published))
                            for r, name in zip(records, names, strict=True)),
        "responses": bar_rows((name, r.response_share, _percent(r.response_share))
                              for r, name in zip(records, names, strict=True)),
        "answers": bar_rows((name, r.answered_share, _percent(r.answered_share))
                            for r, name in zip(records, names, strict=True)),
    }
    return render_template("accountability/platform.html", records=records, charts=charts)


@bp.get("/organisations/<slug>/accountability")
def organisation(slug: str):
    record = services.organisation_record(organisations.get_organisation(slug))
    chart = bar_rows((services.quarter_label(label), count, str(count))
                     for label, count in record.updates_per_quarter)
    return render_template("accountability/organisation.html", record=record,
                           organisation=record.organisation, chart=chart)


# Open data ----------------------------------------------------------------------------

@bp.get("/open-data")
def open_data():
    return render_template("accountability/open_data.html", tables=opendata.TABLES.values(),
                           licence_name=opendata.LICENCE_NAME,
                           licence_url=opendata.LICENCE_URL)


@bp.get("/open-data/<name>.<any(csv, json):kind>")
def download(name: str, kind: str):
    """A whole table, streamed (flat memory however many rows)."""
    table = opendata.get_table(name) or abort(404)
    chunks = opendata.csv_chunks(table) if kind == "csv" else opendata.json_chunks(table)
    mimetype = "text/csv" if kind == "csv" else "application/json"
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Link"] = f'<{opendata.LICENCE_URL}>; rel="license"'
    return response


# Print kits ---------------------------------------------------------------------------

def _print_language() -> Language:
    """The language a leaflet is printed in (``?lang=``), for every string on the page."""
    code = request.args.get("lang")
    language = get_language(code) if code else None
    if code and (language is None or language not in enabled_languages()):
        abort(404)
    if language is not None:
        g.language_override = language
        refresh()
    from feedback.core.i18n import current_language

    return current_language()


def _leaflet(template: str, language: Language, page_endpoint: str, page_values: dict,
             **context):
    page_link = kits.link_in_language(page_endpoint, language, page_values)
    subscribe_link = kits.link_in_language("subscriptions.subscribe", language)
    return render_template(
        template, language=language, languages=enabled_languages(),
        page_link=page_link, page_qr=kits.qr_data_uri(page_link),
        subscribe_link=subscribe_link, subscribe_qr=kits.qr_data_uri(subscribe_link),
        **context)


@bp.get("/print/updates/<slug>")
def print_update(slug: str):
    language = _print_language()
    item = updates.get_update(slug)
    if not item.is_published:
        abort(404)
    return _leaflet("accountability/print_update.html", language, "updates.update",
                    {"slug": item.slug}, update=item)


@bp.get("/print/rounds/<slug>")
def print_round(slug: str):
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Phase

    language = _print_language()
    round_ = priorities.get_round(slug)
    if round_.phase == Phase.DRAFT:
        abort(404)
    return _leaflet("accountability/print_round.html", language, "priorities.round_page",
                    {"slug": round_.slug}, round=round_,
                    shortlist=priorities.current_shortlist(round_))


@bp.get("/print/priorities/<int:priority_id>")
def print_priority(priority_id: int):
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Phase
    from feedback.priorities.results import compute_results

    language = _print_language()
    item = priorities.get_priority(priority_id)
    if item.round.phase == Phase.DRAFT:
        abort(404)
    results = compute_results(item.round) if item.round.results_visible else None
    tally = next((t for t in results.tallies if t.priority_id == item.id), None) \
        if results else None
    return _leaflet("accountability/print_priority.html", language, "priorities.priority",
                    {"priority_id": item.id}, priority=item, round=item.round,
                    results=results, tally=tally)


@bp.get("/print/editions/<int:edition_id>")
def print_edition(edition_id: int):
    from feedback.digests import services as digests
    from feedback.digests.rendering import localised_items

    language = _print_language()
    edition = digests.public_edition(edition_id)
    items = localised_items(edition, language)
    version = edition.version(language.code)
    if version is None and not edition.versions:
        abort(404)
    web_language = language.code if version else edition.versions[0].language
    return _leaflet("accountability/print_edition.html", language, "digests.web_version",
                    {"edition_id": edition.id, "language": web_language},
                    edition=edition, version=version, items=items)


# Widget -------------------------------------------------------------------------------

def _widget_filters() -> UpdateFilters:
    try:
        filters = UpdateFilters.from_args(request.args)
    except ValidationError as error:
        abort(400, description=error.message)
    return UpdateFilters(topic=filters.topic, area=filters.area)


@bp.get("/widget/updates")
def widget():
    """Latest updates for a topic or area, for a partner's page (an iframe). No cookies,
    no scripts, no tracking; links open on this site in a new tab."""
    language = _print_language()
    filters = _widget_filters()
    page = updates.list_published_updates(filters, per_page=kits.WIDGET_MAX_ITEMS, topics=False)
    relax_csp(frame_ancestors="*")
    response = Response(render_template("accountability/widget.html", page=page,
                                        filters=filters, language=language))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/widget")
def widget_builder():
    """Choose a topic or area and a language, and copy the snippet."""
    language = get_language(request.args.get("lang") or "")
    filters = _widget_filters()
    args = {k: v for k, v in {"topic": filters.topic, "area": filters.area,
                              "lang": language.code if language else None}.items() if v}
    src = external_url("accountability.widget", **args)
    return render_template(
        "accountability/widget_builder.html", src=src, filters=filters,
        chosen_language=language, languages=enabled_languages(),
        topics=updates.list_terms(TermKind.TOPIC), areas=updates.list_terms(TermKind.AREA),
        snippet=kits.widget_snippet(src, _("Latest updates from %(site)s",
                                           site=current_app.config["SERVICE_NAME"])))
