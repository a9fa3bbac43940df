"""Demo research priority rounds: sickle cell (voting open, with suggestions gathered at
community events) and maternity (closed, with results and responses). Idempotent: a
round whose slug exists is left alone."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.organisations.models import Organisation
from feedback.priorities import services
from feedback.priorities.identity import AGE_BANDS
from feedback.priorities.models import (
    Ballot,
    BallotChoice,
    BallotMethod,
    Phase,
    PriorityRound,
    VoterDescription,
)

SICKLE_CELL = {
    "slug": "sickle-cell-research-priorities",
    "organisations": ["sickle-cell-support-network", "riverside-hospitals"],
    "staff": "staff@sicklecell.example.org",
    "organiser": "editor@riverside.example.org",
    "round": {"title": "Sickle cell research priorities",
              "scope": "What should research using information from patient records about "
                       "sickle cell look at first?",
              "topics": "sickle cell, pain, emergency care, transition to adult services",
              "area": "Birmingham and Solihull", "groups": ["patients", "carers", "community",
                                                           "staff"],
              "voting_method": "choose", "max_choices": 3, "hide_counts": True},
    "suggestions": [
        ("Why do people with sickle cell wait so long for pain relief in A&E?",
         "People in crisis wait hours and are treated as if they are drug seeking."),
        ("How long does it take to get pain relief in A&E during a sickle cell crisis?", ""),
        ("Does moving from children's to adult services change how often young people end "
         "up in hospital?", "Many of our young members lose touch with care at 16 to 18."),
        ("Are people with sickle cell offered the same mental health support as people with "
         "other long-term conditions?", ""),
        ("Does recording ethnicity wrongly in patient records hide gaps in sickle cell care?",
         ""),
    ],
    "on_behalf": [("Do GP practices know which of their patients have sickle cell trait?",
                   "Coffee morning, Handsworth community centre")],
    "priorities": [
        ("How can people in a sickle cell crisis get pain relief faster in A&E?",
         "Looks at waiting times from arrival to first pain relief, and what makes them "
         "shorter.", [0, 1]),
        ("What happens to young people's care when they move to adult services?",
         "Looks at hospital stays and missed appointments between ages 16 and 19.", [2]),
        ("Do people with sickle cell get mental health support when they need it?",
         "Compares referrals to talking therapies with other long-term conditions.", [3]),
        ("Is ethnicity recorded accurately for people with sickle cell?",
         "Checks how well patient records capture ethnicity, and whether gaps hide unfair "
         "care.", [4]),
    ],
    "phase": Phase.VOTING,
    "ballots": 0,
}

MATERNITY = {
    "slug": "maternity-research-priorities",
    "organisations": ["harambee-womens-group", "pennine-maternity"],
    "staff": "staff@harambee.example.org",
    "organiser": "editor@pennine.example.org",
    "round": {"title": "Maternity research priorities",
              "scope": "Which questions about maternity care for Black and South Asian women "
                       "should research using patient data answer first?",
              "topics": "maternity, interpreters, postnatal care", "area": "Bradford and "
              "North West London", "groups": ["patients", "carers", "staff"],
              "voting_method": "rank", "max_choices": 3, "hide_counts": True},
    "suggestions": [
        ("Are women who need an interpreter given one at every maternity appointment?",
         "Family members are often asked to interpret, even about private things."),
        ("Why are Black women more likely to die during or after pregnancy?", ""),
        ("Do women get checked for postnatal depression in their own language?", ""),
    ],
    "on_behalf": [("Are concerns raised by Black women in labour listened to?",
                   "Harambee peer support group, Brent")],
    "priorities": [
        ("Are interpreters used at every maternity appointment that needs one?",
         "Uses maternity records to see when interpreters were booked and used.", [0]),
        ("What lies behind higher death rates for Black women during and after pregnancy?",
         "Looks at warning signs and care in the weeks before and after birth.", [1]),
        ("Are women screened for postnatal depression in a language they understand?",
         "Compares screening rates by recorded language and ethnicity.", [2]),
        ("Are concerns raised during labour recorded and acted on?",
         "Checks how concerns are written in records and what happened next.", [3]),
    ],
    "phase": Phase.RESPONSES,
    "ballots": 64,
    "responses": [
        ("will_research", "Pennine's maternity data team and Midlands Health Research "
         "Partnership will study interpreter use from April. Harambee will help design it."),
        ("in_progress", "A study of maternity records from 2019 to 2024 has started. First "
         "findings are due in the autumn."),
        ("done", "Screening rates were the same across languages after the trust added "
         "translated questionnaires. The report is on the trust website."),
        ("not_taken", "Concerns are not recorded in a consistent way in the records we hold, "
         "so the data cannot answer this yet. We are changing the record first."),
    ],
}


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _seed_round(spec: dict, rng: random.Random) -> int:
    if db.session.scalar(select(PriorityRound).where(PriorityRound.slug == spec["slug"])):
        return 0
    orgs = [db.session.scalar(select(Organisation).where(Organisation.slug == slug))
            for slug in spec["organisations"]]
    organiser, staff = _user(spec["organiser"]), _user(spec["staff"])
    if None in orgs or organiser is None or staff is None:
        return 0
    db.session.refresh(organiser)
    db.session.refresh(staff)
    now = utcnow()
    round_ = services.create_round(None, [orgs[1], orgs[0]], {
        **spec["round"], "suggestions_open_at": now - timedelta(days=60),
        "review_at": now - timedelta(days=30), "voting_opens_at": now - timedelta(days=10),
        "voting_closes_at": now + timedelta(days=20) if spec["phase"] == Phase.VOTING
        else now - timedelta(days=3)})
    created = 1
    round_.phase = Phase.SUGGESTIONS
    members = db.session.scalars(select(User).where(User.email.like("member%"))).all()
    suggestions = []
    for number, (question, why) in enumerate(spec["suggestions"]):
        suggester = members[number % len(members)] if members else organiser
        suggestion = services.suggest(suggester, round_, {"question": question,
                                                          "why_it_matters": why})
        services.moderate(organiser, suggestion, "published")
        suggestions.append(suggestion)
    for question, event in spec["on_behalf"]:
        suggestions.append(services.suggest_on_behalf(staff, round_, {"question": question,
                                                                      "event": event}))
    if spec is SICKLE_CELL:
        services.moderate(organiser, services.suggest(organiser, round_, {
            "question": "Which diet cures sickle cell?"}), "out_of_scope",
            "No diet cures sickle cell, and this round is about using patient data.")
        services.merge_suggestions(organiser, suggestions[1], suggestions[0])
    created += len(suggestions)
    round_.phase = Phase.REVIEW
    priorities = []
    for title, description, sources in spec["priorities"]:
        priorities.append(services.create_priority(
            organiser, round_, {"title": title, "description": description},
            [suggestions[i].id for i in sources]))
    services.publish_shortlist(organiser, round_, [p.id for p in priorities[:3]],
                               "First shortlist")
    services.publish_shortlist(organiser, round_, [p.id for p in priorities],
                               "Added a question gathered at a community event")
    created += len(priorities)
    round_.phase = Phase.VOTING
    methods = [BallotMethod.ONLINE] * 6 + [BallotMethod.CODE] * 3 + [BallotMethod.PAPER]
    groups = spec["round"]["groups"]
    for number in range(spec["ballots"]):
        ballot = Ballot(round_id=round_.id, method=rng.choice(methods),
                        voter_key=services.voter_key(round_.id, f"demo:{number}"))
        chosen = rng.sample(priorities, k=rng.randint(1, round_.max_choices))
        ballot.choices = [BallotChoice(priority_id=p.id, rank=rank)
                          for rank, p in enumerate(chosen, start=1)]
        db.session.add(ballot)
        db.session.flush()
        if rng.random() < 0.7:
            db.session.add(VoterDescription(
                ballot_id=ballot.id, group=rng.choice(groups),
                ethnicity_options=[rng.choice(["Somali", "Pakistani", "Caribbean",
                                               "Nigerian", "Bangladeshi"])],
                age_band=rng.choice(AGE_BANDS[:5]),
                postcode_district=rng.choice(["BD3", "BD7", "NW10", "HA9"])))
        created += 1
    db.session.flush()
    if spec.get("responses"):
        round_.phase = Phase.RESULTS
        round_.results_published_at = round_.voting_closes_at
        for priority, (status, text) in zip(priorities, spec["responses"], strict=True):
            services.publish_response(organiser, priority, status, text)
    round_.phase = spec["phase"]
    db.session.flush()
    return created


def seed() -> int:
    """Add the demo rounds if they are missing; returns how many records were added."""
    rng = random.Random(2026)
    return _seed_round(SICKLE_CELL, rng) + _seed_round(MATERNITY, rng)
