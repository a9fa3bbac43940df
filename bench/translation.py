"""Benchmark: characters sent to a translation provider, against the minimum.

Publishes N real updates (their saving queues the segments), runs the translation job
against a local LibreTranslate-compatible server that counts
calls and characters, over N updates in L languages; edits 10% of the updates and runs
the job again. Prints JSON. The job should send exactly the minimum: every unique
untranslated segment once per language, and on the re-run only the edited segments.

    .venv/bin/python bench/translation.py --updates 1000 --languages 8
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import create_app
from feedback.core.languages import DEFAULT_LANGUAGES
from feedback.extensions import db
from feedback.translation.segments import split
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


def segments_of(update: dict[str, str]):
    return (split(update["title"], "text") + split(update["summary"], "text")
            + split(update["body"], "markdown"))


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
            unique = {s.hash: s for u in contents for s in segments_of(u)}
            started = time.perf_counter()
            translate_pending()
            first_seconds = time.perf_counter() - started
            first_calls, first_characters = server.counter.calls, server.counter.characters
            minimum = sum(len(s.text) for s in unique.values()) * len(targets)

            from feedback.updates import services as update_services

            for number in rng.sample(range(args.updates), k=args.updates // 10):
                contents[number]["body"] = contents[number]["body"].replace(
                    "Read [the full report]", "Read [the full report, updated]")
                update_services.update_update(None, updates[number],
                                              {"body": contents[number]["body"]},
                                              change_note="The report link was updated.")
            db.session.commit()
            edited = {s.hash: s for u in contents for s in segments_of(u)}
            new = [s for digest, s in edited.items() if digest not in unique]
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
            "rerun_minimum_characters": sum(len(s.text) for s in new) * len(targets),
            "seconds": round(first_seconds, 2), "rerun_seconds": round(rerun_seconds, 2),
        }))


if __name__ == "__main__":
    main()
