"""Build hook: the wheel carries the templates and migrations, whose source stays in the
top-level ``templates/`` and ``migrations/`` folders, as ``feedback/templates`` and
``feedback/migrations``. Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COPIED = ("templates", "migrations")
# Built, not committed: `make setup` makes them; a wheel without them serves an unstyled
# site in English only, so the build refuses.
BUILT = ("feedback/static/nhsuk/nhsuk-frontend.min.css",
         "feedback/translations/cy/LC_MESSAGES/messages.mo")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the top-level folders directly
        missing = [path for path in BUILT if not (ROOT / path).is_file()]
        if missing:
            raise SystemExit(f"{', '.join(missing)} missing: run `make setup` before "
                             "building (NHS.UK frontend assets and compiled catalogs)")
        for name in COPIED:
            target = Path(self.build_lib) / "feedback" / name
            shutil.rmtree(target, ignore_errors=True)  # no stale files from a last build
            shutil.copytree(ROOT / name, target,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithResources})
