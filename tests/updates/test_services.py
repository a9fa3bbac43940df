"""Update services: drafting, publishing, revisions, withdrawal, filters and search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedback.accounts.permissions import PermissionDenied
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.updates import services
from feedback.updates.models import UpdateStatus
from feedback.updates.services import UpdateFilters, UpdateLocked
from tests.updates.conftest import update_data


def test_an_editor_drafts_and_publishes_an_update(editor, trust, dataset, service):
    update = services.create_update(editor, trust, update_data(dataset, service))
    db.session.commit()
    assert update.status == UpdateStatus.DRAFT and update.published_at is None
    assert update.slug == "faster-pain-relief-for-sickle-cell-crises-in-a-e"
    assert [d.name for d in update.datasets] == ["Sickle cell emergency attendances"]
    # Topics new to the list wait for a moderator (see test_topics.py).
    assert [t.name for t in update.suggested_topics] == ["Emergency care", "Sickle cell"]
    assert update.topics == []
    assert [t.slug for t in update.areas] == ["birmingham"]
    assert [t.name for t in update.community_tags] == ["Black Caribbean families"]
    assert update.evidence_links[0].url == "https://example.org/audit"
    assert services.list_published_updates().items == []

    services.publish_update(editor, update)
    db.session.commit()
    assert update.status == UpdateStatus.PUBLISHED and update.published_at is not None
    assert services.list_published_updates().items == [update]


def test_another_organisations_editor_is_refused(make_org, make_user, make_update):
    other = make_org(name="Other Trust")
    outsider = make_user(org=other, org_role="admin")
    update = make_update()
    with pytest.raises(PermissionDenied):
        services.update_update(outsider, update, {"title": "Hijacked"}, "x")
    with pytest.raises(PermissionDenied):
        services.withdraw_update(outsider, update, "no")
    with pytest.raises(PermissionDenied):
        services.create_update(outsider, update.organisation, update_data(update.datasets[0]))


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": ""}, "title"),
    ({"summary": "x" * 301}, "summary"),
    ({"body": "x" * 50_001}, "body"),
    ({"kind": "rumour"}, "kind"),
    ({"opt_out_applied": "maybe"}, "opt_out_applied"),
    ({"datasets": []}, "datasets"),
    ({"datasets": [999_999]}, "datasets"),
    ({"services": ["no-such-service"]}, "services"),
    ({"evidence_links": [{"url": "javascript:alert(1)"}]}, "evidence_links"),
    ({"content_checked_on": "2027-02-30"}, "content_checked_on"),
    ({"content_checked_on": "2027-03-01", "next_check_due": "2027-01-01"}, "next_check_due"),
    ({"topics": ["x" * 81]}, "topics"),
])
def test_bad_input_is_rejected_with_a_message(editor, trust, dataset, overrides, field):
    with pytest.raises(ValidationError) as error:
        services.create_update(editor, trust, update_data(dataset, **overrides))
    assert error.value.field == field
    assert error.value.message


def test_a_body_over_50000_characters_is_rejected_not_cut(editor, trust, dataset):
    with pytest.raises(ValidationError, match="50,000 characters or fewer"):
        services.create_update(editor, trust, update_data(dataset, body="a" * 50_001))
    update = services.create_update(editor, trust, update_data(dataset, body="a" * 50_000))
    assert len(update.body) == 50_000


def test_edits_after_publishing_need_a_note_and_are_kept(editor, make_update):
    update = make_update()
    with pytest.raises(ValidationError) as error:
        services.update_update(editor, update, {"title": "A better title"})
    assert error.value.field == "change_note"
    db.session.rollback()

    services.update_update(editor, update, {"title": "A better title"},
                           change_note="Clearer title")
    db.session.commit()
    assert update.title == "A better title"
    assert update.slug == "faster-pain-relief-for-sickle-cell-crises-in-a-e"  # links last
    [revision] = update.revisions
    assert revision.number == 1 and revision.change_note == "Clearer title"
    assert revision.previous["title"] == "Faster pain relief for sickle cell crises in A&E"


def test_drafts_are_edited_without_revisions(editor, make_update):
    update = make_update(publish=False)
    services.update_update(editor, update, {"summary": "Shorter."})
    db.session.commit()
    assert update.summary == "Shorter." and update.revisions == []


def test_withdrawing_needs_a_reason_and_then_editing_is_refused(editor, make_update):
    update = make_update()
    with pytest.raises(ValidationError):
        services.withdraw_update(editor, update, "  ")
    services.withdraw_update(editor, update, "The figures were wrong.")
    db.session.commit()
    assert update.status == UpdateStatus.WITHDRAWN and update.withdrawn_at is not None
    with pytest.raises(UpdateLocked, match=r"The figures were wrong\."):
        services.update_update(editor, update, {"title": "x"}, "x")
    with pytest.raises(UpdateLocked):
        services.publish_update(editor, update)
    assert services.list_published_updates().items == []


def test_filters_narrow_the_list_and_unknown_values_match_nothing(
        make_org, make_dataset, make_update, dataset, service):
    other_org = make_org(name="Pennine Maternity", slug="pennine")
    maternity_data = make_dataset(other_org, name="Maternity data")
    sickle = make_update()
    maternity = make_update(org=other_org, datasets=[maternity_data], services=[],
                            title="Interpreters at antenatal appointments",
                            kind="finding", topics=["Maternity"], areas=["Bradford"],
                            community_tags=["Urdu speakers"])

    def titles(**args):
        return [u.title for u in services.list_published_updates(
            UpdateFilters.from_args(args)).items]

    assert titles() == [maternity.title, sickle.title]
    assert titles(organisation="pennine") == [maternity.title]
    assert titles(dataset=dataset.slug) == [sickle.title]
    assert titles(service=service.slug) == [sickle.title]
    assert titles(topic="maternity") == [maternity.title]
    assert titles(area="birmingham") == [sickle.title]
    assert titles(community="urdu-speakers") == [maternity.title]
    assert titles(kind="finding") == [maternity.title]
    assert titles(topic="maternity", area="birmingham") == []
    assert titles(organisation="no-such-org") == []
    with pytest.raises(ValidationError):
        UpdateFilters.from_args({"kind": "rumour"})


def test_search_finds_words_anywhere_and_ignores_query_syntax(make_update):
    sickle = make_update()
    other = make_update(title="Diabetes foot checks", summary="More foot checks.",
                        body="Community clinics.", what_changed="", who_benefits="",
                        topics=[])
    assert services.search_updates("sickle").items == [sickle]
    assert services.search_updates("PAIN relief").items == [sickle]
    assert services.search_updates("foot clinics").items == [other]
    assert services.search_updates("crises").items == [sickle]  # stemmed
    assert services.search_updates('"unbalanced OR NEAR( *').items == []
    assert services.search_updates("hour").items == [sickle]  # body text
    # A later edit is searchable straight away.
    services.update_update(None, other, {"body": "Now with podiatry."}, "Added podiatry")
    db.session.commit()
    assert services.search_updates("podiatry").items == [other]


def test_keyset_pages_walk_every_update_once(make_update):
    created = [make_update(title=f"Update number {n}") for n in range(5)]
    base = utcnow() - timedelta(days=1)
    for index, update in enumerate(created):  # two share a timestamp, to test the tie
        update.published_at = base + timedelta(minutes=min(index, 3))
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = services.list_published_updates(cursor=cursor, per_page=2)
        seen += [u.title for u in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert seen == [u.title for u in sorted(created, key=lambda u: (u.published_at, u.id),
                                            reverse=True)]
    with pytest.raises(ValidationError):
        services.list_published_updates(cursor="not-a-cursor")


def test_saving_the_same_content_again_makes_no_revision(editor, make_update):
    update = make_update(topics=["Zebra crossings", "Apples"])
    services.update_update(editor, update, {"topics": ["Apples", "Zebra crossings"]},
                           change_note="Nothing really")
    db.session.commit()
    assert update.revisions == []


@pytest.mark.parametrize("window", [3, 1000])
@pytest.mark.parametrize("filters", [{"topic": "maternity"}, {"q": "maternity"},
                                     {"q": "maternity", "topic": "maternity"}])
@pytest.mark.parametrize("newest_first_by_id", [False, True])
def test_a_filtered_list_is_the_same_whether_the_newest_updates_hold_a_page_or_not(
        make_update, monkeypatch, window, filters, newest_first_by_id):
    """A list narrowed by a term or a search looks among the newest RECENT_WINDOW updates
    first (for a search, their lowest and highest ids narrow the full-text index), and
    through them all when fewer match there: the pages are the same either way, ties and
    all, whichever way the ids run, and the updates in between are never shown."""
    from feedback.updates import queries

    monkeypatch.setattr(queries, "RECENT_WINDOW", window)
    made = [make_update(title=f"Update number {n}",
                        summary="Maternity care." if n % 3 else "Pain relief.",
                        topics=["Maternity"] if n % 3 else ["Pain"]) for n in range(9)]
    base = utcnow() - timedelta(days=1)
    step = -1 if newest_first_by_id else 1
    for index, update in enumerate(made):  # two share a timestamp, to test the tie
        update.published_at = base + step * timedelta(minutes=min(index, 7))
    db.session.commit()
    expected = [u.title for u in sorted(made, key=lambda u: (u.published_at, u.id),
                                        reverse=True) if u.topics[0].name == "Maternity"]
    for per_page in (1, 2, 5, 10):
        seen, cursor = [], None
        while True:
            page = services.list_published_updates(UpdateFilters(**filters),
                                                   cursor=cursor, per_page=per_page)
            seen += [u.title for u in page.items]
            if not page.has_next:
                break
            cursor = page.next_cursor
        assert seen == expected, per_page


def test_update_links_read_as_rows_match_the_update_s_own_relationships(
        make_update, make_dataset, make_service, trust, dataset, service):
    extra_service = make_service(trust, name="Z last service")
    first = make_update(
        datasets=[dataset, make_dataset(trust, name="A first dataset")],
        services=[service.id, extra_service.id],
        topics=["Sickle cell", "Emergency care", "Anaemia"], areas=["Leeds", "Birmingham"],
        community_tags=["Carers", "Black Caribbean families"],
        evidence_links=[{"title": "Zeta report", "url": "https://example.org/z"},
                        {"title": "", "url": "https://example.org/untitled"},
                        {"title": "Audit", "url": "https://example.org/audit"}])
    next(term for term in first.terms if term.name == "Anaemia").approved = False
    second = make_update(title="Another update", topics=[], areas=[], community_tags=[],
                         evidence_links=[], services=[])
    db.session.commit()
    db.session.expire_all()

    links = services.update_links([first.id, second.id])

    def shown(found: services.UpdateLinks) -> dict:
        return {"datasets": [(d.slug, d.name) for d in found.datasets],
                "services": [(s.slug, s.name) for s in found.services],
                **{part: [t.name for t in getattr(found, part)]
                   for part in ("topics", "areas", "community_tags")},
                "evidence_links": [(link.title, link.url) for link in found.evidence_links]}

    for update in (first, second):
        assert shown(links[update.id]) == shown(services.UpdateLinks.of(
            services.get_update(update.id)))
    assert shown(links[first.id])["topics"] == ["Emergency care", "Sickle cell"]
    assert [url for _title, url in shown(links[first.id])["evidence_links"]] == [
        "https://example.org/z", "https://example.org/untitled", "https://example.org/audit"]
    assert len(shown(links[first.id])["datasets"]) == 2
    assert shown(links[second.id])["services"] == []
    assert services.update_links([]) == {}


def test_update_topics_are_the_approved_topics_by_name_as_plain_rows(make_update):
    first = make_update(topics=["Sickle cell", "Emergency care", "Anaemia"])
    next(term for term in first.terms if term.name == "Anaemia").approved = False
    second = make_update(title="Another update", topics=[])
    db.session.commit()

    topics = services.update_topics([first.id, second.id])

    assert topics == {first.id: [(term.slug, term.name) for term in first.topics],
                      second.id: []}
    assert [name for _slug, name in topics[first.id]] == ["Emergency care", "Sickle cell"]
    assert services.update_topics([]) == {}
    page = services.list_published_updates()
    assert page.topics == {update.id: topics[update.id] for update in page.items}
    assert page.topic_names == ["Emergency care", "Sickle cell"]
    assert services.list_published_updates(topics=False).topics is None
