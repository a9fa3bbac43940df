"""url_maker: one address built with a stand-in, then each value put in."""

from __future__ import annotations

from flask import url_for

from feedback.core.urls import external_url, url_maker


def test_each_address_is_the_one_url_for_makes(app):
    values = ["a-slug", "with.dots_and~tilde", "Ünïcode", "a/b", "sp ace", "q?x=1", "%41"]
    with app.test_request_context("/"):
        for build in (url_for, external_url):
            make = url_maker(build, "updates.update", "slug")
            for value in values:
                assert make(value) == build("updates.update", slug=value), value
