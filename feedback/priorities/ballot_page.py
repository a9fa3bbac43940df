"""The code ballot page, rendered once per worker for each language and each wording of
the round, for visitors who are not signed in.

The page is the busiest one in a national round, and rendering it (the layout, the
ballot's checkboxes) cost more CPU than the rest of the request. What it shows a visitor
who is not signed in depends only on the key the view builds (the language, the
address, the round's words and settings, the choices' labels as shown, each in the
language it is in), plus the visitor's CSRF token, which is put into the stored copy on
each request. A key holds the words themselves, so a new wording, a new shortlist or a
new translation makes a new key and is shown at once: nothing needs to be forgotten.

Not from here: a signed-in person's page (the header shows them), a page with a message
waiting to be shown (a flash), a page with errors (the view renders those), or while
developing (templates change under a running server).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import current_app, session
from flask_login import current_user

# Per worker: languages x rounds in voting at once. Emptied when full; old wordings'
# pages are never asked for again.
MOST_PAGES = 256
# Stands for the CSRF token in a stored page. Rendered pages never contain it: it is
# not something a template or a person's words can produce (NUL is refused in input).
STAND_IN = "\x00csrf-token\x00"
STORE = "feedback_ballot_pages"


def shared_page(key: Hashable, token: str | None, render: Callable[[], str]) -> str:
    """``render()``'s page for this visitor: stored under ``key`` the first time (with
    ``token``, the visitor's CSRF token, taken out), then the stored copy with this
    visitor's ``token`` put in. ``token`` is None when CSRF protection is off."""
    if (current_app.debug or "_flashes" in session
            or getattr(current_user, "is_authenticated", False)):
        return render()
    store: dict[Hashable, str] = current_app.extensions.setdefault(STORE, {})
    page = store.get(key)
    if page is not None:
        return page if token is None else page.replace(STAND_IN, token, 1)
    html = render()
    if STAND_IN not in html and (token is None or html.count(token) == 1):
        if len(store) >= MOST_PAGES:
            store.clear()
        store[key] = html if token is None else html.replace(token, STAND_IN)
    return html
