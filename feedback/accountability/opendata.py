"""Open data: the public tables as CSV and JSON, described column by column.

The dictionary below is the single description of every download: the data dictionary
page is rendered from it and each download's header row is taken from it, so the two
cannot disagree. Rows are streamed in batches (``yield_per``: a server-side cursor on
PostgreSQL), so memory stays flat however many rows there are.
"""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from feedback.core import csvsafe
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.priorities.models import Phase, Priority, PriorityRound
from feedback.updates.models import Update, UpdateStatus, update_datasets, update_services

BATCH = 1000
LICENCE_NAME = "Open Government Licence v3.0"
LICENCE_URL = ("https://www.nationalarchives.gov.uk/doc/open-government-licence/"
               "version/3/")


@dataclass(frozen=True)
class Column:
    name: str
    description: Any  # a lazy string


@dataclass(frozen=True)
class Table:
    name: str
    title: Any
    description: Any
    columns: tuple[Column, ...]
    rows: Callable[[], Iterator[tuple]]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


def _stream(statement: Select) -> Iterator[tuple]:
    """Rows in batches from a server-side cursor, never the whole result at once."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH))
    for partition in result.partitions():
        yield from (tuple(row) for row in partition)


def _organisations() -> Iterator[tuple]:
    return _stream(select(Organisation.id, Organisation.slug, Organisation.name,
                          Organisation.kind, Organisation.ods_code, Organisation.area,
                          Organisation.website, Organisation.verified,
                          Organisation.created_at).order_by(Organisation.id))


def _datasets() -> Iterator[tuple]:
    custodian = aliased(Organisation)
    return _stream(
        select(Dataset.id, Dataset.slug, Dataset.name, Organisation.slug, custodian.slug,
               Dataset.custodian_name, Dataset.description, Dataset.link, Dataset.created_at)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .outerjoin(custodian, custodian.id == Dataset.custodian_id).order_by(Dataset.id))


def _services() -> Iterator[tuple]:
    return _stream(
        select(Service.id, Service.slug, Service.name, Organisation.slug, Service.area,
               Service.description, Service.created_at)
        .join(Organisation, Organisation.id == Service.organisation_id).order_by(Service.id))


def _updates() -> Iterator[tuple]:
    return _stream(
        select(Update.id, Update.slug, Organisation.slug, Update.title, Update.summary,
               Update.kind, Update.what_changed, Update.who_benefits, Update.purpose,
               Update.legal_basis, Update.opt_out_applied, Update.status,
               Update.published_at, Update.withdrawn_at, Update.withdrawal_reason,
               Update.answers_priority_id)
        .join(Organisation, Organisation.id == Update.organisation_id)
        .where(Update.status.in_([UpdateStatus.PUBLISHED, UpdateStatus.WITHDRAWN]))
        .order_by(Update.id))


def _update_links(link_table, target_column: str) -> Callable[[], Iterator[tuple]]:
    """Rows of (update id, linked id) for public updates, from one link table."""
    def rows() -> Iterator[tuple]:
        return _stream(
            select(link_table.c.update_id, link_table.c[target_column])
            .join(Update, Update.id == link_table.c.update_id)
            .where(Update.status.in_([UpdateStatus.PUBLISHED, UpdateStatus.WITHDRAWN]))
            .order_by(link_table.c.update_id, link_table.c[target_column]))
    return rows


def _priorities() -> Iterator[tuple]:
    return _stream(
        select(Priority.id, PriorityRound.slug, PriorityRound.title, PriorityRound.phase,
               Priority.title, Priority.description, Priority.created_at)
        .join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(PriorityRound.phase != Phase.DRAFT).order_by(Priority.id))


def _responses() -> Iterator[tuple]:
    return _stream(
        select(Priority.id, PriorityRound.slug, Priority.title, Priority.response_status,
               Priority.response_text, PriorityRound.results_published_at,
               Priority.response_published_at)
        .join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(Priority.response_published_at.is_not(None)).order_by(Priority.id))


def _results() -> Iterator[tuple]:
    from feedback.priorities.results import compute_results

    rounds = db.session.scalars(select(PriorityRound).where(
        PriorityRound.phase != Phase.DRAFT).order_by(PriorityRound.id)).all()
    for round_ in rounds:
        if not round_.results_visible:
            continue
        results = compute_results(round_)
        for position, tally in enumerate(results.tallies, start=1):
            yield (round_.slug, position, tally.priority_id, tally.title,
                   str(results.voters), str(tally.chose), tally.percentage,
                   "" if tally.points is None else str(tally.points),
                   tally.rank)


def _c(name: str, description: Any) -> Column:
    return Column(name, description)


CREATED = _c("created_at", _l("When the record was added (UTC, ISO 8601)."))

TABLES: dict[str, Table] = {t.name: t for t in [
    Table("organisations", _l("Organisations"),
          _l("NHS bodies, voluntary and community partners and research bodies."), (
              _c("id", _l("Our number for the organisation.")),
              _c("slug", _l("Short name used in web addresses.")),
              _c("name", _l("Name of the organisation.")),
              _c("kind", _l("nhs, vcse (voluntary and community) or research.")),
              _c("ods_code", _l("NHS Organisation Data Service code, if it has one.")),
              _c("area", _l("The area it serves.")),
              _c("website", _l("Its website.")),
              _c("verified", _l("true when platform staff have checked who runs it.")),
              CREATED), _organisations),
    Table("datasets", _l("Datasets"), _l("Sources of patient data that updates drew on."), (
        _c("id", _l("Our number for the dataset.")),
        _c("slug", _l("Short name used in web addresses.")),
        _c("name", _l("Name of the dataset.")),
        _c("organisation_slug", _l("The organisation that keeps this entry.")),
        _c("custodian_slug", _l("The organisation that holds the data, if on this site.")),
        _c("custodian_name", _l("Who holds the data, when they are not on this site.")),
        _c("description", _l("What the dataset contains.")),
        _c("link", _l("More about the dataset.")),
        CREATED), _datasets),
    Table("services", _l("Services"), _l("Health and care services that updates changed."), (
        _c("id", _l("Our number for the service.")),
        _c("slug", _l("Short name used in web addresses.")),
        _c("name", _l("Name of the service.")),
        _c("organisation_slug", _l("The organisation that runs it.")),
        _c("area", _l("Where the service is.")),
        _c("description", _l("What the service does.")),
        CREATED), _services),
    Table("updates", _l("Updates"),
          _l("Published and withdrawn updates: what patient data led to."), (
              _c("id", _l("Our number for the update.")),
              _c("slug", _l("Short name used in web addresses.")),
              _c("organisation_slug", _l("The organisation that published it.")),
              _c("title", _l("Title.")),
              _c("summary", _l("Short summary in plain English.")),
              _c("kind", _l("finding, service_change, decision or research_result.")),
              _c("what_changed", _l("What changed as a result.")),
              _c("who_benefits", _l("Who benefits.")),
              _c("purpose", _l("Why the data was used.")),
              _c("legal_basis", _l("The legal basis for using the data.")),
              _c("opt_out_applied", _l("Whether national data opt-outs were applied: yes, "
                                       "no or not_applicable.")),
              _c("status", _l("published or withdrawn.")),
              _c("published_at", _l("When it was published (UTC, ISO 8601).")),
              _c("withdrawn_at", _l("When it was withdrawn, if it was (UTC, ISO 8601).")),
              _c("withdrawal_reason", _l("Why it was withdrawn.")),
              _c("answers_priority_id", _l("The research priority it answers (see "
                                           "priorities.id), if any."))), _updates),
    Table("update_datasets", _l("Datasets each update used"),
          _l("One row for each dataset an update drew on."), (
              _c("update_id", _l("The update (see updates.id).")),
              _c("dataset_id", _l("The dataset (see datasets.id)."))),
          _update_links(update_datasets, "dataset_id")),
    Table("update_services", _l("Services each update changed"),
          _l("One row for each service an update affected."), (
              _c("update_id", _l("The update (see updates.id).")),
              _c("service_id", _l("The service (see services.id)."))),
          _update_links(update_services, "service_id")),
    Table("priorities", _l("Research priorities"),
          _l("Research questions on the shortlists of priority-setting rounds."), (
              _c("id", _l("Our number for the priority.")),
              _c("round_slug", _l("The round it belongs to.")),
              _c("round_title", _l("Title of the round.")),
              _c("round_phase", _l("Where the round is: suggestions, review, voting, "
                                   "results or responses.")),
              _c("title", _l("The research question in plain English.")),
              _c("description", _l("More about the question.")),
              CREATED), _priorities),
    Table("responses", _l("Responses to priorities"),
          _l("What the organisers said they will do about each priority."), (
              _c("priority_id", _l("The priority (see priorities.id).")),
              _c("round_slug", _l("The round it belongs to.")),
              _c("priority_title", _l("The research question.")),
              _c("response_status", _l("will_research, in_progress, done or not_taken.")),
              _c("response_text", _l("The organisers' response.")),
              _c("results_published_at", _l("When the round's results were published (UTC, "
                                             "ISO 8601). Days to respond, on the "
                                             "accountability pages, count from this moment to "
                                             "response_published_at.")),
              _c("response_published_at", _l("When the response was published (UTC, ISO "
                                              "8601)."))), _responses),
    Table("results", _l("Voting results"),
          _l("Published results for each priority. Counts of people follow the "
             "small-number rule: 1 to 7 is shown as *, other counts are rounded to the "
             "nearest 5, and percentages are worked out from the rounded counts."), (
              _c("round_slug", _l("The round.")),
              _c("position", _l("Place in the results, 1 first, ordered by the exact totals.")),
              _c("priority_id", _l("The priority (see priorities.id).")),
              _c("priority_title", _l("The research question.")),
              _c("voters", _l("People who voted in the round (suppressed and rounded).")),
              _c("chose", _l("People who chose this priority (suppressed and rounded).")),
              _c("percentage", _l("chose as a percentage of voters, or *.")),
              _c("points", _l("Points in ranked rounds (suppressed and rounded); empty in "
                              "other rounds.")),
              _c("rank", _l("Rank from the exact totals, 1 first; priorities with the same "
                            "total share a rank. Empty when the count is suppressed."))),
          _results),
]}


def get_table(name: str) -> Table | None:
    return TABLES.get(name)


def cell(value: Any) -> Any:
    """A value as JSON would carry it (CSV writes its ``str``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def csv_value(value: Any) -> str:
    """A value as a CSV cell: empty for none, ``true``/``false`` for yes-or-no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(cell(value))


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV, a batch of rows per chunk (cells that a spreadsheet would run as
    a formula are neutralised: ``feedback.core.csvsafe``)."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(table.header)
    for count, row in enumerate(table.rows(), start=1):
        writer.writerow([csv_value(v) for v in row])
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(table: Table) -> Iterator[str]:
    """The table as a JSON array of objects, one batch of rows per chunk."""
    header = table.header
    yield "["
    parts: list[str] = []
    first = True
    for row in table.rows():
        parts.append(("" if first else ",") + json.dumps(
            dict(zip(header, (cell(v) for v in row), strict=True)), ensure_ascii=False))
        first = False
        if len(parts) >= BATCH:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "]"
