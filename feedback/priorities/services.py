"""Priority rounds: the rules for suggestions, shortlists, ballots, results and
responses, shared by the web pages, the API, the job and the demo seed.

Functions here only ``flush()``; the request, job or command commits once.

The code lives by sub-domain in ``rounds``, ``suggestions``, ``voting`` and
``responses`` (with ``common`` for what they share); this module re-exports their public
names, so callers import from one place.
"""

from __future__ import annotations

from feedback.priorities.common import (  # noqa: F401
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_UNKNOWN_MESSAGE,
    CODE_USED_MESSAGE,
    MAX_BATCH,
    RESULTS_CACHE_KEY,
    format_code,
    hash_code,
    normalise_code,
    voter_key,
)
from feedback.priorities.responses import (  # noqa: F401
    follower_ids,
    linkable_priority,
    priority_choices,
    publish_response,
    updates_that_followed,
)
from feedback.priorities.rounds import (  # noqa: F401
    all_suggestions,
    ask_to_help,
    ballot_round,
    can_enter_papers,
    can_organise,
    create_round,
    current_shortlist,
    decide_help,
    decide_invitation,
    due_phase,
    forget_results,
    get_priority,
    get_round,
    get_shortlist_version,
    help_candidates,
    help_organisations,
    help_requests,
    help_round_is_open,
    helper_organisations,
    invite_organisation,
    list_priorities,
    list_rounds,
    pending_invitations,
    public_suggestions,
    require_organiser,
    require_paper_entry,
    round_invitations,
    set_phase,
    shortlist_versions,
    update_round,
)
from feedback.priorities.suggestions import (  # noqa: F401
    create_priority,
    follow_priority,
    follow_suggestion,
    is_following,
    merge_suggestions,
    moderate,
    publish_shortlist,
    shortlisted_in,
    suggest,
    suggest_on_behalf,
    unfollow_priority,
    update_priority,
)
from feedback.priorities.voting import (  # noqa: F401
    cast_code_ballot,
    cast_online_ballot,
    check_voting_open,
    clean_choices,
    clear_second_entry,
    code_ballot_is_one_statement,
    code_batches,
    create_code_batch,
    discard_paper_ballot,
    enter_paper_ballot,
    paper_ballots,
    save_description,
)
