"""Benchmark: characters sent to a translation provider, against the minimum.

Publishes N real updates (their saving queues the segments), runs the translation job
against a local LibreTranslate-compatible server that counts
calls and characters, over N updates in L languages; edits 10% of the updates and runs
the job again. Prints one line of JSON. The job should send exactly the minimum: every
unique untranslated segment once per language, and on the re-run only the edited
segments.

The minimum is computed here, independently of the application's splitter
(``feedback.translation.segments``), so a splitter that sends too much cannot agree with
itself. The rule:

1. Plain fields (an update's title and summary, an edit's change note, the
   organisation's and dataset's names) are one segment each: the text with surrounding
   white space removed.
2. A Markdown body is cut into blocks at blank lines. A block whose lines all start with
   "- " is a list: each item is a segment. A block starting with "#" is a heading: the
   text after the hashes is a segment. Any other block is a paragraph segment.
3. Body segments are what a provider's HTML mode must receive: "&", "<" and ">" escaped
   as entities, ``**x**`` as ``<strong>x</strong>`` and ``[t](u)`` as
   ``<a href="u">t</a>``. Nothing else (no block tags, no attributes but ``href``).
4. Segments are unique by their exact text across every field and update (the same
   sentence is translated once), and each is sent once per language.

Characters are Python string lengths (code points), as the providers bill them.

    .venv/bin/python bench/translation.py --updates 1000 --languages 8
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import create_app
from feedback.core.languages import DEFAULT_LANGUAGES
from feedback.extensions import db
from feedback.translation.tasks import translate_pending
from tests.translation.provider_servers import LibreTranslateHandler, serve

TOPICS = ["sickle cell pain relief", "maternity interpreter use", "diabetes foot checks",
          "talking therapies waiting times", "ethnicity recording at registration",
          "A&E waits for older people", "cancer screening uptake", "asthma in children"]
PLACES = ["Birmingham", "Bradford", "Brent", "Harrow", "Leicester", "Tower Hamlets"]
# Shared paragraphs, as real updates repeat them: translated once, not once per update.
BOILERPLATE = [
    "Your information was used under strict rules. Nobody outside the NHS saw your name.",
    "You can choose whether your data is used for research: see "
    "[the national data opt-out](https://www.nhs.uk/your-nhs-data-matters/).",
]


def make_update(number: int, rng: random.Random) -> dict[str, str]:
    topic, place = rng.choice(TOPICS), rng.choice(PLACES)
    return {
        "title": f"What we learned about {topic} in {place} (update {number})",
        "summary": f"We looked at {rng.randint(200, 9000):,} records about {topic}.",
        "body": (
            f"We studied **{topic}** for people in {place} between 2023 and 2025.\n\n"
            f"- {rng.randint(5, 95)}% of people were seen within the target time\n"
            f"- The gap between groups fell by {rng.randint(2, 30)} points\n\n"
            f"Read [the full report](https://example.org/reports/{number}).\n\n"
            + "\n\n".join(BOILERPLATE)),
    }


# The bench's own fixed texts that the application also translates (rule 1).
OTHER_TEXTS = ["Bench Trust", "Bench dataset"]
CHANGE_NOTE = "The report link was updated."


def _inline(text: str) -> str:
    """Rule 3: a Markdown block's text as the provider's HTML mode receives it."""
    text = html.escape(text.strip(), quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)


def markdown_segments(body: str) -> list[str]:
    """Rule 2."""
    found = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            found += [_inline(line[2:]) for line in lines]
        elif lines[0].startswith("#"):
            found.append(_inline(" ".join(lines).lstrip("#")))
        else:
            found.append(_inline(" ".join(lines)))
    return found


def segments_of(update: dict[str, str]) -> set[str]:
    """Rules 1 and 2 for one update's fields."""
    return {update["title"].strip(), update["summary"].strip(),
            *markdown_segments(update["body"])}


def per_language(requests: list[dict], targets: list) -> dict[str, dict[str, int]]:
    """Calls and characters the provider received, by target language. Languages sent
    under one provider code (pa-Guru and pa-Arab are both "pa") are reported together."""
    names: dict[str, list[str]] = {}
    for language in targets:
        names.setdefault(language.machine_code, []).append(language.code)
    found: dict[str, dict[str, int]] = {}
    for request in requests:
        body = request["body"]
        texts = body["q"] if isinstance(body["q"], list) else [body["q"]]
        key = "+".join(names.get(body["target"], [body["target"]]))
        entry = found.setdefault(key, {"calls": 0, "characters": 0})
        entry["calls"] += 1
        entry["characters"] += sum(len(text) for text in texts)
    return dict(sorted(found.items()))


def publish_updates(contents: list[dict[str, str]]) -> list:
    """Real updates through the updates services: saving them queues their segments."""
    from feedback.organisations import services as organisations
    from feedback.updates import services as updates

    trust = organisations.create_organisation(None, {"kind": "nhs", "name": "Bench Trust"})
    dataset = organisations.create_dataset(None, trust, {"name": "Bench dataset"})
    published = []
    for number, content in enumerate(contents):
        update = updates.create_update(None, trust, {
            **content, "kind": "finding", "datasets": [dataset.id],
            "opt_out_applied": "not_applicable"})
        updates.publish_update(None, update)
        published.append(update)
        if number % 100 == 99:
            db.session.commit()
    db.session.commit()
    return published


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--languages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    targets = [lang for lang in DEFAULT_LANGUAGES if lang.code != "en"][:args.languages]

    with tempfile.TemporaryDirectory() as folder, serve(LibreTranslateHandler,
                                                        key="bench") as server:
        registry = Path(folder) / "languages.toml"
        # Every chosen language goes to the LibreTranslate-compatible server here.
        registry.write_text("".join(
            f'[[language]]\ncode = "{lang.code}"\nname = "{lang.name}"\n'
            f'native_name = "{lang.native_name}"\ndirection = "{lang.direction}"\n'
            'provider = "libretranslate"\n\n' for lang in targets), encoding="utf-8")
        url = f"sqlite:///{folder}/bench.db"
        app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
                          "LANGUAGES_FILE": str(registry),
                          "LANGUAGES": ",".join(["en", *[lang.code for lang in targets]]),
                          "LIBRETRANSLATE_URL": server.url, "LIBRETRANSLATE_API_KEY": "bench",
                          "OUTBOX_DIR": f"{folder}/outbox"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            contents = [make_update(n, rng) for n in range(args.updates)]
            updates = publish_updates(contents)
            unique = set(OTHER_TEXTS).union(*(segments_of(u) for u in contents))
            started = time.perf_counter()
            translate_pending()
            first_seconds = time.perf_counter() - started
            first_calls, first_characters = server.counter.calls, server.counter.characters
            first_requests = len(server.counter.requests)
            minimum = sum(len(text) for text in unique) * len(targets)

            from feedback.updates import services as update_services

            edits = rng.sample(range(args.updates), k=args.updates // 10)
            for number in edits:
                contents[number]["body"] = contents[number]["body"].replace(
                    "Read [the full report]", "Read [the full report, updated]")
                update_services.update_update(None, updates[number],
                                              {"body": contents[number]["body"]},
                                              change_note=CHANGE_NOTE)
            db.session.commit()
            # The change note is new text only when some update was edited.
            notes = {CHANGE_NOTE} if edits else set()
            edited = set(OTHER_TEXTS).union(notes, *(segments_of(u) for u in contents))
            new = edited - unique
            started = time.perf_counter()
            translate_pending()
            rerun_seconds = time.perf_counter() - started
            db.engine.dispose()

        print(json.dumps({
            "updates": len(updates), "languages": len(targets),
            "unique_segments": len(unique),
            "calls": first_calls,
            "characters": first_characters,
            "minimum_characters": minimum,
            "rerun_calls": server.counter.calls - first_calls,
            "rerun_characters": server.counter.characters - first_characters,
            "rerun_minimum_characters": sum(len(text) for text in new) * len(targets),
            "per_language": per_language(server.counter.requests[:first_requests], targets),
            "rerun_per_language": per_language(server.counter.requests[first_requests:],
                                               targets),
            "seconds": round(first_seconds, 2), "rerun_seconds": round(rerun_seconds, 2),
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
