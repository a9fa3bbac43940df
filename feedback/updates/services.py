"""Update operations, shared by the web pages, the JSON API, the CLI and the demo seed.

They check permissions and input, and only ``flush()``: the request, command or job
commits. Publishing sends no mail itself: it queues the followers' notifications in the
same transaction, and the delivery workers send them.

The code lives by sub-domain in ``queries``, ``validation``, ``follows`` and
``publishing``; this module re-exports their public names, so callers import from one
place.
"""

from __future__ import annotations

from feedback.updates.follows import (  # noqa: F401
    FOLLOW_MODELS,
    PUBLIC_STATUSES,
    follow,
    follow_target,
    follower_ids,
    is_following,
    list_follows,
    stop_following_everything,
    stop_following_token,
    stop_following_url,
    unfollow,
    user_from_stop_following_token,
)
from feedback.updates.publishing import (  # noqa: F401
    create_update,
    current_data,
    delete_draft,
    publish_update,
    snapshot,
    update_update,
    withdraw_update,
)
from feedback.updates.queries import (  # noqa: F401
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    TERM_FIELDS,
    TEXT_FIELDS,
    FeedEntry,
    UpdateFilters,
    UpdateLinks,
    UpdateLocked,
    UpdatePage,
    apply_filters,
    can_view_update,
    decode_cursor,
    encode_cursor,
    feed_entries,
    filter_menus,
    get_term,
    get_update,
    list_options,
    list_organisation_updates,
    list_published_updates,
    list_terms,
    rendered_body,
    search_updates,
    update_links,
    update_topics,
)
from feedback.updates.validation import (  # noqa: F401
    clean_update,
)
