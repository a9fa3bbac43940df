"""Tallies for a round: approval counts for "choose" rounds, Borda points for "rank"
rounds, overall and broken down. Every count leaves here already suppressed."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from feedback.core import csvsafe
from feedback.core.charts import bar_rows
from feedback.core.suppression import PublishedCount, published_percentage, suppress_count
from feedback.extensions import db
from feedback.priorities.models import (
    BALLOT_METHOD_LABELS,
    GROUP_LABELS,
    Ballot,
    BallotChoice,
    BallotMethod,
    Group,
    PriorityRound,
    VoterDescription,
    VotingMethod,
)
from feedback.priorities.services import current_shortlist


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


@dataclass
class Category:
    label: str
    voters: PublishedCount
    cells: list[Cell]


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


def borda_points(rank: int, max_choices: int) -> int:
    """First place earns ``max_choices`` points, second one fewer, and so on."""
    return max(max_choices - rank + 1, 0)


def compute_results(round_: PriorityRound) -> Results:
    shortlist = current_shortlist(round_)
    entries = shortlist.entries if shortlist else []
    choices = db.session.execute(
        select(BallotChoice.ballot_id, BallotChoice.priority_id, BallotChoice.rank)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id).where(Ballot.round_id == round_.id)
    ).all()
    methods = dict(db.session.execute(select(Ballot.id, Ballot.method)
                                      .where(Ballot.round_id == round_.id)).all())
    descriptions = {d.ballot_id: d for d in db.session.scalars(
        select(VoterDescription).join(Ballot, Ballot.id == VoterDescription.ballot_id)
        .where(Ballot.round_id == round_.id))}
    chosen_by: dict[int, set[int]] = defaultdict(set)
    points: dict[int, int] = defaultdict(int)
    for ballot_id, priority_id, rank in choices:
        chosen_by[priority_id].add(ballot_id)
        points[priority_id] += borda_points(rank, round_.max_choices)

    all_ballots = set(methods)
    voters = suppress_count(len(all_ballots))
    rank_round = round_.voting_method == VotingMethod.RANK
    ordered = sorted(entries, key=lambda e: (-(points[e.priority_id] if rank_round else
                                               len(chosen_by[e.priority_id])), e.position))
    tallies = []
    for entry in ordered:
        chose = suppress_count(len(chosen_by[entry.priority_id]))
        published_points = None
        if rank_round:
            published_points = (PublishedCount(None) if chose.value is None else
                                suppress_count(points[entry.priority_id]))
        tallies.append(PriorityTally(entry.priority_id, entry.title, chose,
                                     published_percentage(chose, voters), published_points))

    def breakdown(key: str, title: str, groups: dict[str, set[int]]) -> Breakdown:
        result = Breakdown(key, title)
        for label, ballots in groups.items():
            whole = suppress_count(len(ballots))
            cells = []
            for tally in tallies:
                part = suppress_count(len(chosen_by[tally.priority_id] & ballots))
                cells.append(Cell(part, published_percentage(part, whole)))
            result.categories.append(Category(label, whole, cells))
        return result

    not_said = _("Did not say")
    by_group: dict[str, set[int]] = {str(label): set() for label in GROUP_LABELS.values()}
    by_identity: dict[str, set[int]] = defaultdict(set)
    by_area: dict[str, set[int]] = defaultdict(set)
    by_method: dict[str, set[int]] = {str(label): set() for label in
                                      BALLOT_METHOD_LABELS.values()}
    own_words = _("Described in their own words")
    for ballot_id in sorted(all_ballots):
        description = descriptions.get(ballot_id)
        by_method[str(BALLOT_METHOD_LABELS[BallotMethod(methods[ballot_id])])].add(ballot_id)
        if description is None:
            by_group.setdefault(not_said, set()).add(ballot_id)
            by_identity[not_said].add(ballot_id)
            by_area[not_said].add(ballot_id)
            continue
        group = (str(GROUP_LABELS[Group(description.group)]) if description.group
                 else not_said)
        by_group.setdefault(group, set()).add(ballot_id)
        for option in description.ethnicity_options or []:
            by_identity[option].add(ballot_id)
        if description.ethnicity_text:
            by_identity[own_words].add(ballot_id)
        if not description.ethnicity_options and not description.ethnicity_text:
            by_identity[not_said].add(ballot_id)
        by_area[description.postcode_district or not_said].add(ballot_id)

    def ordered_groups(groups: dict[str, set[int]]) -> dict[str, set[int]]:
        named = sorted(k for k in groups if k != not_said)
        return {k: groups[k] for k in [*named, not_said] if k in groups}

    breakdowns = [
        breakdown("group", _("By group"), by_group),
        breakdown("identity", _("By how people describe their ethnicity"),
                  ordered_groups(by_identity)),
        breakdown("area", _("By area (postcode district)"), ordered_groups(by_area)),
        breakdown("method", _("By way of voting"), by_method),
    ]
    return Results(round_, voters, tallies, breakdowns)


def results_csv(results: Results) -> str:
    """The published (suppressed) figures, one row per priority and category."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(["breakdown", "category", "priority", "voters_in_category",
                     "chose_priority", "percentage", "points"])
    for tally in results.tallies:
        writer.writerow(["overall", "all voters", tally.title, str(results.voters),
                         str(tally.chose), tally.percentage,
                         str(tally.points) if tally.points is not None else ""])
    for breakdown in results.breakdowns:
        for category in breakdown.categories:
            for tally, cell in zip(results.tallies, category.cells, strict=True):
                writer.writerow([breakdown.key, category.label, tally.title,
                                 str(category.voters), str(cell.chose), cell.percentage, ""])
    return buffer.getvalue()


def chart_rows(results: Results) -> list[dict]:
    """Bars for the overall chart: the published value (None when suppressed)."""
    rank_round = results.round.voting_method == VotingMethod.RANK
    shown = [(t, t.points if rank_round else t.chose) for t in results.tallies]
    return bar_rows((tally.title, count.value, str(count)) for tally, count in shown)
