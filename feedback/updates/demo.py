"""Demo updates for every demo trust: sickle cell pain relief in A&E, interpreters in
maternity care, diabetes, talking therapies and ethnicity recording. The organisations are
fictional; the figures are illustrative. Idempotent: keyed by title."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.updates import questions, services
from feedback.updates.models import Question, QuestionStatus, Update

CHECKED = date(2026, 10, 1)

UPDATES = [
    {
        "organisation": "riverside-hospitals", "days_ago": 12,
        "title": "Pain relief for sickle cell crises in A&E is now much faster",
        "summary": "People with sickle cell told us they waited too long for pain relief in "
                   "A&E. We checked our records. Now most people get pain relief within "
                   "30 minutes.",
        "kind": "service_change",
        "body": "## What we looked at\n\nWe used information from patient records for "
                "everyone with sickle cell who came to our emergency department in a pain "
                "crisis over two years: when they arrived and when they first had pain "
                "relief.\n\n## What we found\n\n- Before the change, half of people waited "
                "**more than 70 minutes** for pain relief. National guidance says 30.\n"
                "- Waits were longest at night and at weekends.\n- People told the Sickle "
                "Cell Support Network that staff did not always believe how much pain they "
                "were in.\n\n## What we did\n\nWe agreed a fast-track with people living "
                "with sickle cell: a personal care plan on the record, pain relief offered "
                "at triage, and sickle cell training for every A&E nurse.",
        "what_changed": "A sickle cell fast-track in A&E: pain relief offered at triage, "
                        "personal care plans on the record, and training for all A&E "
                        "nurses.",
        "who_benefits": "Children and adults living with sickle cell, and their families.",
        "datasets": ["Sickle cell emergency attendances", "Riverside patient record system"],
        "services": ["Emergency department, Riverside General", "Haemoglobinopathy day unit"],
        "topics": ["Sickle cell", "Emergency care", "Pain"], "areas": ["Birmingham"],
        "community_tags": ["Black Caribbean families", "Black African families",
                           "People living with sickle cell"],
        "evidence_links": [
            {"title": "NICE guideline: sickle cell disease, managing acute painful "
                      "episodes in hospital", "url": "https://www.nice.org.uk/guidance/cg143"},
            {"title": "No One's Listening: an inquiry into sickle cell care",
             "url": "https://www.sicklecellsociety.org/no-ones-listening/"}],
        "purpose": "Checking and improving the quality of emergency care (service "
                   "evaluation).",
        "legal_basis": "Direct care and service evaluation by the care team (UK GDPR "
                       "Article 6(1)(e) and 9(2)(h)).",
        "opt_out_applied": "not_applicable",
        "revision": "Added the link to the national sickle cell inquiry.",
        "question": ("Will the fast-track also work at the children's A&E?",
                     "Yes. The children's emergency department started the same fast-track "
                     "in September, with care plans agreed with each family."),
    },
    {
        "organisation": "riverside-hospitals", "days_ago": 40,
        "title": "We now record ethnicity the way people describe themselves",
        "summary": "Many records said 'not stated' or used the wrong group. You can now "
                   "describe your ethnicity in your own words. It is always your choice.",
        "kind": "decision",
        "body": "## What we found\n\nWhen we looked at our patient records, **one in five** "
                "had no ethnicity recorded, and some people told us the tick-boxes did not "
                "fit them.\n\nWithout good records we cannot see if some communities wait "
                "longer or get worse care.\n\n## What we decided\n\nReception staff now ask "
                "everyone, explain why we ask, and offer a free-text box next to the list. "
                "Saying nothing is always fine.",
        "what_changed": "A new way of asking about ethnicity at registration, with free "
                        "text and an explanation of why we ask.",
        "who_benefits": "Everyone, and especially communities whose care we could not "
                        "compare before.",
        "datasets": ["Riverside patient record system"],
        "services": [],
        "topics": ["Ethnicity recording", "Health inequalities"], "areas": ["Birmingham"],
        "community_tags": ["Mixed heritage people", "Gypsy, Roma and Traveller communities"],
        "evidence_links": [{"title": "NHS Race and Health Observatory",
                            "url": "https://www.nhsrho.org/"}],
        "purpose": "Improving the quality of the records used to plan fair care.",
        "legal_basis": "Direct care; planning by the trust (UK GDPR Article 6(1)(e)).",
        "opt_out_applied": "not_applicable",
    },
    {
        "organisation": "pennine-maternity", "days_ago": 20,
        "title": "More women now get a professional interpreter at antenatal appointments",
        "summary": "Our records showed family members were often asked to interpret. Now "
                   "we book a trained interpreter for every appointment when one is needed.",
        "kind": "service_change",
        "body": "## What we looked at\n\nWe used our maternity records to see how often an "
                "interpreter was booked when a woman's record said she needed one.\n\n## "
                "What we found\n\nOnly **4 in 10** appointments had a professional "
                "interpreter. Husbands, children and other relatives were often asked to "
                "interpret, which means women could not always speak freely.\n\n## What "
                "changed\n\nInterpreters are now booked automatically from the record. "
                "Urdu, Panjabi, Bengali and Slovak interpreters are on site on clinic "
                "days.",
        "what_changed": "Automatic interpreter booking, and interpreters on site on antenatal "
                        "clinic days.",
        "who_benefits": "Pregnant women and birthing people who prefer to speak a language "
                        "other than English.",
        "datasets": ["Maternity Services Data Set (local extract)"],
        "services": ["Maternity unit, Pennine Royal"],
        "topics": ["Maternity", "Interpreters"], "areas": ["Bradford"],
        "community_tags": ["Urdu speakers", "Panjabi speakers", "Roma women"],
        "evidence_links": [{"title": "MBRRACE-UK reports",
                            "url": "https://www.npeu.ox.ac.uk/mbrrace-uk"}],
        "purpose": "Service evaluation of interpreter use in maternity care.",
        "legal_basis": "Direct care and service evaluation (UK GDPR Article 6(1)(e), "
                       "9(2)(h)).",
        "opt_out_applied": "not_applicable",
        "question": ("Can I ask for a female interpreter?",
                     "Yes. Tell the booking team or your midwife and we will book a female "
                     "interpreter whenever one is available."),
    },
    {
        "organisation": "northgate-community-health", "days_ago": 7,
        "title": "Talking therapies now offered in Tamil, Gujarati and Somali",
        "summary": "Fewer people from some communities were being referred for talking "
                   "therapies. We now offer sessions in more languages, in community venues.",
        "kind": "finding",
        "body": "## What we looked at\n\nWe compared who is referred to NHS Talking "
                "Therapies with who lives in Brent and Harrow.\n\n## What we found\n\n"
                "People of Tamil, Gujarati and Somali heritage were referred **half as "
                "often** as we expected. When they were referred, they were more likely to "
                "stop after one session.\n\n## What we are doing\n\nWith community groups "
                "we now run sessions in three more languages, at community centres as well "
                "as clinics, and people can refer themselves by phone.",
        "what_changed": "Sessions in Tamil, Gujarati and Somali, in community venues, and "
                        "self-referral by phone.",
        "who_benefits": "Adults with anxiety or low mood who would rather talk in their own "
                        "language.",
        "datasets": ["Talking therapies activity data"],
        "services": ["Talking therapies, Brent and Harrow"],
        "topics": ["Mental health", "Talking therapies"], "areas": ["North West London"],
        "community_tags": ["Tamil community", "Gujarati community", "Somali community"],
        "evidence_links": [{"title": "NHS Talking Therapies annual report",
                            "url": "https://digital.nhs.uk/data-and-information/"
                                   "publications/statistical/nhs-talking-therapies-for-"
                                   "anxiety-and-depression-annual-reports"}],
        "purpose": "Planning fair access to mental health services.",
        "legal_basis": "Planning and evaluation by the trust (UK GDPR Article 6(1)(e), "
                       "9(2)(h)).",
        "opt_out_applied": "yes",
    },
    {
        "organisation": "northgate-community-health", "days_ago": 60,
        "title": "Diabetes foot checks moved to evenings and weekends",
        "summary": "People who work shifts were missing their yearly foot check. We now run "
                   "evening and Saturday clinics, and fewer people miss out.",
        "kind": "service_change",
        "body": "## What we found\n\nThe National Diabetes Audit showed that **1 in 3** "
                "people with type 2 diabetes in our area missed their yearly foot check. "
                "Most worked shifts or looked after family in the day.\n\n## What changed"
                "\n\nFoot-check clinics now run two evenings a week and on Saturday "
                "mornings, and reminders go out by text in your language.",
        "what_changed": "Evening and Saturday foot-check clinics, and text reminders in "
                        "several languages.",
        "who_benefits": "People with diabetes who cannot come in the day, including many "
                        "South Asian and Black African and Caribbean people.",
        "datasets": ["National Diabetes Audit"],
        "services": ["Community diabetes service"],
        "topics": ["Diabetes", "Foot care"], "areas": ["North West London"],
        "community_tags": ["Shift workers", "South Asian families"],
        "evidence_links": [{"title": "National Diabetes Audit",
                            "url": "https://digital.nhs.uk/data-and-information/"
                                   "clinical-audits-and-registries/national-diabetes-audit"}],
        "purpose": "Clinical audit and service planning.",
        "legal_basis": "Clinical audit with support under section 251 of the NHS Act 2006.",
        "opt_out_applied": "yes",
    },
    {
        "organisation": "nhs-england-data", "days_ago": 30,
        "title": "Hospital data shows longer A&E waits for people with sickle cell across "
                 "England",
        "summary": "National hospital data shows people with sickle cell wait longer in A&E "
                   "than others with severe pain. We have shared this with every trust.",
        "kind": "research_result",
        "body": "## What we looked at\n\nHospital Episode Statistics for A&E attendances "
                "in England over three years.\n\n## What we found\n\nPeople with sickle "
                "cell in a pain crisis waited on average **25 minutes longer** to be seen "
                "than other people arriving with severe pain.\n\n## What happens next\n\n"
                "Every trust has its own figures, and we will publish them again next "
                "year so you can see if things improve.",
        "what_changed": "Every trust now gets its own sickle cell A&E figures each year.",
        "who_benefits": "People living with sickle cell across England.",
        "datasets": ["Hospital Episode Statistics (HES)"],
        "services": [],
        "topics": ["Sickle cell", "Emergency care"], "areas": ["England"],
        "community_tags": ["People living with sickle cell"],
        "evidence_links": [{"title": "Hospital Episode Statistics",
                            "url": "https://digital.nhs.uk/data-and-information/"
                                   "data-tools-and-services/data-services/"
                                   "hospital-episode-statistics"}],
        "purpose": "National analysis to reduce inequalities in emergency care.",
        "legal_basis": "Directions to NHS England under the Health and Social Care Act "
                       "2012.",
        "opt_out_applied": "no",
    },
    {
        "organisation": "midlands-health-research", "days_ago": 3, "publish": False,
        "title": "Draft: who is missing from diabetes research?",
        "summary": "A draft we are still checking with community partners.",
        "kind": "research_result",
        "body": "Draft text.",
        "datasets": ["National Diabetes Audit"], "services": [],
        "topics": ["Diabetes"], "areas": ["West Midlands"], "community_tags": [],
        "evidence_links": [], "purpose": "Research.", "legal_basis": "Consent.",
        "opt_out_applied": "not_applicable",
    },
]


def _by_name(model: type, names: list[str]) -> list[int]:
    found = {item.name: item.id for item in db.session.scalars(
        select(model).where(model.name.in_(names)))}
    return [found[name] for name in names if name in found]


def seed() -> int:
    """Add whichever demo updates are missing; returns how many were added."""
    created = 0
    member = db.session.scalar(select(User).where(
        User.email == "member@feedback-demo.example.org"))
    for spec in UPDATES:
        if db.session.scalar(select(Update.id).where(Update.title == spec["title"])):
            continue
        org = db.session.scalar(select(Organisation).where(
            Organisation.slug == spec["organisation"]))
        datasets = _by_name(Dataset, spec["datasets"])
        if org is None or not datasets:
            continue
        data = {key: spec[key] for key in (
            "title", "summary", "kind", "body", "topics", "areas", "community_tags",
            "evidence_links", "purpose", "legal_basis", "opt_out_applied")}
        if spec.get("revision"):
            data["evidence_links"] = spec["evidence_links"][:-1]
        data.update(what_changed=spec.get("what_changed", ""),
                    who_benefits=spec.get("who_benefits", ""), datasets=datasets,
                    services=_by_name(Service, spec["services"]),
                    content_checked_on=CHECKED, next_check_due=CHECKED + timedelta(days=365))
        update = services.create_update(None, org, data)
        created += 1
        if not spec.get("publish", True):
            continue
        services.publish_update(None, update,
                                when=utcnow() - timedelta(days=spec["days_ago"]))
        if spec.get("revision"):
            # The last evidence link was added in a later, public edit.
            services.update_update(None, update, {"evidence_links": spec["evidence_links"]},
                                   change_note=spec["revision"])
        if spec.get("question") and member is not None:
            asked, answer = spec["question"]
            question = Question(update_id=update.id, author_id=member.id, body=asked)
            db.session.add(question)
            db.session.flush()
            question.status = QuestionStatus.PUBLISHED
            question.moderated_at = utcnow()
            editor = next((m.user for m in org.memberships), None)
            if editor is not None:
                questions.answer_question(editor, question, answer)
            created += 1
    db.session.flush()
    return created
