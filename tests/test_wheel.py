"""The wheel an operator installs: built with ``python -m build``, installed into a new
virtual environment outside the checkout, migrated, seeded and served by gunicorn, with
its stylesheet. Runs once per CI (the SQLite run): it does not use the test database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.digest_support import free_port

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

pytestmark = [pytest.mark.once, pytest.mark.long]


def _run(*command, **options) -> subprocess.CompletedProcess:
    result = subprocess.run(list(command), capture_output=True, text=True, timeout=240,
                            **options)
    assert result.returncode == 0, f"{command}: {result.stdout[-1500:]}{result.stderr[-3000:]}"
    return result


def _get(url: str, **headers: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_the_wheel_installs_anywhere_and_serves_a_styled_site(tmp_path):
    dist, venv, home = tmp_path / "dist", tmp_path / "venv", tmp_path / "site"
    home.mkdir()
    built: list[subprocess.CompletedProcess] = []
    # Build the wheel while the new environment installs the locked dependencies.
    builder = threading.Thread(target=lambda: built.append(subprocess.run(
        [PYTHON, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
         str(ROOT)],
        capture_output=True, text=True, timeout=240)))
    builder.start()
    # No pip inside the new environment: this checkout's pip installs into it.
    _run(PYTHON, "-m", "venv", "--without-pip", str(venv))
    pip = [PYTHON, "-m", "pip", "--python", str(venv / "bin" / "python"),
           "--disable-pip-version-check"]
    _run(*pip, "install", "--quiet", "--no-compile", "--require-hashes", "-r",
         str(ROOT / "requirements.lock"), cwd=home)
    builder.join(240)
    assert built and built[0].returncode == 0, built and built[0].stderr[-3000:]
    wheel = next(dist.glob("feedback-*.whl"))
    _run(*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel), cwd=home)
    _run(*pip, "check", cwd=home)  # every requirement the wheel declares is locked

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FEEDBACK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(FEEDBACK_DATABASE_URL=f"sqlite:///{home / 'feedback.db'}",
               FEEDBACK_RUN_SCHEDULER="false", PATH=f"{venv / 'bin'}:{env['PATH']}")
    feedback = str(venv / "bin" / "feedback")
    _run(feedback, "db", "upgrade", cwd=home, env=env)
    _run(feedback, "seed-demo", cwd=home, env=env)

    port, log = free_port(), tmp_path / "gunicorn.log"
    with log.open("w") as errors:
        server = subprocess.Popen([str(venv / "bin" / "gunicorn"), "--bind",
                                   f"127.0.0.1:{port}", "--workers", "1", "feedback.wsgi:app"],
                                  cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert server.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        page = body.decode()
        assert status == 200 and "Riverside" in page  # the demo data
        stylesheets = re.findall(r'<link[^>]+href="(/static/[^"]+\.css[^"]*)"', page)
        assert any("nhsuk-frontend" in href for href in stylesheets), stylesheets
        for href in stylesheets:
            status, content_type, css = _get(f"http://127.0.0.1:{port}{href}")
            assert status == 200 and content_type.startswith("text/css") and len(css) > 1000
        status, _, welsh = _get(f"http://127.0.0.1:{port}/", **{"Accept-Language": "cy"})
        title = re.compile(r"<title>(.*?)</title>", re.S)
        assert 'lang="cy"' in welsh.decode()
        assert title.search(welsh.decode())[1] != title.search(page)[1]  # compiled catalogs
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
    installed = _run(str(venv / "bin" / "python"), "-c",
                     "import feedback; print(feedback.__file__)", cwd=home, env=env)
    assert installed.stdout.startswith(str(venv))  # not the checkout
