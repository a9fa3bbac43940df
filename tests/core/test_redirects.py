"""Every ``next`` the app honours stays on this site, whatever characters it holds
(issue 13, item 4: ``/%09/host`` left the site and a newline gave a 500)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from feedback.core.redirects import safe_next

# Where a `next` may lead is decided before any database is read: CI runs it once.
pytestmark = pytest.mark.once

HOSTILE = [
    "//evil.example/",
    "/\t/evil.example:8080/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "\t//evil.example/",
    " //evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\u2028/evil.example/",
    "/\x00/evil.example/",
    "https://evil.example/",
    "http:/evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/ok\nSet-Cookie: a=b",
    "/" + "a" * 400,
]


def _stays_here(location: str) -> bool:
    """A path on this site, with nothing a browser would drop or read as a host."""
    parts = urlsplit(location)
    return (parts.netloc in ("", "localhost") and location.isprintable()
            and "\\" not in location and not parts.path.startswith("//"))


@pytest.mark.parametrize("target", HOSTILE)
def test_the_helper_refuses_anything_but_a_local_path(target):
    result = safe_next(target, "/fallback")
    assert result == "/fallback" or (_stays_here(result) and result.isprintable()
                                     and urlsplit(result).netloc == "")


@pytest.mark.parametrize("target", ["/updates", "/updates?topic=sickle-cell#list",
                                    "/priorities/rounds/a-round"])
def test_the_helper_keeps_local_paths(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_picker_never_redirects_off_site(client, target):
    response = client.get(f"/language?code=en&next={quote(target, safe='')}")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert _stays_here(response.headers["Location"])


@pytest.mark.parametrize("target", HOSTILE)
def test_a_sign_in_link_never_leads_off_site(client, outbox, target):
    assert client.get(f"/sign-in?next={quote(target, safe='')}").status_code in (200, 400)
    response = client.post("/sign-in", data={"email": "amina@example.org", "next": target})
    if response.status_code == 400:  # control characters refused before anything is kept
        return
    assert response.status_code == 302
    token = next(link for link in outbox.links() if "/sign-in/" in link).rsplit("/", 1)[-1]
    response = client.post(f"/sign-in/{token}")
    assert response.status_code == 302
    assert _stays_here(response.headers["Location"])


@pytest.mark.parametrize("target", HOSTILE)
def test_following_never_redirects_off_site(login_as, make_user, make_org, make_dataset,
                                            target):
    dataset = make_dataset(make_org())
    client = login_as(make_user())
    response = client.post("/follow", data={"target_type": "dataset",
                                            "target_id": str(dataset.id), "next": target})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert _stays_here(response.headers["Location"])


def test_a_local_next_is_still_followed_after_sign_in(client, outbox):
    client.post("/sign-in", data={"email": "kofi@example.org", "next": "/updates?page=2"})
    token = next(link for link in outbox.links() if "/sign-in/" in link).rsplit("/", 1)[-1]
    response = client.post(f"/sign-in/{token}")
    assert response.headers["Location"] == "/updates?page=2"
