"""The benchmarks still run: each with tiny sizes, checking only the shape of the one
line of JSON it prints. Timings live in bench/, never in tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("FEEDBACK_TEST_DATABASE_URL", "")
POSTGRESQL = SERVER.startswith("postgresql")

pytestmark = pytest.mark.long


def run_bench(*args: str) -> dict:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FEEDBACK_LOG_LEVEL": "WARNING"})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])


def server_url() -> list[str]:
    """The PostgreSQL server the suite uses, when it uses one (the benchmarks make and
    drop their own databases there)."""
    if not POSTGRESQL:
        return []
    return ["--database", sa.make_url(SERVER).set(database="postgres")
            .render_as_string(hide_password=False)]


def test_results_benchmark():
    out = run_bench("bench/results.py", "--ballots", "60", "--requests", "2", *server_url())
    assert out["benchmark"] == "results" and out["ballots"] == 60
    for part in ("page", "csv"):
        assert {"p50_ms", "p95_ms"} <= set(out[part]["server"])
        assert isinstance(out[part]["queries"], list)
    assert len(out["load_average"]) == 3


@pytest.mark.once  # SQLite in a folder of its own, whichever database the suite uses
def test_cpu_benchmark():
    out = run_bench("bench/cpu.py", "--updates", "12", "--requests", "3", "--pages",
                    "list,api_list")
    for page in ("list", "api_list"):
        assert {"hello_cpu_ms", "cached_cpu_ms", "miss_cpu_ms", "uncached_cpu_ms",
                "cached_statements", "uncached_statements"} <= set(out["pages"][page])
        assert out["pages"][page]["cached_statements"] == 0
    assert len(out["load_average"]) == 3


@pytest.mark.once  # SQLite in a folder of its own, whichever database the suite uses
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make "
                    "bench-deps)")
def test_pages_benchmark():
    out = run_bench("bench/pages.py", "--updates", "12", "--seconds", "1", "--pages", "list")
    page = out["pages"]["list"]
    for kind in ("cached", "uncached"):
        assert {"rps", "server", "cpu_ms_per_request", "ratio_to_hello",
                "statements"} <= set(page[kind])
    assert page["cached"]["statements"] == 0


@pytest.mark.skipif(not POSTGRESQL, reason="ballots race for real only on PostgreSQL")
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make "
                    "bench-deps)")
def test_votes_benchmark():
    out = run_bench("bench/votes.py", "--voters", "10", "--clients", "3", *server_url())
    assert out["lost"] == 0 and out["duplicates_accepted"] == 0
    assert out["ballots"] == 10 and out["server_errors"] == 0
    assert out["reuses_refused_with_message"] == out["reuse_attempts"] == 1
    assert {"ballots_per_s", "server_cpu_ms_per_ballot"} <= set(out)


def test_digest_benchmark():
    out = run_bench("bench/digest.py", "--subscribers", "40", "--languages", "2",
                    "--ceiling-messages", "40", *server_url())
    assert out["delivered"] == 40 and out["duplicates"] == 0
    assert {"sink_ceiling_messages_per_s", "ratio_to_sink", "total_s_incl_edition",
            "worker_cpu_ms_per_message", "peak_rss_mb"} <= set(out)


@pytest.mark.once  # SQLite in a folder of its own, whichever database the suite uses
def test_translation_benchmark():
    """The job sends exactly the minimum the benchmark counts on its own, per language,
    and after edits only what changed."""
    out = run_bench("bench/translation.py", "--updates", "10", "--languages", "2")
    assert out["characters"] == out["minimum_characters"] > 0
    assert out["rerun_characters"] == out["rerun_minimum_characters"] > 0
    assert set(out["per_language"]) and all(
        part["calls"] >= 1 and part["characters"] == out["minimum_characters"] // 2
        for part in out["per_language"].values())
