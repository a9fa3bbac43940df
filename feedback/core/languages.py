"""The registry of languages the service can be read in.

Codes are BCP 47, with a script where it matters (Panjabi is written in Gurmukhi, left to
right, and in Shahmukhi, right to left). Babel locale identifiers use underscores.

The registry is configuration: ``feedback/core/languages.toml`` holds the default set,
``LANGUAGES_FILE`` adds or replaces entries, and ``LANGUAGES`` chooses which are enabled.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

DEFAULT_REGISTRY = Path(__file__).with_name("languages.toml")
PROVIDERS = ("none", "libretranslate", "deepl", "azure")


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as used in lang="" and URLs
    name: str  # the name in English
    native_name: str  # the name in the language itself
    direction: str = "ltr"
    provider: str = "none"  # which content-translation provider drafts text in it
    provider_code: str = ""  # the provider's code, when it differs from the primary subtag
    font: str = ""  # the Fontsource package of its script's web font ("" for Latin scripts)
    font_subset: str = ""  # which of that package's subsets covers the script

    @property
    def babel_locale(self) -> str:
        return self.code.replace("-", "_")

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def primary(self) -> str:
        """The language subtag alone (``pa`` for ``pa-Guru``)."""
        return self.code.split("-", 1)[0]

    @property
    def machine_code(self) -> str:
        return self.provider_code or self.primary


def display_name(language: Language, in_locale: str | None = None) -> str:
    """The language's name in the reader's language ("Urdu", "اردو" or "Wrdu"), from
    CLDR; the registry's English name for languages CLDR does not know."""
    from babel import Locale, UnknownLocaleError
    from flask_babel import get_locale

    try:
        locale = Locale.parse(in_locale) if in_locale else get_locale()
        name = Locale.parse(language.babel_locale).get_display_name(locale)
    except (UnknownLocaleError, ValueError):
        name = None
    return name or language.name


def language_options(languages) -> list:
    """Select options for ``languages``: each by its own name, in its own language and
    direction (``lang``/``dir`` on the ``<option>``), as language pickers should be."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(language.code, language.native_name,
                         render_kw={"lang": language.code, "dir": language.direction})
            for language in languages]


def read_registry(path: Path) -> list[Language]:
    """Languages from a TOML file of ``[[language]]`` tables (see ``languages.toml``)."""
    with path.open("rb") as handle:
        entries = tomllib.load(handle).get("language", [])
    languages = []
    for entry in entries:
        language = Language(
            code=entry["code"], name=entry["name"], native_name=entry["native_name"],
            direction=entry.get("direction", "ltr"), provider=entry.get("provider", "none"),
            provider_code=entry.get("provider_code", ""),
            font=entry.get("font", ""), font_subset=entry.get("font_subset", ""),
        )
        if language.direction not in ("ltr", "rtl"):
            raise ValueError(f"{path}: direction of {language.code} must be ltr or rtl")
        if language.provider not in PROVIDERS:
            raise ValueError(f"{path}: provider of {language.code} must be one of "
                             f"{', '.join(PROVIDERS)}")
        if bool(language.font) != bool(language.font_subset):
            raise ValueError(f"{path}: {language.code} needs both font and font_subset")
        languages.append(language)
    return languages


DEFAULT_LANGUAGES: tuple[Language, ...] = tuple(read_registry(DEFAULT_REGISTRY))


def all_languages() -> tuple[Language, ...]:
    """Every known language: the defaults, with ``LANGUAGES_FILE`` entries added or
    replacing those with the same code."""
    cache = current_app.extensions.setdefault("feedback_languages", {})
    if "all" not in cache:
        by_code = {language.code: language for language in DEFAULT_LANGUAGES}
        extra = current_app.config.get("LANGUAGES_FILE")
        if extra:
            for language in read_registry(Path(extra)):
                by_code[language.code] = language
        cache["all"] = tuple(by_code.values())
    return cache["all"]


def enabled_languages() -> tuple[Language, ...]:
    """The languages switched on for this site (``LANGUAGES``, default: all known)."""
    cache = current_app.extensions.setdefault("feedback_languages", {})
    if "enabled" not in cache:
        known = all_languages()
        configured = current_app.config.get("LANGUAGES")
        if configured:
            by_code = {language.code.lower(): language for language in known}
            wanted = [code.strip().lower() for code in configured.split(",") if code.strip()]
            cache["enabled"] = tuple(by_code[code] for code in wanted if code in by_code)
        else:
            cache["enabled"] = known
    return cache["enabled"]


def _enabled_by_code() -> dict[str, Language]:
    cache = current_app.extensions.setdefault("feedback_languages", {})
    if "by_code" not in cache:
        by_code: dict[str, Language] = {}
        for language in enabled_languages():
            by_code.setdefault(language.code.lower(), language)
        cache["by_code"] = by_code
    return cache["by_code"]


def get_language(code: str | None) -> Language | None:
    """The enabled language with this code (case-insensitive, ``_`` or ``-``), or None.
    The pseudo-locale is found too when ``PSEUDO_LOCALE`` is on, though never listed."""
    if not code:
        return None
    lowered = code.lower().replace("_", "-")
    language = _enabled_by_code().get(lowered)
    if language is not None:
        return language
    if current_app.config.get("PSEUDO_LOCALE"):
        from feedback.core.pseudo import PSEUDO_LANGUAGE

        if lowered == PSEUDO_LANGUAGE.code.lower():
            return PSEUDO_LANGUAGE
    return None


def source_language() -> Language:
    """The language content is written in (the site default, English). Remembered per
    app and default (pages ask for it once per translated field)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    default = app.config["DEFAULT_LANGUAGE"]
    cache = app.extensions.setdefault("feedback_languages", {})
    remembered = cache.get("source")
    if remembered is None or remembered[0] != default:
        remembered = cache["source"] = (default, get_language(default)
                                        or enabled_languages()[0])
    return remembered[1]


def target_languages() -> tuple[Language, ...]:
    """Enabled languages other than the source language: where content is translated to."""
    source = source_language()
    return tuple(language for language in enabled_languages() if language.code != source.code)
