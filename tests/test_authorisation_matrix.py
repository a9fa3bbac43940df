"""The authorisation matrix: every route that writes, in every blueprint, called by every
role, against data owned by organisation B (an NHS trust) and its VCSE partner. Each route
must let in exactly the roles listed below; everyone else is refused (403, 401, 404, or
sent to sign in) and the database is unchanged. A new writing route fails
``test_every_writing_route_is_classified`` until it is added here."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import g

from feedback.extensions import db
from feedback.priorities.identity import AGE_BANDS
from feedback.priorities.views import DESCRIBE_SESSION_KEY
from tests.conftest import login

ROLES = ("anonymous", "member", "other_editor", "other_partner", "moderator", "admin", "owner")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
NOBODY: frozenset[str] = frozenset()
EVERYONE = frozenset(ROLES)


def _allowed(*roles: str) -> frozenset[str]:
    assert set(roles) <= set(ROLES)
    return frozenset(roles)


OWNER = _allowed("owner")
OWNER_OR_ADMIN = _allowed("owner", "admin")
MODERATORS = _allowed("moderator", "admin")
ADMIN = _allowed("admin")

# rule -> (roles let in, how to build the URL from the objects of organisation B).
# "owner" is an admin of trust B and of its partner, and a reviewer of Urdu translations.
MATRIX: dict[str, tuple[frozenset[str], str]] = {
    # Anyone: asking for a sign-in link or a subscription, and links sent by email. The
    # tokens here are not valid: sign-in and invitation links refuse everyone, the
    # subscription links answer with a "this link has expired" page and change nothing.
    "/sign-in": (EVERYONE, "/sign-in"),
    "/sign-in/<token>": (NOBODY, "/sign-in/not-a-token"),
    "/subscribe": (EVERYONE, "/subscribe"),
    "/subscribe/confirm/<token>": (EVERYONE, "/subscribe/confirm/not-a-token"),
    "/subscriptions/manage/<token>": (EVERYONE, "/subscriptions/manage/not-a-token"),
    "/subscriptions/unsubscribe/<token>": (EVERYONE, "/subscriptions/unsubscribe/not-a-token"),
    "/s/<code>": (EVERYONE, "/s/aaaaaaaaaa"),  # a text message's short link
    "/following/stop/<token>": (EVERYONE, "/following/stop/not-a-token"),
    "/invitations/<token>": (NOBODY, "/invitations/not-a-token"),
    "/priorities/rounds/<slug>/vote/code": (EVERYONE, "/priorities/rounds/{round}/vote/code"),
    # One's own session, account and follows.
    "/sign-out": (EVERYONE, "/sign-out"),
    "/account": (SIGNED_IN, "/account"),
    "/account/delete": (SIGNED_IN, "/account/delete"),
    "/follow": (SIGNED_IN, "/follow"),
    "/priorities/<int:priority_id>/follow": (SIGNED_IN, "/priorities/{priority}/follow"),
    "/priorities/suggestions/<int:suggestion_id>/follow":
        (SIGNED_IN, "/priorities/suggestions/{suggestion}/follow"),
    # Taking part: any signed-in person.
    "/updates/<slug>/questions": (SIGNED_IN, "/updates/{update}/questions"),
    "/<any(question, answer):target>/<int:target_id>/report":
        (SIGNED_IN, "/question/{question}/report"),
    "/priorities/rounds/<slug>/vote": (SIGNED_IN, "/priorities/rounds/{round}/vote"),
    # Code voters are anonymous: it saves only for the ballot remembered in the session.
    "/priorities/rounds/<slug>/about-you": (EVERYONE, "/priorities/rounds/{round}/about-you"),
    "/priorities/rounds/<slug>/suggest": (SIGNED_IN, "/priorities/rounds/{open_round}/suggest"),
    # Platform admins.
    "/admin/organisations/new": (ADMIN, "/admin/organisations/new"),
    "/admin/organisations/<slug>/verification":
        (ADMIN, "/admin/organisations/{trust}/verification"),
    "/admin/users/role": (ADMIN, "/admin/users/role"),
    "/admin/deliveries/<int:edition_id>/<any(pause, resume):action>":
        (ADMIN, "/admin/deliveries/{edition}/pause"),
    # Moderators.
    # The trust that owns the update moderates questions and answers on it too.
    "/moderation/questions/<int:question_id>":
        (MODERATORS | OWNER, "/moderation/questions/{question}"),
    "/moderation/answers/<int:answer_id>": (MODERATORS | OWNER, "/moderation/answers/{answer}"),
    # The curated topic list is the platform moderators' alone.
    "/moderation/topics/<int:term_id>": (MODERATORS, "/moderation/topics/{topic}"),
    # Organisation B's own data: its editors and admins only.
    # Platform admins may edit an organisation's profile (to set it up).
    "/organisations/<slug>/edit": (OWNER_OR_ADMIN, "/organisations/{trust}/edit"),
    "/organisations/<slug>/members": (OWNER_OR_ADMIN, "/organisations/{trust}/members"),
    "/organisations/<slug>/members/<int:membership_id>/role":
        (OWNER_OR_ADMIN, "/organisations/{trust}/members/{membership}/role"),
    "/organisations/<slug>/members/<int:membership_id>/remove":
        (OWNER_OR_ADMIN, "/organisations/{trust}/members/{membership}/remove"),
    "/organisations/<slug>/datasets/new": (OWNER, "/organisations/{trust}/datasets/new"),
    "/datasets/<slug>/edit": (OWNER, "/datasets/{dataset}/edit"),
    "/datasets/<slug>/delete": (OWNER, "/datasets/{dataset}/delete"),
    "/organisations/<slug>/services/new": (OWNER, "/organisations/{trust}/services/new"),
    "/services/<slug>/edit": (OWNER, "/services/{service}/edit"),
    "/services/<slug>/delete": (OWNER, "/services/{service}/delete"),
    "/organisations/<slug>/updates/new": (OWNER, "/organisations/{trust}/updates/new"),
    "/updates/<slug>/edit": (OWNER, "/updates/{update}/edit"),
    "/updates/<slug>/publish": (OWNER, "/updates/{draft}/publish"),
    "/updates/<slug>/delete": (OWNER, "/updates/{draft}/delete"),
    "/updates/<slug>/withdraw": (OWNER, "/updates/{update}/withdraw"),
    "/questions/<int:question_id>/answer": (OWNER, "/questions/{question}/answer"),
    "/organisations/<slug>/translators": (OWNER_OR_ADMIN, "/organisations/{partner}/translators"),
    "/organisations/<slug>/translators/<int:grant_id>/revoke":
        (OWNER_OR_ADMIN, "/organisations/{partner}/translators/{grant}/revoke"),
    # Translators granted the language, and platform admins (who review every language).
    "/translation/review/<code>/<int:segment_id>":
        (OWNER_OR_ADMIN, "/translation/review/ur/{segment}"),
    # The partner's newsletter.
    "/partners/<slug>/newsletter": (OWNER, "/partners/{partner}/newsletter"),
    "/partners/<slug>/newsletter/contacts": (OWNER, "/partners/{partner}/newsletter/contacts"),
    "/partners/<slug>/newsletter/import": (OWNER, "/partners/{partner}/newsletter/import"),
    "/partners/<slug>/newsletter/prepare": (OWNER, "/partners/{partner}/newsletter/prepare"),
    # The partner's workspace: only its own staff see or change its audiences and contacts.
    "/partners/<slug>/audiences": (OWNER, "/partners/{partner}/audiences"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter": (
        OWNER, "/partners/{partner}/audiences/{audience}/newsletter"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/contacts": (
        OWNER, "/partners/{partner}/audiences/{audience}/newsletter/contacts"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/import": (
        OWNER, "/partners/{partner}/audiences/{audience}/newsletter/import"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/prepare": (
        OWNER, "/partners/{partner}/audiences/{audience}/newsletter/prepare"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/export": (
        OWNER, "/partners/{partner}/audiences/{audience}/contacts/export"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/remove": (
        OWNER, "/partners/{partner}/audiences/{audience}/contacts/{contact}/remove"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/move": (
        OWNER, "/partners/{partner}/audiences/{audience}/contacts/{mover}/move"),
    "/newsletter/editions/<int:edition_id>/test": (OWNER, "/newsletter/editions/{edition}/test"),
    "/newsletter/editions/<int:edition_id>/send": (OWNER, "/newsletter/editions/{edition}/send"),
    # The round run by trust B with its partner.
    "/priorities/rounds/new": (SIGNED_IN - {"member", "moderator", "admin"},
                               "/priorities/rounds/new"),
    # Staff of an organisation not running the round offer to help with paper ballots:
    # trust A and the other partner. The owner's organisations run it or are invited to
    # (they answer that instead); the platform's own roles have no organisation to offer.
    "/priorities/rounds/<slug>/help": (_allowed("other_editor", "other_partner"),
                                       "/priorities/rounds/{round}/help"),
    "/priorities/rounds/<slug>/edit": (OWNER, "/priorities/rounds/{round}/edit"),
    "/priorities/rounds/<slug>/phase": (OWNER, "/priorities/rounds/{round}/phase"),
    "/priorities/rounds/<slug>/priorities": (OWNER, "/priorities/rounds/{round}/priorities"),
    "/priorities/rounds/<slug>/shortlist": (OWNER, "/priorities/rounds/{round}/shortlist"),
    "/priorities/rounds/<slug>/codes": (OWNER, "/priorities/rounds/{round}/codes"),
    "/priorities/rounds/<slug>/paper": (OWNER, "/priorities/rounds/{round}/paper"),
    "/priorities/rounds/<slug>/on-behalf": (OWNER, "/priorities/rounds/{open_round}/on-behalf"),
    "/priorities/paper/<int:paper_id>/<action>": (OWNER, "/priorities/paper/{paper}/discard"),
    "/priorities/<int:priority_id>/edit": (OWNER, "/priorities/{priority}/edit"),
    "/priorities/<int:priority_id>/respond": (OWNER, "/priorities/{closed_priority}/respond"),
    # Only an admin of the invited organisation (the owner admins partner B) may answer.
    "/priorities/invitations/<int:invitation_id>/<any(accept, decline):decision>":
        (OWNER, "/priorities/invitations/{invitation}/accept"),
    "/priorities/suggestions/<int:suggestion_id>/merge":
        (OWNER, "/priorities/suggestions/{suggestion}/merge"),
    "/priorities/suggestions/<int:suggestion_id>/moderate":
        (OWNER, "/priorities/suggestions/{suggestion}/moderate"),
    # The API writes with organisation tokens, not sessions: "owner" sends trust B's token,
    # "other_editor" trust A's, everyone else no token at all.
    "/api/v1/updates": (_allowed("owner", "other_editor"), "/api/v1/updates"),
    "/api/v1/updates/<int:update_id>": (OWNER, "/api/v1/updates/{update}"),
    "/api/v1/updates/<int:update_id>/publish": (OWNER, "/api/v1/updates/{draft}/publish"),
    "/api/v1/updates/<int:update_id>/withdraw": (OWNER, "/api/v1/updates/{update}/withdraw"),
    # GOV.UK Notify's delivery receipts carry a shared secret, never a person's session.
    "/delivery/notify/receipts": (NOBODY, "/delivery/notify/receipts"),
    # and its received text messages (STOP) too.
    "/subscriptions/notify/inbound": (NOBODY, "/subscriptions/notify/inbound"),
}

WRITING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# What an allowed call must have done, by route class ------------------------------------
# Each writing route's class, checked on its first allowed call (and on every allowed call
# for routes where each person acts for themselves, ``each=True``):
# - Rows: it changed rows in these tables (a new row, an edit or a deletion);
# - Gone: a link whose token is not valid: 410, and nothing changed;
# - SessionEnds: the person is signed out;
# - Unchanged: by design nothing changes in this world (the reason is given).
# Routes whose fields differ from the generic FORM get their own in FORMS, and the world
# holds what their input refers to, so that every allowed call is a valid one.


class Effect:
    each = False

    def check(self, client, response, changed: set[str], what: str) -> None:
        raise NotImplementedError


class Rows(Effect):
    def __init__(self, *tables: str, each: bool = False):
        self.tables, self.each = set(tables), each

    def check(self, client, response, changed, what):
        assert response.status_code < 400, f"{what}: {response.status_code}"
        assert self.tables <= changed, f"{what} changed {sorted(changed)}, not {self.tables}"


class Gone(Effect):
    each = True

    def check(self, client, response, changed, what):
        assert response.status_code == 410 and not changed, f"{what}: {changed}"


class SessionEnds(Effect):
    each = True

    def check(self, client, response, changed, what):
        with client.session_transaction() as session:
            assert "_user_id" not in session, what


class Unchanged(Effect):
    def __init__(self, reason: str):
        self.reason = reason

    def check(self, client, response, changed, what):
        assert response.status_code < 400 and not changed, f"{what}: {changed}"


EFFECTS: dict[str, Effect] = {
    "/sign-in": Rows("sign_in_tokens", each=True),
    "/sign-in/<token>": Gone(), "/invitations/<token>": Gone(),
    "/subscribe": Rows("subscribers", "consent_records", each=True),
    "/subscribe/confirm/<token>": Gone(), "/subscriptions/manage/<token>": Gone(),
    "/subscriptions/unsubscribe/<token>": Gone(), "/following/stop/<token>": Gone(),
    # Each role has a code of its own: a new ballot, or one replacing the person's online one.
    "/priorities/rounds/<slug>/vote/code":
        Rows("priority_ballot_codes", "priority_ballots", each=True),
    "/sign-out": SessionEnds(),
    "/account": Rows("users", each=True),
    "/account/delete": Rows("users", "audit_events", each=True),
    "/follow": Rows("follows", each=True),
    "/priorities/<int:priority_id>/follow": Rows("priority_followers", each=True),
    # The first allowed person (the member) made the suggestion, so already follows it.
    "/priorities/suggestions/<int:suggestion_id>/follow":
        Unchanged("the suggester follows their suggestion already"),
    "/updates/<slug>/questions": Rows("update_questions", each=True),
    # Reports from three people hide the question, so later reporters find nothing.
    "/<any(question, answer):target>/<int:target_id>/report": Rows("update_reports"),
    "/priorities/rounds/<slug>/vote": Rows("priority_ballots"),
    # SESSIONS gives each person the code voter's ballot, as if they had just cast it.
    "/priorities/rounds/<slug>/about-you": Rows("priority_voter_descriptions"),
    "/priorities/rounds/<slug>/suggest":
        Rows("priority_suggestions", "priority_suggesters", each=True),
    "/admin/organisations/new": Rows("organisations", "audit_events"),
    "/admin/organisations/<slug>/verification": Rows("organisations", "audit_events"),
    "/admin/users/role": Rows("users"),
    "/admin/deliveries/<int:edition_id>/<any(pause, resume):action>": Rows("audit_events"),
    "/moderation/questions/<int:question_id>":
        Unchanged("the question was approved when the world was built"),
    "/moderation/answers/<int:answer_id>": Rows("update_answers", "audit_events"),
    "/moderation/topics/<int:term_id>": Rows("terms", "audit_events"),
    "/organisations/<slug>/edit": Rows("organisations", "audit_events"),
    "/organisations/<slug>/members": Rows("invitations", "audit_events"),
    "/organisations/<slug>/members/<int:membership_id>/role": Rows("memberships"),
    "/organisations/<slug>/members/<int:membership_id>/remove": Rows("memberships"),
    "/organisations/<slug>/datasets/new": Rows("datasets", "audit_events"),
    "/datasets/<slug>/edit": Rows("datasets", "audit_events"),
    "/datasets/<slug>/delete": Unchanged("an update names it, so it is kept with a message"),
    "/organisations/<slug>/services/new": Rows("services", "audit_events"),
    "/services/<slug>/edit": Rows("services", "audit_events"),
    "/services/<slug>/delete": Unchanged("an update names it, so it is kept with a message"),
    "/organisations/<slug>/updates/new": Rows("updates", "audit_events"),
    "/updates/<slug>/edit": Rows("updates", "audit_events"),
    "/updates/<slug>/publish": Rows("updates", "notifications", "audit_events"),
    # Goes last (it uses its object up): by then the draft has been published.
    "/updates/<slug>/delete": Unchanged("a published update is never deleted"),
    "/updates/<slug>/withdraw": Rows("updates", "audit_events"),
    "/questions/<int:question_id>/answer": Rows("update_answers", "audit_events"),
    "/organisations/<slug>/translators": Unchanged("the owner translates Urdu already"),
    "/organisations/<slug>/translators/<int:grant_id>/revoke": Rows("translator_grants"),
    "/translation/review/<code>/<int:segment_id>": Rows("translation_segments"),
    # The old single-newsletter addresses act on the partner's first audience.
    "/partners/<slug>/newsletter": Rows("audiences", "audit_events"),
    "/partners/<slug>/newsletter/contacts":
        Rows("subscribers", "consent_records", "audit_events"),
    "/partners/<slug>/newsletter/import": Rows("contact_imports", "audit_events"),
    "/partners/<slug>/newsletter/prepare": Unchanged("the next edition is prepared already"),
    "/partners/<slug>/audiences": Rows("audiences", "audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter": Rows("audiences", "audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/contacts":
        Rows("subscribers", "consent_records", "audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/import":
        Rows("contact_imports", "audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/prepare":
        Unchanged("the next edition is prepared already"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/export": Rows("audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/remove":
        Rows("subscribers", "audit_events"),
    "/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/move":
        Rows("subscribers", "consent_records", "audit_events"),
    "/newsletter/editions/<int:edition_id>/test": Rows("audit_events"),
    "/newsletter/editions/<int:edition_id>/send": Rows("editions", "deliveries"),
    "/priorities/rounds/new": Rows("priority_rounds", "audit_events", each=True),
    "/priorities/rounds/<slug>/help": Rows("priority_round_invitations", each=True),
    "/priorities/rounds/<slug>/edit": Rows("priority_rounds"),
    "/priorities/rounds/<slug>/phase": Rows("priority_rounds", "audit_events"),
    "/priorities/rounds/<slug>/priorities": Rows("priorities", "audit_events"),
    "/priorities/rounds/<slug>/shortlist": Rows("priority_shortlist_versions"),
    "/priorities/rounds/<slug>/codes": Rows("priority_ballot_codes", "audit_events"),
    "/priorities/rounds/<slug>/paper": Rows("priority_paper_ballots"),
    "/priorities/rounds/<slug>/on-behalf":
        Rows("priority_suggestions", "priority_suggesters", "audit_events"),
    "/priorities/paper/<int:paper_id>/<action>": Rows("priority_paper_ballots"),
    "/priorities/<int:priority_id>/edit": Rows("priorities", "audit_events"),
    # The member follows the priority, so an email to them is queued.
    "/priorities/<int:priority_id>/respond": Rows("priorities", "audit_events", "notifications"),
    "/priorities/invitations/<int:invitation_id>/<any(accept, decline):decision>":
        Rows("priority_round_invitations", "priority_round_organisations"),
    # The member's question merged into another's: its suggester and follower move across.
    "/priorities/suggestions/<int:suggestion_id>/merge": Rows(
        "priority_suggestions", "priority_suggesters", "priority_suggestion_followers",
        "audit_events"),
    "/priorities/suggestions/<int:suggestion_id>/moderate":
        Rows("priority_suggestions", "audit_events"),  # the waiting question is accepted
    # The API: created, edited or deleted, published, withdrawn.
    "/api/v1/updates": Rows("updates", "audit_events", each=True),
    "/api/v1/updates/<int:update_id>": Rows("updates"),
    "/api/v1/updates/<int:update_id>/publish": Rows("updates", "audit_events"),
    "/api/v1/updates/<int:update_id>/withdraw": Rows("updates", "audit_events"),
    "/delivery/notify/receipts": Unchanged("nobody is allowed"),
    "/subscriptions/notify/inbound": Unchanged("nobody is allowed: only Notify's token"),
    "/s/<code>": Gone(),  # no short link has this code
}


def _new_update(world, role: str) -> dict:
    from tests.updates.conftest import update_data

    class Ref:  # update_data wants objects with an id
        def __init__(self, id_):
            self.id = id_

    dataset_id = world["dataset_ids"].get(role, world["dataset_ids"]["owner"])
    return update_data(Ref(dataset_id), title=f"Made by {role}")


# Request bodies: the API's JSON, and forms whose fields differ from FORM.
API_BODIES = {
    ("/api/v1/updates", "POST"): _new_update,
    ("/api/v1/updates/<int:update_id>", "PATCH"):
        lambda world, role: {"title": "Changed title", "change_note": "Changed"},
    ("/api/v1/updates/<int:update_id>/withdraw", "POST"):
        lambda world, role: {"reason": "Changed"},
}

def _update_form(world, role: str) -> dict:
    return {"kind": "service_change", "opt_out_applied": "not_applicable", "topics": [],
            "datasets": [str(world["dataset_ids"]["owner"])], "change_note": "Changed"}


def _round_form(world, role: str) -> dict:
    person = world["people"].get(role)
    memberships = person.memberships if person is not None else []
    return {"organisation": str(memberships[0].organisation_id) if memberships else "",
            "title": f"Round by {role}", "scope": "What should research look at?",
            "topics": "pain", "area": "Leeds", "groups": ["patients"],
            "voting_method": "choose", "max_choices": "3", "phase": "voting"}


def _csv_upload(world, role: str) -> dict:
    return {"file": (io.BytesIO(b"email,name\nimported@example.org,Imported\n"), "list.csv"),
            "attested": "y", "basis": "They signed up on paper at the library"}


FORMS = {
    "/priorities/rounds/new": _round_form,
    "/priorities/rounds/<slug>/edit": _round_form,
    "/organisations/<slug>/updates/new": _update_form,
    "/updates/<slug>/edit": _update_form,
    "/priorities/rounds/<slug>/paper": lambda world, role: {
        "reference": "P-2", "location": "Library", "choices": world["priority_ids"][:1]},
    "/<any(question, answer):target>/<int:target_id>/report":
        lambda world, role: {"reason": "misleading"},
    "/translation/review/<code>/<int:segment_id>":
        lambda world, role: {f"s{world['ids']['segment']}-text": "ٹرسٹ بی (بدلا ہوا)",
                             "action": "approve"},
    "/priorities/rounds/<slug>/vote": lambda world, role: {"choices": world["priority_ids"][:1]},
    "/admin/users/role": lambda world, role: {"email": world["people"]["member"].email,
                                              "role": "moderator"},
    "/priorities/rounds/<slug>/shortlist":
        lambda world, role: {"priorities": world["priority_ids"][::-1]},
    "/priorities/rounds/<slug>/vote/code": lambda world, role: {
        "code": world["codes"][role], "choices": world["priority_ids"][:1]},
    "/priorities/rounds/<slug>/suggest": lambda world, role: {
        "question": f"What would help {role}s most?", "why_it_matters": "It matters"},
    "/priorities/rounds/<slug>/on-behalf": lambda world, role: {
        "question": "Can research find out why pain relief is slow?",
        "event": "Coffee morning, Handsworth community centre"},
    "/priorities/<int:priority_id>/respond": lambda world, role: {
        "status": "will_research", "text": "We will fund a study of this next year."},
    "/priorities/suggestions/<int:suggestion_id>/merge":
        lambda world, role: {"into": str(world["ids"]["kept_suggestion"])},
    "/priorities/suggestions/<int:suggestion_id>/moderate":
        lambda world, role: {"status": "published", "reason": ""},
    "/priorities/rounds/<slug>/about-you": lambda world, role: {
        "age_band": AGE_BANDS[0], "postcode_district": "B15", "group": "patients"},
    # FORM's name is taken: the audience made by "/partners/<slug>/audiences" has it.
    "/partners/<slug>/newsletter": lambda world, role: {"name": "B news, first audience"},
    "/partners/<slug>/audiences/<int:audience_id>/newsletter":
        lambda world, role: {"name": "B news, by its own address"},
    "/partners/<slug>/newsletter/import": _csv_upload,
    "/partners/<slug>/audiences/<int:audience_id>/newsletter/import": _csv_upload,
    # FORM's address is on the list already: the audience's own address added it.
    "/partners/<slug>/newsletter/contacts":
        lambda world, role: {"email": "first.audience@example.org"},
    "/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/move":
        lambda world, role: {"audience_id": str(world["ids"]["other_audience"])},
}


# What the session holds before the call, besides who is signed in: the ballot a voter has
# just cast, which the "about you" questions describe.
SESSIONS = {
    "/priorities/rounds/<slug>/about-you": lambda world, role: {
        DESCRIBE_SESSION_KEY: [world["round_id"], world["ids"]["code_ballot"]]},
}


def test_every_classified_route_has_an_effect():
    assert set(EFFECTS) == set(MATRIX)



def writing_rules(app) -> dict[str, set[str]]:
    """Each path that writes, with all its writing methods (one path can have several
    rules: the API's PATCH and DELETE on one update are two)."""
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) & WRITING_METHODS
        if methods:
            rules.setdefault(rule.rule, set()).update(methods)
    return rules


def test_every_writing_route_is_classified(app):
    rules = writing_rules(app)
    assert set(rules) - set(MATRIX) == set(), "classify new writing routes in MATRIX"
    assert set(MATRIX) - set(rules) == set(), "MATRIX lists routes that no longer exist"


# Organisation B's world ------------------------------------------------------------------

FORM = {
    "name": "Changed", "title": "Changed title", "description": "Changed by someone",
    "summary": "Changed summary", "body": "Changed body text for the question or answer",
    "email": "someone.new@example.org", "role": "admin", "kind": "nhs", "verified": "yes",
    "reason": "Changed", "status": "rejected", "approve": "yes", "decision": "approve",
    "text": "Changed translation", "choices": [], "target_type": "dataset", "target_id": "1",
    "language": "ur", "languages": ["ur"], "phase": "results", "size": "5", "reference": "P-1",
    "cadence": "weekly", "topics": "", "user_id": "1", "keep": "1", "confirm": "yes",
    "priority_ids": [], "csv_file": "", "response": "Changed", "delete": "yes",
}


@pytest.fixture(name="world")
def world_fixture(app, make_org, make_user, make_dataset, make_service):
    """One of each object, owned by trust B and its VCSE partner, and one person per role."""
    from feedback.accounts import services as accounts
    from feedback.api import tokens
    from feedback.digests import services as digests
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Phase, PriorityRound
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions import workspace
    from feedback.subscriptions.models import Subscriber
    from feedback.translation import services as translation
    from feedback.translation.models import SegmentOwner, SegmentStatus, TranslationSegment
    from feedback.updates import questions
    from feedback.updates import services as updates
    from tests.updates.conftest import update_data

    trust_a, other_partner_org = make_org(name="Trust A"), make_org(kind="vcse", name="Other VCSE")
    trust_b = make_org(name="Trust B", slug="trust-b")
    partner_b = make_org(kind="vcse", name="Partner of B", slug="partner-b")
    owner = make_user(org=trust_b, org_role="admin", name="Owner of B")
    accounts.add_member(None, partner_b, owner, "admin")
    colleague = make_user(org=trust_b, org_role="editor", name="Colleague in B")
    people = {
        "member": make_user(role="member"),
        "other_editor": make_user(org=trust_a, org_role="admin"),
        "other_partner": make_user(org=other_partner_org, org_role="admin"),
        "moderator": make_user(role="moderator"),
        "admin": make_user(role="admin"),
        "owner": owner,
    }
    dataset = make_dataset(trust_b, name="B records")
    dataset_a = make_dataset(trust_a, name="A records")
    service = make_service(trust_b, name="B clinic")
    update = updates.create_update(None, trust_b, update_data(dataset, service))
    updates.publish_update(None, update)
    draft = updates.create_update(None, trust_b, update_data(dataset, service, title="A draft"))
    updates.update_update(colleague, draft, {"topics": ["A suggested topic"]})
    topic = draft.suggested_topics[0]
    question = questions.ask_question(people["member"], update, "What about my records?")
    db.session.flush()
    # Started by an editor of B, so the partner's admin (the owner) has yet to accept.
    round_ = priorities.create_round(colleague, [trust_b, partner_b], {
        "title": "B round", "scope": "What should research using patient data look at?",
        "topics": "sickle cell", "area": "Birmingham", "groups": ["patients"]})
    priority = priorities.create_priority(owner, round_, {"title": "Priority one",
                                                          "description": "First"})
    second = priorities.create_priority(owner, round_, {"title": "Priority two",
                                                        "description": "Two"})
    round_.phase = Phase.SUGGESTIONS
    suggestion = priorities.suggest(people["member"], round_, {"question": "Pain relief in A&E?",
                                                               "why": "It hurts"})
    # The question the member's is merged into.
    kept = priorities.suggest(people["other_editor"], round_,
                              {"question": "Pain relief in A&E departments?"})
    priorities.publish_shortlist(owner, round_, [priority.id, second.id])
    round_.phase = Phase.VOTING
    db.session.flush()
    # One ballot code per role, each used by that role alone, and one already voted with.
    _batch, codes = priorities.create_code_batch(owner, round_, len(ROLES) + 1, "Matrix")
    code_ballot, _replaced = priorities.cast_code_ballot(round_, codes.pop(), [priority.id])
    # Trust B's other rounds: one taking suggestions, one whose voting has closed (its
    # priority, followed by the member, gets a response).
    open_round = priorities.create_round(owner, [trust_b], {
        "title": "B open round", "scope": "What should research on asthma look at?",
        "groups": ["patients"]})
    priorities.set_phase(owner, open_round, Phase.SUGGESTIONS)
    closed_round = priorities.create_round(owner, [trust_b], {
        "title": "B closed round", "scope": "What should research on diabetes look at?",
        "groups": ["patients"]})
    closed_priority = priorities.create_priority(owner, closed_round, {
        "title": "Priority closed", "description": "Voted on"})
    priorities.publish_shortlist(owner, closed_round, [closed_priority.id])
    priorities.set_phase(owner, closed_round, Phase.RESULTS)
    priorities.follow_priority(people["member"], closed_priority)
    paper = priorities.enter_paper_ballot(owner, round_, {
        "reference": "P-1", "location": "Library", "choices": [priority.id]})
    audience = subscriptions.save_partner_audience(owner, partner_b, {
        "name": "B news", "languages": ["en"]})
    edition = digests.prepare_next(owner, audience)
    subscriptions.add_contact(owner, audience, {"email": "contact@example.org", "name": "C",
                                                "attested": True, "basis": "Paper form"})
    contact = db.session.scalar(sa.select(Subscriber).where(
        Subscriber.email == "contact@example.org"))
    # A second audience, and a contact to move to it (the first is removed).
    other_audience = workspace.create_audience(owner, partner_b, "B news, Urdu")
    subscriptions.add_contact(owner, audience, {"email": "mover@example.org", "name": "M",
                                                "attested": True, "basis": "Paper form"})
    mover = db.session.scalar(sa.select(Subscriber).where(
        Subscriber.email == "mover@example.org"))
    grant = translation.grant_translator(owner, partner_b, owner, ["ur"])[0]
    db.session.commit()
    questions.moderate_question(people["moderator"], question, True)
    answer = questions.answer_question(colleague, question, "Here is our answer.")
    db.session.commit()
    segment = TranslationSegment(source_hash="0" * 64, source_language="en",
                                 target_language="ur", source_text="Trust B", text="ٹرسٹ بی",
                                 origin="libretranslate", status=SegmentStatus.NEEDS_REVIEW)
    # Partner B's content: its translators (the owner) review it, nobody else's do.
    db.session.add_all([segment, SegmentOwner(source_hash="0" * 64,
                                              organisation_id=partner_b.id)])
    db.session.commit()
    ids = {
        "trust": trust_b.slug, "partner": partner_b.slug, "dataset": dataset.slug,
        "service": service.slug, "update": update.slug, "draft": draft.slug,
        "question": question.id, "answer": answer.id, "round": round_.slug,
        "priority": priority.id, "suggestion": suggestion.id, "paper": paper.id,
        "edition": edition.id, "grant": grant.id, "segment": segment.id,
        "membership": colleague.memberships[0].id, "topic": topic.id,
        "invitation": priorities.round_invitations(round_)[0].id,
        "audience": audience.id, "contact": contact.id,
        "kept_suggestion": kept.id, "open_round": open_round.slug,
        "closed_priority": closed_priority.id, "other_audience": other_audience.id,
        "mover": mover.id, "code_ballot": code_ballot.id,
    }
    spare_draft = updates.create_update(None, trust_b, update_data(dataset, service,
                                                                  title="Spare draft"))
    db.session.flush()
    api_paths = {"update": update.id, "draft": draft.id, "spare_draft": spare_draft.id}
    secret_b, _ = tokens.create_token(None, trust_b, "matrix")
    secret_a, _ = tokens.create_token(None, trust_a, "matrix")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(PriorityRound.id))) == 3
    return {"people": people, "ids": ids, "api_ids": api_paths,
            "codes": dict(zip(ROLES, codes, strict=True)), "round_id": round_.id,
            "tokens": {"owner": secret_b, "other_editor": secret_a},
            "priority_ids": [priority.id, second.id],
            "dataset_ids": {"owner": dataset.id, "other_editor": dataset_a.id}}


def build_url(rule: str, world) -> str:
    template = MATRIX[rule][1]
    ids = world["api_ids"] if rule.startswith("/api/") else world["ids"]
    return template.format(**{**world["ids"], **ids})


def changed_tables(before: list, after: list) -> set[str]:
    return {name for (name, rows), (_name, rows_after) in zip(before, after, strict=True)
            if rows != rows_after}


def snapshot() -> list:
    """Every row of every table, to show a refused request changed nothing."""
    return [(table.name, sorted(map(repr, db.session.execute(sa.select(table)).all())))
            for table in db.metadata.sorted_tables]


def call(client, world, role: str, rule: str, method: str):
    g.pop("_login_user", None)
    with client.session_transaction() as session:
        session.clear()
    headers = {}
    if rule.startswith("/api/"):
        if role in world["tokens"]:
            headers["Authorization"] = f"Bearer {world['tokens'][role]}"
    elif role != "anonymous":
        login(client, world["people"][role])
    if rule in SESSIONS:
        with client.session_transaction() as session:
            session.update(SESSIONS[rule](world, role))
    url = build_url(rule, world)
    if (rule, method) == ("/api/v1/updates/<int:update_id>", "DELETE"):
        url = f"/api/v1/updates/{world['api_ids']['spare_draft']}"  # drafts can be deleted
    if rule.startswith("/api/"):
        body = API_BODIES.get((rule, method))
        return client.open(url, method=method, json=body(world, role) if body else {},
                           headers=headers)
    form = FORM | (FORMS[rule](world, role) if rule in FORMS else {})
    return client.open(url, method=method, data=form, headers=headers)


def refused(response) -> bool:
    if response.status_code in (401, 403, 404, 405):
        return True
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and "/sign-in?" in location


# Routes whose first allowed call uses the object up (deleted, removed, merged, signed
# out, a round moved on to its results, a question hidden by reports): the roles allowed
# after it may find nothing left to act on, and the routes that need the object as it was
# go first.
ONE_SHOT = ("/delete", "/remove", "/revoke", "/paper/", "/merge", "/sign-out", "/phase",
            "/report",
            "/moderation/answers/", "/moderation/topics/")


def one_shot(rule: str) -> bool:
    return any(part in rule for part in ONE_SHOT)


def check_route(client, world, rule: str, method: str) -> None:
    """Refused roles first, each leaving every table as it was; then the allowed roles."""
    allowed = MATRIX[rule][0]
    before = snapshot()
    for role in [r for r in ROLES if r not in allowed]:
        response = call(client, world, role, rule, method)
        db.session.rollback()
        assert refused(response), f"{role} got {response.status_code} for {method} {rule}"
        assert snapshot() == before, f"{role} was refused {method} {rule} but data changed"
    first = True
    for role in [r for r in ROLES if r in allowed]:
        before_call = snapshot()
        response = call(client, world, role, rule, method)
        db.session.rollback()
        if first or EFFECTS[rule].each:
            EFFECTS[rule].check(client, response, changed_tables(before_call, snapshot()),
                                f"{role} {method} {rule}")

        assert response.status_code < 500, f"{role}: {response.status_code} for {method} {rule}"
        if first or not one_shot(rule):
            assert not refused(response), \
                f"{role} was refused ({response.status_code}) {method} {rule}"
        first = False


def blueprint_of(app, rule: str) -> str:
    return next(r.endpoint.split(".")[0] for r in app.url_map.iter_rules() if r.rule == rule)


BLUEPRINTS = ["accounts", "admin", "api", "delivery", "digests", "organisations",
              "priorities", "subscriptions", "translation", "updates"]


def test_the_blueprint_list_is_complete(app):
    assert {blueprint_of(app, rule) for rule in writing_rules(app)} == set(BLUEPRINTS)


@pytest.mark.long
@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_each_writing_route_lets_in_exactly_the_allowed_roles(app, client, world, blueprint):
    """One world per blueprint (building it is the slow part); routes that use their
    object up go last."""
    rules = sorted((rule for rule in writing_rules(app) if blueprint_of(app, rule) == blueprint),
                   key=lambda rule: (one_shot(rule), rule))
    for rule in rules:
        for method in sorted(writing_rules(app)[rule]):
            check_route(client, world, rule, method)


def test_a_dataset_or_service_named_in_an_update_is_kept_with_a_message(app, client, world):
    """Found by the matrix on PostgreSQL: deleting them was a 500 (the foreign key is
    RESTRICT), and on SQLite, which does not enforce it, left updates pointing at nothing."""
    from feedback.organisations.models import Dataset, Service

    login(client, world["people"]["owner"])
    for kind, model in (("datasets", Dataset), ("services", Service)):
        slug = world["ids"][kind[:-1]]
        response = client.post(f"/{kind}/{slug}/delete", follow_redirects=True)
        assert response.status_code == 200
        assert "cannot be deleted" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(model).where(model.slug == slug)) is not None
