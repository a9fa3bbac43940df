"""Demo content for a local site. The organisations are fictional; the themes come from
community research on sharing patient data (sickle cell care, maternity, diabetes,
mental health and ethnicity recording).

``seed()`` is idempotent: it adds only what is missing, keyed by slugs and emails.
"""

from __future__ import annotations

from sqlalchemy import select

from feedback.accountability import demo as accountability_demo
from feedback.accounts import services as accounts
from feedback.accounts.models import OrgRole, PlatformRole, User
from feedback.digests import demo as digests_demo
from feedback.extensions import db
from feedback.organisations import services as organisations
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.priorities import demo as priorities_demo
from feedback.translation import demo as translation_demo
from feedback.updates import demo as updates_demo

ORGANISATIONS = [
    {"slug": "riverside-hospitals", "kind": "nhs", "ods_code": "RXX1",
     "name": "Riverside University Hospitals NHS Foundation Trust", "area": "Birmingham",
     "website": "https://riverside.example.nhs.uk",
     "description": "Three hospitals serving Birmingham and Solihull, including a regional "
                    "sickle cell and thalassaemia centre."},
    {"slug": "northgate-community-health", "kind": "nhs", "ods_code": "RXX2",
     "name": "Northgate Community Health NHS Trust", "area": "North West London",
     "website": "https://northgate.example.nhs.uk",
     "description": "Community and mental health services, including talking therapies and "
                    "community diabetes care."},
    {"slug": "pennine-maternity", "kind": "nhs", "ods_code": "RXX3",
     "name": "Pennine Teaching Hospitals NHS Trust", "area": "Bradford",
     "website": "https://pennine.example.nhs.uk",
     "description": "Acute hospital trust with one of the busiest maternity units in the "
                    "north of England."},
    {"slug": "nhs-england-data", "kind": "nhs", "ods_code": "X26",
     "name": "NHS England (data services)", "area": "England",
     "website": "https://digital.nhs.uk",
     "description": "Custodian of national datasets such as Hospital Episode Statistics."},
    {"slug": "sickle-cell-support-network", "kind": "vcse",
     "name": "Sickle Cell Support Network", "area": "Birmingham",
     "website": "https://sicklecellnetwork.example.org",
     "description": "Peer support, advocacy and information for people living with sickle "
                    "cell and their families."},
    {"slug": "apna-health-forum", "kind": "vcse", "name": "Apna Health Forum",
     "area": "Bradford", "website": "https://apnahealth.example.org",
     "description": "A South Asian community health forum running groups in Urdu, Panjabi "
                    "and Bengali at mosques, gurdwaras and community centres."},
    {"slug": "harambee-womens-group", "kind": "vcse", "name": "Harambee Women's Group",
     "area": "North West London", "website": "https://harambee.example.org",
     "description": "A Black women's group offering maternity peer support in English, "
                    "Somali and Tigrinya."},
    {"slug": "midlands-health-research", "kind": "research",
     "name": "Midlands Health Research Partnership", "area": "West Midlands",
     "website": "https://mhrp.example.ac.uk",
     "description": "University and NHS researchers working on health inequalities."},
]

DATASETS = [
    ("nhs-england-data", {"name": "Hospital Episode Statistics (HES)",
                          "description": "Details of admissions, outpatient appointments "
                          "and A&E attendances at NHS hospitals in England.",
                          "link": "https://digital.nhs.uk/data-and-information/"
                                  "data-tools-and-services/data-services/"
                                  "hospital-episode-statistics"}),
    ("nhs-england-data", {"name": "National Diabetes Audit",
                          "description": "Care processes and outcomes for people with "
                          "diabetes, from GP practices and specialist services."}),
    ("riverside-hospitals", {"name": "Riverside patient record system",
                             "description": "Information from patient records at Riverside "
                             "hospitals: appointments, tests, treatments and ethnicity as "
                             "recorded at registration."}),
    ("riverside-hospitals", {"name": "Sickle cell emergency attendances",
                             "description": "Times from arrival to first pain relief for "
                             "people with sickle cell attending A&E."}),
    ("northgate-community-health", {"name": "Talking therapies activity data",
                                    "description": "Referrals, waiting times and recovery "
                                    "rates in NHS Talking Therapies."}),
    ("pennine-maternity", {"name": "Maternity Services Data Set (local extract)",
                           "description": "Information about pregnancy, birth and care "
                           "after birth, including interpreter use."}),
]

SERVICES = [
    ("riverside-hospitals", {"name": "Emergency department, Riverside General",
                             "area": "Birmingham",
                             "description": "24-hour A&E, with a fast-track for sickle "
                                            "cell pain crises."}),
    ("riverside-hospitals", {"name": "Haemoglobinopathy day unit", "area": "Birmingham",
                             "description": "Day care and transfusions for sickle cell and "
                                            "thalassaemia."}),
    ("northgate-community-health", {"name": "Talking therapies, Brent and Harrow",
                                    "area": "North West London",
                                    "description": "Free NHS talking therapies for anxiety "
                                                   "and depression, in several languages."}),
    ("northgate-community-health", {"name": "Community diabetes service",
                                    "area": "North West London",
                                    "description": "Diabetes education and foot care in "
                                                   "community clinics."}),
    ("pennine-maternity", {"name": "Maternity unit, Pennine Royal", "area": "Bradford",
                           "description": "Antenatal, birth and postnatal care."}),
]

# (email, display name, platform role, [(organisation slug, role)])
PEOPLE = [
    ("admin@feedback-demo.example.org", "Platform Admin", PlatformRole.ADMIN, []),
    ("moderator@feedback-demo.example.org", "Calm Heron 101", PlatformRole.MODERATOR, []),
    ("editor@riverside.example.org", "Riverside Data Team", PlatformRole.MEMBER,
     [("riverside-hospitals", OrgRole.EDITOR)]),
    ("admin@riverside.example.org", "Riverside Comms Lead", PlatformRole.MEMBER,
     [("riverside-hospitals", OrgRole.ADMIN)]),
    ("editor@northgate.example.org", "Northgate Insight Team",
     PlatformRole.MEMBER, [("northgate-community-health", OrgRole.ADMIN)]),
    ("editor@pennine.example.org", "Pennine Maternity Voices",
     PlatformRole.MEMBER, [("pennine-maternity", OrgRole.ADMIN)]),
    ("data@nhse.example.org", "National Data Team", PlatformRole.MEMBER,
     [("nhs-england-data", OrgRole.ADMIN)]),
    ("staff@sicklecell.example.org", "Sickle Cell Network Staff",
     PlatformRole.MEMBER, [("sickle-cell-support-network", OrgRole.ADMIN)]),
    ("staff@apna.example.org", "Apna Forum Coordinator", PlatformRole.MEMBER,
     [("apna-health-forum", OrgRole.ADMIN)]),
    ("staff@harambee.example.org", "Harambee Coordinator", PlatformRole.MEMBER,
     [("harambee-womens-group", OrgRole.ADMIN)]),
    ("researcher@mhrp.example.org", "MHRP Research Team", PlatformRole.MEMBER,
     [("midlands-health-research", OrgRole.EDITOR)]),
    ("member@feedback-demo.example.org", "Golden Baobab 214", PlatformRole.MEMBER, []),
    ("member2@feedback-demo.example.org", "Quiet Lotus 377", PlatformRole.MEMBER, []),
]


def seed() -> int:
    """Add whatever demo records are missing and return how many were added."""
    created = 0
    orgs: dict[str, Organisation] = {}
    for data in ORGANISATIONS:
        org = db.session.scalar(select(Organisation).where(Organisation.slug == data["slug"]))
        if org is None:
            org = organisations.create_organisation(None, {**data, "verified": True})
            created += 1
        orgs[data["slug"]] = org

    for slug, data in DATASETS:
        if db.session.scalar(select(Dataset).where(Dataset.name == data["name"])) is None:
            custodian = orgs["nhs-england-data"] if slug == "nhs-england-data" else orgs[slug]
            organisations.create_dataset(None, orgs[slug],
                                         {**data, "custodian_id": custodian.id})
            created += 1

    for slug, data in SERVICES:
        if db.session.scalar(select(Service).where(Service.name == data["name"])) is None:
            organisations.create_service(None, orgs[slug], data)
            created += 1

    for email, name, role, memberships in PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = accounts.create_user(email, role, name)
            created += 1
        for slug, org_role in memberships:
            if user.membership_of(orgs[slug].id) is None:
                accounts.add_member(None, orgs[slug], user, org_role)
    db.session.flush()
    created += priorities_demo.seed()
    created += updates_demo.seed()
    created += digests_demo.seed()
    created += accountability_demo.seed()
    created += translation_demo.seed()  # last: it translates all the demo content above
    return created
