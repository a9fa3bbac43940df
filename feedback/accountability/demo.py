"""Demo history for the accountability pages: older updates spread over past quarters, a
research body's update answering a maternity priority, partners' updates from their
community groups, and questions answered after a few days. The organisations are
fictional; the content is illustrative. Idempotent: keyed by update title."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation
from feedback.priorities.models import Priority, PriorityRound, ResponseStatus
from feedback.updates import services
from feedback.updates.models import Answer, Question, QuestionStatus, Update

COMMON = {"purpose": "Checking and improving care (service evaluation).",
          "legal_basis": "Service evaluation by the care team (UK GDPR Article 6(1)(e) and "
                         "9(2)(h)).",
          "opt_out_applied": "not_applicable"}

HISTORY = [
    {"organisation": "riverside-hospitals", "days_ago": 300, "kind": "finding",
     "title": "Ethnicity is now recorded for 9 in 10 people at registration",
     "summary": "People told us their ethnicity was often missing or wrong on their record. "
                "We checked, trained reception staff, and now it is right far more often.",
     "datasets": ["Riverside patient record system"], "topics": ["Ethnicity recording"],
     "areas": ["Birmingham"],
     "question": ("Can I check what my record says about my ethnicity?",
                  "Yes. Ask at any reception desk or in the patient portal. You can change "
                  "it at any time.", 3)},
    {"organisation": "northgate-community-health", "days_ago": 250, "kind": "decision",
     "title": "Talking therapies groups will run in Gujarati and Tamil",
     "summary": "Records showed few Gujarati and Tamil speakers finished therapy. Groups in "
                "both languages start this spring.",
     "datasets": ["Talking therapies activity data"], "topics": ["Mental health"],
     "areas": ["North West London"],
     "question": ("Will there be groups on Saturdays?", None, 0)},
    {"organisation": "nhs-england-data", "days_ago": 400, "kind": "finding",
     "title": "Hospital data now shows waits for sickle cell pain relief by area",
     "summary": "We added sickle cell pain crises to the figures trusts can see, so they "
                "can compare their waits with others.",
     "datasets": ["Hospital Episode Statistics (HES)"], "topics": ["Sickle cell"],
     "areas": ["England"]},
    {"organisation": "apna-health-forum", "days_ago": 200, "kind": "finding",
     "title": "What Bradford families told us about interpreters in maternity care",
     "summary": "At our groups, 60 women told us about appointments without an interpreter. "
                "Pennine checked its records and found the same gaps.",
     "datasets": ["Maternity Services Data Set (local extract)"], "topics": ["Maternity"],
     "areas": ["Bradford"],
     "question": ("Will the groups run in Bengali too?",
                  "Yes. Our Bengali group meets on the first Tuesday of each month.", 4)},
    {"organisation": "sickle-cell-support-network", "days_ago": 120, "kind": "finding",
     "title": "Our members' pain diaries helped shape the A&E fast-track",
     "summary": "Members kept diaries of their waits in A&E. Riverside compared them with "
                "its records, and the fast-track was built around what they found.",
     "datasets": ["Sickle cell emergency attendances"], "topics": ["Sickle cell"],
     "areas": ["Birmingham"],
     "question": ("Can I still send in my diary?",
                  "Yes, please do. Our next review of the diaries is in the spring.", 9)},
    {"organisation": "midlands-health-research", "days_ago": 30, "kind": "research_result",
     "title": "Study started: does an interpreter at every appointment change outcomes?",
     "summary": "We are using maternity and hospital records to see whether interpreters "
                "at every appointment lead to safer births. First results next year.",
     "datasets": ["Maternity Services Data Set (local extract)",
                  "Hospital Episode Statistics (HES)"],
     "topics": ["Maternity"], "areas": ["Bradford"], "answers_promised_priority": True,
     "question": ("How can families take part in the study?", None, 0)},
]


def _promised_maternity_priority() -> Priority | None:
    return db.session.scalar(
        select(Priority).join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(PriorityRound.slug == "maternity-research-priorities",
               Priority.response_status.in_([ResponseStatus.WILL_BE_RESEARCHED,
                                             ResponseStatus.IN_PROGRESS]))
        .order_by(Priority.id))


def seed() -> int:
    """Add the demo history that is missing and return how many records were added."""
    created = 0
    asker = db.session.scalar(select(User).where(
        User.email == "member2@feedback-demo.example.org"))
    for spec in HISTORY:
        if db.session.scalar(select(Update.id).where(Update.title == spec["title"])):
            continue
        org = db.session.scalar(select(Organisation).where(
            Organisation.slug == spec["organisation"]))
        datasets = db.session.scalars(select(Dataset.id).where(
            Dataset.name.in_(spec["datasets"]))).all()
        if org is None or not datasets:
            continue
        data = {**COMMON, "title": spec["title"], "summary": spec["summary"],
                "kind": spec["kind"], "datasets": list(datasets), "topics": spec["topics"],
                "areas": spec["areas"]}
        if spec.get("answers_promised_priority"):
            priority = _promised_maternity_priority()
            data["answers_priority_id"] = priority.id if priority else None
        update = services.create_update(None, org, data)
        published = utcnow() - timedelta(days=spec["days_ago"])
        services.publish_update(None, update, when=published)
        created += 1
        if spec.get("question") and asker is not None:
            body, answer, days = spec["question"]
            asked = published + timedelta(days=2)
            question = Question(update_id=update.id, author_id=asker.id, body=body,
                                status=QuestionStatus.PUBLISHED, created_at=asked,
                                moderated_at=asked)
            if answer:
                question.answer = Answer(body=answer, created_at=asked + timedelta(days=days))
            db.session.add(question)
            created += 1
    db.session.flush()
    return created
