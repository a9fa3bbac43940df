"""Tallies (approval and Borda), breakdowns, suppression of every published count, the
results page with its SVG charts and the CSV download."""

from __future__ import annotations

import csv
import io

import pytest

from feedback.core.suppression import suppress_count
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Ballot, BallotChoice, BallotMethod, Phase
from feedback.priorities.results import (
    borda_points,
    chart_rows,
    competition_ranks,
    compute_results,
    csv_lines,
)


@pytest.fixture(autouse=True)
def request_context(app):
    """Results are worked out for a page or an API call, in the reader's language."""
    with app.test_request_context():
        yield


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def _add_ballots(round_, choices, method=BallotMethod.ONLINE, group="", options=(),
                 district="", start=0):
    """Add ballots directly (the voting rules are tested elsewhere)."""
    from feedback.priorities.models import VoterDescription

    for number, chosen in enumerate(choices, start=start):
        ballot = Ballot(round_id=round_.id, voter_key=f"{method.value}-{group}-{number}",
                        method=method)
        ballot.choices = [BallotChoice(priority_id=p, rank=r) for r, p in
                          enumerate(chosen, start=1)]
        db.session.add(ballot)
        db.session.flush()
        if group or options or district:
            db.session.add(VoterDescription(ballot_id=ballot.id, group=group,
                                            ethnicity_options=list(options),
                                            postcode_district=district))
    db.session.commit()


@pytest.mark.parametrize(("raw", "shown"), [(0, "0"), (1, "*"), (7, "*"), (8, "10"),
                                            (12, "10"), (13, "15"), (17, "15"), (18, "20")])
def test_suppression_edge_values(raw, shown):
    assert str(suppress_count(raw)) == shown


def test_borda_points():
    assert [borda_points(rank, 3) for rank in (1, 2, 3)] == [3, 2, 1]


def test_approval_tally_and_breakdowns_are_suppressed(make_round):
    round_ = make_round("results")
    a, b, c, _d = _ids(round_)
    _add_ballots(round_, [[a, b]] * 20, group="patients", options=["Somali"], district="B15")
    _add_ballots(round_, [[b]] * 5, method=BallotMethod.CODE, group="carers", start=100)
    _add_ballots(round_, [[c]] * 3, method=BallotMethod.PAPER, start=200)
    results = compute_results(round_)
    assert str(results.voters) == "30"  # 28 rounded to the nearest 5
    tallies = {t.priority_id: t for t in results.tallies}
    assert [t.priority_id for t in results.tallies][:2] == [b, a]
    assert str(tallies[b].chose) == "25" and tallies[b].percentage == "83%"
    assert str(tallies[a].chose) == "20" and tallies[a].percentage == "67%"
    assert str(tallies[c].chose) == "*" and tallies[c].percentage == "*"
    groups = {cat.label: cat for cat in results.breakdowns[0].categories}
    assert str(groups["Patients"].voters) == "20" and str(groups["Carers"].voters) == "*"
    assert str(groups["Did not say"].voters) == "*"
    identity = {cat.label: cat for cat in results.breakdowns[1].categories}
    assert str(identity["Somali"].voters) == "20"
    methods = {cat.label: str(cat.voters) for cat in results.breakdowns[3].categories}
    assert methods == {"Online": "20", "Ballot code": "*", "Paper": "*"}
    areas = {cat.label: str(cat.voters) for cat in results.breakdowns[2].categories}
    assert areas["B15"] == "20"


def test_borda_tally_ranks_by_points(make_round):
    round_ = make_round("results", voting_method="rank", max_choices=3)
    a, b, c, _d = _ids(round_)
    _add_ballots(round_, [[a, b, c]] * 10)
    _add_ballots(round_, [[b, c]] * 10, start=50)
    results = compute_results(round_)
    by_id = {t.priority_id: t for t in results.tallies}
    # a: 10x3 = 30; b: 10x2 + 10x3 = 50; c: 10x1 + 10x2 = 30
    assert results.tallies[0].priority_id == b and str(by_id[b].points) == "50"
    assert str(by_id[a].points) == "30" and str(by_id[c].points) == "30"


def test_results_page_has_charts_tables_and_the_method_in_plain_english(client, make_round):
    round_ = make_round("results", voting_method="rank", max_choices=3)
    a, b, *_ = _ids(round_)
    _add_ballots(round_, [[a, b]] * 12)
    page = client.get(f"/priorities/rounds/{round_.slug}/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<div class="app-chart" ') == 5  # overall and four breakdowns
    assert 'role="img"' in html and 'id="chart-overall-title"' in html
    assert "Borda count" in html and "first choice earns 3 points" in html
    assert "<table class=\"nhsuk-table\">" in html


def test_csv_has_the_same_suppressed_figures(client, make_round):
    round_ = make_round("results")
    a, *_ = _ids(round_)
    _add_ballots(round_, [[a]] * 9)
    response = client.get(f"/priorities/rounds/{round_.slug}/results.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    overall = [r for r in rows if r["breakdown"] == "overall"]
    assert overall[0]["voters_in_category"] == "10" and overall[0]["chose_priority"] == "10"
    assert {r["chose_priority"] for r in rows} <= {"0", "*", "10"}
    method_rows = [r for r in rows if r["breakdown"] == "method" and r["category"] == "Online"]
    assert method_rows[0]["voters_in_category"] == "10"


def test_counts_hidden_until_voting_closes(client, make_round):
    round_ = make_round("voting", hide_counts=True)
    assert "published when voting closes" in client.get(
        f"/priorities/rounds/{round_.slug}/results").get_data(as_text=True)
    assert client.get(f"/priorities/rounds/{round_.slug}/results.csv").status_code == 404
    assert client.get(f"/api/v1/rounds/{round_.slug}/results").status_code == 404
    round_.hide_counts = False
    db.session.commit()
    assert "Voting is still open" in client.get(
        f"/priorities/rounds/{round_.slug}/results").get_data(as_text=True)
    round_.phase = Phase.RESULTS
    db.session.commit()


# Honest figures: the order and the rank come from the exact totals ----------------------

def _close_race(round_):
    """58 ranked ballots (3 choices) giving true Borda points of 82, 80, 78 and 64, which
    publish as 80, 80, 80 and 65; a, b and c were chosen by 34, 34 and 36 people."""
    a, b, c, d = _ids(round_)
    patterns = {(d, c, a): 2, (d, c, b): 2, (d, c): 14, (a, c): 4, (a, b, d): 6, (a, b): 6,
                (b, a, c): 4, (b, a): 10, (c, a): 2, (c, b): 6, (c, d): 2}
    start = 0
    for chosen, n in patterns.items():
        _add_ballots(round_, [list(chosen)] * n, start=start)
        start += n
    return a, b, c, d


def test_competition_ranks_share_a_rank_for_equal_totals():
    assert competition_ranks([82, 80, 80, 64]) == [1, 2, 2, 4]
    assert competition_ranks([]) == []


def test_rounding_to_80_80_80_65_keeps_the_winner_visible(make_round):
    round_ = make_round("results", voting_method="rank", max_choices=3)
    a, b, c, d = _close_race(round_)
    results = compute_results(round_)
    assert [t.priority_id for t in results.tallies] == [a, b, c, d]
    assert [str(t.points) for t in results.tallies] == ["80", "80", "80", "65"]
    assert [t.rank for t in results.tallies] == [1, 2, 3, 4]
    # "Chose it": 34, 34 and 36 all publish as 35; the order stays the points' order.
    assert [str(t.chose) for t in results.tallies[:3]] == ["35", "35", "35"]
    assert results.tied_after_rounding
    rows = list(csv.DictReader(io.StringIO("".join(csv_lines(results)))))
    overall = [(r["points"], r["rank"]) for r in rows if r["breakdown"] == "overall"]
    assert overall == [("80", "1"), ("80", "2"), ("80", "3"), ("65", "4")]
    assert [(row["text"], row["rank"]) for row in chart_rows(results)] == [
        ("80", 1), ("80", 2), ("80", 3), ("65", 4)]


def test_choices_of_34_34_and_36_rank_1_2_2(make_round):
    round_ = make_round("results")
    a, b, c, d = _ids(round_)
    _add_ballots(round_, [[a, b, c]] * 34)
    _add_ballots(round_, [[c, d]] * 2, start=100)
    results = compute_results(round_)
    assert [t.priority_id for t in results.tallies][:3] == [c, a, b]
    assert [str(t.chose) for t in results.tallies][:3] == ["35", "35", "35"]
    assert [t.rank for t in results.tallies] == [1, 2, 2, None]  # d: 2 people, suppressed
    assert results.tied_after_rounding


def test_results_page_names_the_bars_and_shows_the_rank(client, make_round):
    round_ = make_round("results", voting_method="rank", max_choices=3)
    _close_race(round_)
    html = client.get(f"/priorities/rounds/{round_.slug}/results").get_data(as_text=True)
    assert "Ranked by exact totals; figures rounded to the nearest 5." in html
    assert "the rank shows which came first" in html
    overall = html.split('id="chart-overall"')[1].split("</div>\n\n")[0]
    name = "Priority question 1"
    assert f'class="app-chart__label" lang="en" dir="ltr" title="{name}">{name}<' in overall
    assert '<span class="app-chart__rank">1</span>' in overall
    ranks = html.split("<caption")[1].split("</table>")[0].count('data-testid="rank"')
    assert ranks == 4


def test_results_page_in_urdu_translates_our_labels_and_marks_codes(client, make_round):
    """Ethnicity options are our list (translated interface); postcode districts are codes
    in no language; priority names keep their own language, even in a tooltip."""
    round_ = make_round("results")
    a, b, *_ = _ids(round_)
    _add_ballots(round_, [[a, b]] * 12, options=["Somali"], district="BD3")
    client.get("/language?code=ur")
    html = client.get(f"/priorities/rounds/{round_.slug}/results").get_data(as_text=True)
    assert ">صومالی</th>" in html and ">Somali<" not in html
    assert '<th scope="row"><bdi lang="zxx" dir="ltr" translate="no">BD3</bdi></th>' in html
    assert '<bdi lang="zxx" dir="ltr" translate="no" title="BD3">BD3</bdi>' in html  # its bar
    assert '<abbr lang="en" dir="ltr" title="Priority question 1"><span lang="ur" dir="rtl">' \
        in html
    title = html.split("<title>")[1].split("</title>")[0]
    assert f"\u2068{round_.title}\u2069" in title


def test_api_results_carry_the_rank(client, make_round):
    round_ = make_round("results", voting_method="rank", max_choices=3)
    _close_race(round_)
    body = client.get(f"/api/v1/rounds/{round_.slug}/results").get_json()
    assert [(p["points"], p["rank"]) for p in body["data"]["priorities"]] == [
        (80, 1), (80, 2), (80, 3), (65, 4)]
