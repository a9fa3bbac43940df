"""Ids typed into organiser forms beyond the database's range are refused with a 4xx,
never a 500 (issue 13, item 11)."""

from __future__ import annotations

import pytest

from feedback.extensions import db
from feedback.priorities import services

TOO_BIG = [str(2**31), str(2**63), "9" * 40]


@pytest.mark.parametrize("number", TOO_BIG)
def test_organiser_forms_refuse_ids_out_of_range(client, sign_in_as, make_round, make_user,
                                                 organiser, number):
    round_ = make_round("suggestions")
    suggestion = services.suggest(make_user(), round_, {"question": "Why is pain relief "
                                                                    "slow in A&E?"})
    db.session.commit()
    sign_in_as(organiser)
    merge = client.post(f"/priorities/suggestions/{suggestion.id}/merge",
                        data={"into": number})
    assert merge.status_code in (400, 404)
    added = client.post(f"/priorities/rounds/{round_.slug}/priorities",
                        data={"title": "A new priority", "description": "Plain words",
                              "suggestions": [number]})
    assert added.status_code < 500
    shortlist = client.post(f"/priorities/rounds/{round_.slug}/shortlist",
                            data={"priorities": [number], "note": ""})
    assert shortlist.status_code < 500
