"""Markdown survives translation: links, URLs, numbers and emphasis stay correct."""

from __future__ import annotations

from feedback.translation.segments import (
    Choice,
    Segment,
    assemble_markdown,
    check_translation,
    split,
)
from tests.translation.provider_servers import fake_translate

SOURCE = """## What changed

Pain relief now arrives within **30 minutes** for *most* people.
Read [the audit](https://example.org/audit?year=2025&page=2) or see https://nhs.uk.

- 1,250 attendances in 2025
- Waiting times fell by 12%

Like this:

    code stays as it is
"""


def test_markdown_is_cut_into_blocks_of_inline_html():
    segments = split(SOURCE, "markdown")
    assert [segment.format for segment in segments] == ["html"] * 5
    texts = [segment.text for segment in segments]
    assert texts[0] == "What changed"
    assert "<strong>30 minutes</strong>" in texts[1]
    assert '<a href="https://example.org/audit?year=2025&amp;page=2">the audit</a>' in texts[1]
    assert "rel=" not in texts[1]  # added back when shown, never sent
    assert texts[2:] == ["1,250 attendances in 2025", "Waiting times fell by 12%", "Like this:"]
    assert not any("code stays" in text for text in texts)  # code is never translated


def test_plain_fields_are_one_text_segment_and_empty_ones_none():
    assert split("  A title  ", "text") == [Segment("A title", "text")]
    assert split("", "markdown") == [] and split(None, "text") == []


def test_assembled_translation_keeps_structure_links_and_marks_each_block():
    html = assemble_markdown(
        SOURCE, lambda segment: Choice(fake_translate(segment.text, "ur"), "ur", "rtl"))
    assert '<h2 lang="ur" dir="rtl">[ur] What changed</h2>' in html
    assert '<a href="https://example.org/audit?year=2025&amp;page=2" rel="noopener' in html
    assert "<strong>30 minutes</strong>" in html and "<em>most</em>" in html
    assert '<li lang="ur" dir="rtl">[ur] 1,250 attendances in 2025</li>' in html
    assert "<pre><code>code stays as it is" in html


def test_blocks_without_a_translation_keep_the_source_and_say_so():
    html = assemble_markdown(SOURCE, lambda s: Choice(s.text, "en", "ltr", translated=False)
                             if "Waiting" in s.text else None)
    assert '<li lang="en" dir="ltr">Waiting times fell by 12%</li>' in html


def test_translated_html_is_sanitised():
    html = assemble_markdown("Hello", lambda s: Choice(
        '<img src=x onerror="alert(1)">Salaam <script>alert(1)</script>', "ur", "rtl"))
    assert "onerror" not in html and "<script" not in html and "Salaam" in html


def test_lost_links_numbers_or_emphasis_are_caught():
    source = Segment('Read <a href="https://x.org/a">this</a>: <em>12</em> wards', "html")
    assert check_translation(source, 'Lees <a href="https://x.org/a">dit</a>: <em>12</em>') == []
    # Eastern Arabic digits are the same number.
    assert check_translation(source, 'پڑھیں <a href="https://x.org/a">یہ</a> <em>١٢</em>') == []
    assert check_translation(source, 'Lees <a href="https://x.org/b">dit</a> <em>12</em>') == [
        "The links differ from the original."]
    assert check_translation(source, 'Lees <a href="https://x.org/a">dit</a> <em>13</em>') == [
        "The numbers differ from the original."]
    assert check_translation(source, 'Lees <a href="https://x.org/a">dit</a> 12') == [
        "The emphasis or formatting differs from the original."]
    assert check_translation(source, " ") == ["The translation is empty."]
