"""Imports every domain's models, so Alembic and the tests see the whole schema."""

from feedback.accounts.models import Invitation, Membership, SignInToken, User
from feedback.api.models import ApiToken
from feedback.audit.models import AuditEvent
from feedback.digests.models import Delivery, Edition, EditionVersion
from feedback.metrics.models import SchedulerRun
from feedback.notifications.models import Notification
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.priorities.models import (
    Ballot,
    BallotChoice,
    BallotCode,
    BallotCodeBatch,
    PaperBallot,
    Priority,
    PriorityFollower,
    PriorityRound,
    ShortlistEntry,
    ShortlistVersion,
    Suggester,
    Suggestion,
    SuggestionFollower,
    VoterDescription,
)
from feedback.subscriptions.models import (
    Audience,
    Confirmation,
    ConsentRecord,
    Subscriber,
    Suppression,
)
from feedback.translation.models import ProviderUsage, TranslationSegment, TranslatorGrant
from feedback.updates.models import (
    Answer,
    EvidenceLink,
    Follow,
    Question,
    Report,
    Term,
    Update,
    UpdateRevision,
)

__all__ = [
    "Answer",
    "ApiToken",
    "Audience",
    "AuditEvent",
    "Ballot",
    "BallotChoice",
    "BallotCode",
    "BallotCodeBatch",
    "Confirmation",
    "ConsentRecord",
    "Dataset",
    "Delivery",
    "Edition",
    "EditionVersion",
    "EvidenceLink",
    "Follow",
    "Invitation",
    "Membership",
    "Notification",
    "Organisation",
    "PaperBallot",
    "Priority",
    "PriorityFollower",
    "PriorityRound",
    "ProviderUsage",
    "Question",
    "Report",
    "SchedulerRun",
    "Service",
    "ShortlistEntry",
    "ShortlistVersion",
    "SignInToken",
    "Subscriber",
    "Suggester",
    "Suggestion",
    "SuggestionFollower",
    "Suppression",
    "Term",
    "TranslationSegment",
    "TranslatorGrant",
    "Update",
    "UpdateRevision",
    "User",
    "VoterDescription",
]
