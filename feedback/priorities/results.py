"""Tallies for a round: approval counts for "choose" rounds, Borda points for "rank"
rounds, overall and broken down. Every count leaves here already suppressed.

The published order, and each priority's rank, come from the exact totals: rounding to
the nearest 5 can make 82, 80 and 78 points all read 80, and the rank shows who won.
Priorities with the same exact total share a rank (1, 2, 2, 4). A priority whose count is
suppressed (1 to 7 people) keeps its place in the order but shows no rank."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Text, case, cast, func, select, tuple_
from sqlalchemy.exc import IntegrityError

from feedback.core import csvsafe
from feedback.core.charts import bar_rows
from feedback.core.suppression import PublishedCount, published_percentage, suppress_count
from feedback.extensions import cache, db
from feedback.priorities.identity import ethnicity_label
from feedback.priorities.models import (
    BALLOT_METHOD_LABELS,
    GROUP_LABELS,
    Ballot,
    BallotChoice,
    BallotMethod,
    Phase,
    PriorityRound,
    ShortlistVersion,
    StoredResults,
    VoterDescription,
    VotingMethod,
)
from feedback.priorities.services import RESULTS_CACHE_KEY, current_shortlist


@dataclass
class Cell:
    chose: PublishedCount
    percentage: str


@dataclass
class PriorityTally:
    priority_id: int
    title: str
    chose: PublishedCount
    percentage: str
    points: PublishedCount | None  # rank rounds only
    rank: int | None = None  # from the exact totals; None when the count is suppressed


@dataclass
class Category:
    label: str
    voters: PublishedCount
    cells: list[Cell]
    code: bool = False  # a postcode district: a code in no language, shown as it is

    @property
    def chart_label(self) -> Any:
        """The name a chart shows: interface text, or a code marked as being in no
        language (``zxx``) that reads left to right."""
        return CodeLabel(self.label) if self.code else self.label


@dataclass(frozen=True)
class CodeLabel:
    """A language-neutral code (a postcode district) for a chart label: ``lang`` says
    it is no language, so it is neither translated nor counted as English."""

    text: str
    lang: str = "zxx"
    dir: str = "ltr"


@dataclass
class Breakdown:
    key: str
    title: str
    categories: list[Category] = field(default_factory=list)


@dataclass
class Results:
    round: PriorityRound
    voters: PublishedCount
    tallies: list[PriorityTally]
    breakdowns: list[Breakdown]

    @property
    def priorities(self) -> list[tuple[int, str]]:
        return [(t.priority_id, t.title) for t in self.tallies]

    @property
    def tied_after_rounding(self) -> bool:
        """Two priorities with different ranks show the same published score."""
        seen: dict[int, int | None] = {}
        for tally in self.tallies:
            score = published_score(self.round, tally)
            if score.value is None or tally.rank is None:
                continue
            if score.value in seen and seen[score.value] != tally.rank:
                return True
            seen[score.value] = tally.rank
        return False


def published_score(round_: PriorityRound, tally: PriorityTally) -> PublishedCount:
    """What the round is decided on: points in rank rounds, choices in choose rounds."""
    if round_.voting_method == VotingMethod.RANK and tally.points is not None:
        return tally.points
    return tally.chose


def competition_ranks(scores: list[int]) -> list[int]:
    """Ranks for scores already in descending order; equal scores share a rank and the
    next one skips (82, 80, 80, 64 -> 1, 2, 2, 4)."""
    ranks: list[int] = []
    for index, score in enumerate(scores):
        ranks.append(ranks[-1] if index and score == scores[index - 1] else index + 1)
    return ranks


def borda_points(rank: int, max_choices: int) -> int:
    """First place earns ``max_choices`` points, second one fewer, and so on."""
    return max(max_choices - rank + 1, 0)


def count_ballots(round_id: int) -> dict[str, Any]:
    """The round's raw counts, worked out in the database (``GROUP BY``): ballots and
    choices by way of voting, by group, by area and by ethnicity. Language-neutral,
    unsuppressed, and small whatever the number of ballots."""
    if db.session.get_bind().dialect.name == "postgresql":
        return _count_with_grouping_sets(round_id)
    in_round = Ballot.round_id == round_id
    rows = db.session.execute
    methods = rows(select(Ballot.method, func.count()).where(in_round)
                   .group_by(Ballot.method)).all()
    choices = rows(select(Ballot.method, BallotChoice.priority_id, BallotChoice.rank,
                          func.count())
                   .join(Ballot, Ballot.id == BallotChoice.ballot_id).where(in_round)
                   .group_by(Ballot.method, BallotChoice.priority_id, BallotChoice.rank)).all()

    def described(*columns: Any, chose: bool = False) -> list[list[Any]]:
        statement = (select(*columns, *([BallotChoice.priority_id] if chose else []),
                            func.count())
                     .select_from(VoterDescription)
                     .join(Ballot, Ballot.id == VoterDescription.ballot_id).where(in_round))
        if chose:
            statement = statement.join(BallotChoice,
                                       BallotChoice.ballot_id == VoterDescription.ballot_id)
        group_by = [*columns, *([BallotChoice.priority_id] if chose else [])]
        return [list(row) for row in rows(statement.group_by(*group_by)).all()]

    options = cast(VoterDescription.ethnicity_options, Text)
    own_words = case((VoterDescription.ethnicity_text != "", 1), else_=0)
    return {
        "methods": {str(BallotMethod(method)): n for method, n in methods},
        "choices": [[str(BallotMethod(m)), p, r, n] for m, p, r, n in choices],
        "group": {"ballots": described(VoterDescription.group),
                  "choices": described(VoterDescription.group, chose=True)},
        "area": {"ballots": described(VoterDescription.postcode_district),
                 "choices": described(VoterDescription.postcode_district, chose=True)},
        "identity": {"ballots": described(options, own_words),
                     "choices": described(options, own_words, chose=True)},
    }


def _count_with_grouping_sets(round_id: int) -> dict[str, Any]:
    """PostgreSQL: the same counts in two statements, each reading the ballots (and their
    choices) once and grouping them four ways (``GROUPING SETS``)."""
    d = VoterDescription
    options = cast(d.ethnicity_options, Text)
    own_words = case((d.ethnicity_text != "", 1), else_=0)
    keys = [Ballot.method, d.group, d.postcode_district, options, own_words]
    sets = [(Ballot.method,), (d.group,), (d.postcode_district,), (options, own_words)]
    counts: dict[str, Any] = {"methods": {}, "choices": [],
                              **{k: {"ballots": [], "choices": []}
                                 for k in ("group", "area", "identity")}}
    for chose in (False, True):
        extra = [BallotChoice.priority_id, BallotChoice.rank] if chose else []
        grouping = [func.grouping(Ballot.method), func.grouping(d.group),
                    func.grouping(d.postcode_district)]
        statement = (select(*keys, *extra, *grouping, func.count()).select_from(Ballot)
                     .outerjoin(d, d.ballot_id == Ballot.id)
                     .where(Ballot.round_id == round_id))
        if chose:
            statement = statement.join(BallotChoice, BallotChoice.ballot_id == Ballot.id)
            group_sets = [tuple_(*columns, BallotChoice.priority_id,
                                 *([BallotChoice.rank] if columns[0] is Ballot.method
                                   else [])) for columns in sets]
        else:
            group_sets = [tuple_(*columns) for columns in sets]
        statement = statement.group_by(func.grouping_sets(*group_sets))
        for (method, group, district, opts, words, *rest) in db.session.execute(statement):
            *chosen, by_method, by_group, by_area, n = rest
            kind = "choices" if chose else "ballots"
            if by_method == 0:
                if chose:
                    counts["choices"].append([str(BallotMethod(method)), *chosen, n])
                else:
                    counts["methods"][str(BallotMethod(method))] = n
            elif by_group == 0:
                if group is not None:
                    counts["group"][kind].append([group, *chosen[:1], n])
            elif by_area == 0:
                if district is not None:
                    counts["area"][kind].append([district, *chosen[:1], n])
            elif opts is not None:
                counts["identity"][kind].append([opts, words, *chosen[:1], n])
    return counts


def raw_counts(round_: PriorityRound) -> dict[str, Any]:
    """A closed round's counts are worked out once and stored (the caller commits); an
    open round's are kept in the cache for ``RESULTS_CACHE_SECONDS``."""
    if round_.phase_at_least(Phase.RESULTS):
        stored = db.session.get(StoredResults, round_.id)
        if stored is not None:
            return stored.counts
        counts = count_ballots(round_.id)
        try:
            with db.session.begin_nested():
                db.session.add(StoredResults(round_id=round_.id, counts=counts))
        except IntegrityError:  # another request stored them first: the same counts
            pass
        return counts
    seconds = current_app.config["RESULTS_CACHE_SECONDS"]
    key = RESULTS_CACHE_KEY.format(round_id=round_.id)
    counts = cache.get(key) if seconds > 0 else None
    if counts is None:
        counts = count_ballots(round_.id)
        if seconds > 0:
            cache.set(key, counts, timeout=seconds)
    return counts


def compute_results(round_: PriorityRound,
                    shortlist: ShortlistVersion | bool | None = False) -> Results:
    """The published results, from the raw counts. Each label is translated once."""
    if shortlist is False:
        shortlist = current_shortlist(round_)
    entries = shortlist.entries if shortlist else []
    counts = raw_counts(round_)
    total = sum(counts["methods"].values())
    chose: dict[int, int] = defaultdict(int)
    points: dict[int, int] = defaultdict(int)
    by_method_chose: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for method, priority_id, rank, n in counts["choices"]:
        chose[priority_id] += n
        points[priority_id] += n * borda_points(rank, round_.max_choices)
        by_method_chose[method][priority_id] += n

    voters = suppress_count(total)
    rank_round = round_.voting_method == VotingMethod.RANK
    def exact(priority_id: int) -> int:
        return points[priority_id] if rank_round else chose[priority_id]

    ordered = sorted(entries, key=lambda e: (-exact(e.priority_id), e.position))
    ranks = competition_ranks([exact(e.priority_id) for e in ordered])
    tallies = []
    for entry, rank in zip(ordered, ranks, strict=True):
        published = suppress_count(chose[entry.priority_id])
        published_points = None
        if rank_round:
            published_points = (PublishedCount(None) if published.value is None else
                                suppress_count(points[entry.priority_id]))
        tallies.append(PriorityTally(entry.priority_id, entry.title, published,
                                     published_percentage(published, voters),
                                     published_points,
                                     None if published.value is None else rank))

    def breakdown(key: str, title: str, groups: list[tuple[str, int, dict[int, int]]],
                  codes: bool = False) -> Breakdown:
        result = Breakdown(key, title)
        for label, ballots, chosen in groups:
            whole = suppress_count(ballots)
            cells = []
            for tally in tallies:
                part = suppress_count(chosen.get(tally.priority_id, 0))
                cells.append(Cell(part, published_percentage(part, whole)))
            result.categories.append(Category(label, whole, cells,
                                              code=codes and label != not_said))
        return result

    not_said = _("Did not say")

    def tally_by(dimension: str) -> tuple[dict[Any, int], dict[Any, dict[int, int]]]:
        ballots: dict[Any, int] = defaultdict(int)
        chosen: dict[Any, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for *key, n in counts[dimension]["ballots"]:
            ballots[tuple(key)] += n
        for *key, priority_id, n in counts[dimension]["choices"]:
            chosen[tuple(key)][priority_id] += n
        return ballots, chosen

    def with_not_said(named: dict[str, tuple[int, dict[int, int]]],
                      extra: tuple[int, dict[int, int]] = (0, {})) -> list[tuple]:
        """Named categories, then "Did not say": everyone not counted in a named one
        (plus ``extra``, for people who were described but said nothing)."""
        ballots = total - sum(n for n, _chosen in named.values()) + extra[0]
        chosen = {p: n - sum(c.get(p, 0) for _n, c in named.values()) + extra[1].get(p, 0)
                  for p, n in chose.items()}
        categories = [(label, n, c) for label, (n, c) in named.items()]
        return [*categories, (not_said, ballots, chosen)] if ballots else categories

    group_ballots, group_chosen = tally_by("group")
    groups = {str(label): (group_ballots.get((code.value,), 0),
                           group_chosen.get((code.value,), {}))
              for code, label in GROUP_LABELS.items()}

    area_ballots, area_chosen = tally_by("area")
    areas = {district: (n, area_chosen.get((district,), {}))
             for (district,), n in sorted(area_ballots.items()) if district}

    identity_ballots, identity_chosen = tally_by("identity")
    own_words = _("Described in their own words")
    people: dict[str, int] = defaultdict(int)
    picked: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    described = 0
    nothing: tuple[int, dict[int, int]] = (0, defaultdict(int))
    for (options_text, has_text), n in identity_ballots.items():
        described += n
        options = json.loads(options_text) if options_text else None
        labels = [*(ethnicity_label(option) for option in options or []),
                  *([own_words] if has_text else [])]
        chosen = identity_chosen.get((options_text, has_text), {})
        if not labels:
            nothing = (nothing[0] + n, nothing[1])
            for priority_id, k in chosen.items():
                nothing[1][priority_id] += k
        for label in labels:
            people[label] += n
            for priority_id, k in chosen.items():
                picked[label][priority_id] += k
    described_chose: dict[int, int] = defaultdict(int)
    for _key, chosen in identity_chosen.items():
        for priority_id, k in chosen.items():
            described_chose[priority_id] += k
    not_described = total - described
    identity_not_said = [(not_said, not_described + nothing[0],
                          {p: n - described_chose.get(p, 0) + nothing[1].get(p, 0)
                           for p, n in chose.items()})]
    identity = [(label, people[label], picked[label]) for label in sorted(people)]
    if not_described + nothing[0]:
        identity += identity_not_said

    methods = [(str(label), counts["methods"].get(method.value, 0),
                by_method_chose.get(method.value, {}))
               for method, label in BALLOT_METHOD_LABELS.items()]
    breakdowns = [
        breakdown("group", _("By group"), with_not_said(groups)),
        breakdown("identity", _("By how people describe their ethnicity"), identity),
        breakdown("area", _("By area (postcode district)"), with_not_said(areas), codes=True),
        breakdown("method", _("By way of voting"), methods),
    ]
    return Results(round_, voters, tallies, breakdowns)


def csv_lines(results: Results) -> Iterator[str]:
    """The published (suppressed) figures, one row per priority and category, a line at a
    time (the download streams them). Overall rows carry each priority's rank (from the
    exact totals; empty when its count is suppressed)."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)

    def line(row: list[str]) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(["breakdown", "category", "priority", "voters_in_category",
                "chose_priority", "percentage", "points", "rank"])
    for tally in results.tallies:
        yield line(["overall", "all voters", tally.title, str(results.voters),
                    str(tally.chose), tally.percentage,
                    str(tally.points) if tally.points is not None else "",
                    "" if tally.rank is None else str(tally.rank)])
    for breakdown in results.breakdowns:
        for category in breakdown.categories:
            for tally, cell in zip(results.tallies, category.cells, strict=True):
                yield line([breakdown.key, category.label, tally.title,
                            str(category.voters), str(cell.chose), cell.percentage, "", ""])


def results_csv(results: Results) -> str:
    """The whole CSV as one string (open data bundles it)."""
    return "".join(csv_lines(results))


def chart_rows(results: Results, label: Callable[[str], Any] = str) -> list[dict]:
    """Bars for the overall chart: each priority's name (``label`` turns a title into
    what the chart shows: the reader's language, marked with its own) and its published
    score (no bar when suppressed), with its rank."""
    shown = [(t, published_score(results.round, t)) for t in results.tallies]
    rows = bar_rows((label(tally.title), count.value, str(count)) for tally, count in shown)
    for row, tally in zip(rows, results.tallies, strict=True):
        row["rank"] = tally.rank
    return rows


def breakdown_chart_rows(breakdown: Breakdown) -> list[dict]:
    """Bars for a breakdown's chart: how many people voted in each category."""
    return bar_rows((category.chart_label, category.voters.value, str(category.voters))
                    for category in breakdown.categories)
