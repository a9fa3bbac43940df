"""Ballot code entry is rate limited per client address, so codes cannot be guessed."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "BALLOT_CODE_RATE_LIMIT": "3 per minute"}


def test_code_entry_is_rate_limited(client, voting_round):
    url = f"/priorities/rounds/{voting_round.slug}/vote/code"
    statuses = [client.post(url, data={"code": f"AAAA-BBBB-CCC{n}", "choices": []}).status_code
                for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert "You have tried this too many times" in client.post(
        url, data={"code": "x"}).get_data(as_text=True)
    assert client.get(url).status_code == 200  # reading the form is not limited
