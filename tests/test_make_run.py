"""``make run PORT=…`` serves on that port and builds links for the same port."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_recipe(port: str | None, base_url: str | None) -> list[str]:
    """The commands ``make run`` would run (a dry run), with our variables applied."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    if base_url:
        env["FEEDBACK_BASE_URL"] = base_url
    arguments = ["make", "-s", "-n", "run"]
    if port:
        arguments.append(f"PORT={port}")
    output = subprocess.run(arguments, cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True).stdout
    return [line for line in output.splitlines() if "feedback " in line]


def _base_url_seen_by(line: str, env_base_url: str | None) -> str:
    """Run the recipe line with ``printenv`` in place of the feedback command."""
    prefix = line.split(" .venv/bin/feedback", 1)[0]
    env = {"PATH": os.environ["PATH"]}
    if env_base_url:
        env["FEEDBACK_BASE_URL"] = env_base_url
    return subprocess.run(["sh", "-c", f"{prefix} printenv FEEDBACK_BASE_URL"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def test_make_run_keeps_the_server_and_its_links_on_one_port():
    lines = _run_recipe("5123", None)
    assert lines[-1].endswith("feedback run --host 127.0.0.1 --port 5123")
    for line in lines:  # migrate, seed and serve all see the same address
        assert _base_url_seen_by(line, None) == "http://127.0.0.1:5123"


def test_make_run_defaults_to_port_5000_and_respects_a_base_url_that_is_set():
    lines = _run_recipe(None, None)
    assert lines[-1].endswith("--port 5000")
    assert _base_url_seen_by(lines[-1], None) == "http://127.0.0.1:5000"
    assert _base_url_seen_by(lines[-1], "https://feedback.example") == (
        "https://feedback.example")
