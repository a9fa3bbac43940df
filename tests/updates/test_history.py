"""An update's public history shows what each edit changed, field by field."""

from __future__ import annotations

from bs4 import BeautifulSoup

from feedback.extensions import db
from feedback.updates import services
from feedback.updates.history import Piece, list_diff, revision_history, word_diff


def test_word_diff_keeps_spaces_and_marks_only_the_changed_words():
    assert word_diff("Pain relief within 70 minutes.", "Pain relief within 30 minutes.") == [
        Piece("same", "Pain relief within "), Piece("removed", "70 "), Piece("added", "30 "),
        Piece("same", "minutes.")]
    assert word_diff("", "New text") == [Piece("added", "New text")]
    assert word_diff("Same", "Same") == [Piece("same", "Same")]


def test_list_diff_names_each_item_once():
    assert list_diff(["A&E", "Sickle cell"], ["Sickle cell", "Maternity"]) == [
        Piece("same", "Sickle cell"), Piece("removed", "A&E"), Piece("added", "Maternity")]


def test_each_revision_shows_the_fields_its_edit_changed(client, editor, make_update,
                                                         make_dataset, trust):
    update = make_update()
    second = make_dataset(trust, name="Maternity records")
    services.update_update(editor, update, {"summary": "Pain relief within 30 minutes."},
                           change_note="Newer figure")
    services.update_update(editor, update, {"datasets": [second.id], "topics": "Maternity"},
                           change_note="Right dataset")
    db.session.commit()

    newest, oldest = revision_history(services.get_update(update.id))
    assert newest.revision.change_note == "Right dataset"
    assert {change.name: change.pieces for change in newest.changes} == {
        "datasets": [Piece("removed", "Sickle cell emergency attendances"),
                     Piece("added", "Maternity records")],
        "topics": [Piece("removed", "Emergency care"), Piece("removed", "Sickle cell"),
                   Piece("added", "Maternity")]}
    assert [change.name for change in oldest.changes] == ["summary"]
    assert oldest.changes[0].pieces == [
        Piece("removed", "We looked at how long people with sickle cell waited for pain "
                         "relief. Now they get it "),
        Piece("added", "Pain relief "), Piece("same", "within 30 minutes.")]

    page = BeautifulSoup(client.get(f"/updates/{update.slug}").get_data(as_text=True),
                         "html.parser")
    blocks = page.find_all(attrs={"data-testid": "revision-changes"})
    assert len(blocks) == 2
    assert [dt.get_text() for dt in blocks[0].find_all("dt")] == ["Datasets used", "Topics"]
    assert blocks[0].find("del").get_text(" ", strip=True) == (
        "Removed: Sickle cell emergency attendances")
    assert blocks[0].find("ins").get_text(" ", strip=True) == "Added: Maternity records"
