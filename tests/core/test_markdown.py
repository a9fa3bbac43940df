import pytest

from feedback.core.markdown import markdown_to_text, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://example.org></iframe>",
    '<svg onload="alert(1)"></svg>',
    '[x](JaVaScRiPt:alert(1))',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markup_never_survives(source):
    html = str(render_markdown(source)).lower()
    assert "<script" not in html
    assert "onerror" not in html and "onload" not in html
    assert "javascript:" not in html
    assert "<iframe" not in html and "<style" not in html and "style=" not in html


def test_ordinary_markdown_is_kept():
    html = str(render_markdown("Waiting times fell by **40%**. See [the report]"
                               "(https://example.org/report)."))
    assert "<strong>40%</strong>" in html
    assert 'href="https://example.org/report"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_plain_text_version_drops_tags():
    assert markdown_to_text("# Title\n\nSome *text*") == "Title\nSome text"
