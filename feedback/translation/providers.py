"""Machine-translation providers behind one interface.

Each provider takes a batch of segments in one format and returns their translations
in the same order. Errors are sorted by what the job should do next: ``RetryLater``
(429, 5xx, timeouts: back off), ``NotAllowed`` (401, 403, quota: stop and tell admins)
and ``Rejected`` (400: this batch cannot be translated as sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests
from flask import current_app

from feedback.core.models import utcnow


class ProviderError(Exception):
    def __init__(self, message: str, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RetryLater(ProviderError):
    """Busy or failing for now (429, 5xx, timeout, connection): try again later."""


class NotAllowed(ProviderError):
    """The key is wrong or the provider's own quota is used up (401, 403, 456)."""


class Rejected(ProviderError):
    """The request was refused as malformed or unsupported (400, 413, ...)."""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass
class Provider:
    """The interface. ``max_items`` and ``max_characters`` bound one request."""

    name: ClassVar[str] = "none"
    max_items: ClassVar[int] = 50
    max_characters: ClassVar[int] = 5000
    timeout: float = 30

    def translate(self, texts: list[str], source: str, target: str,
                  text_format: str) -> list[str]:
        raise NotImplementedError

    def _post(self, url: str, **kwargs: Any) -> Any:
        try:
            response = requests.post(url, timeout=(5, self.timeout), **kwargs)
        except (requests.Timeout, requests.ConnectionError) as error:
            raise RetryLater(f"{self.name}: {type(error).__name__}") from error
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryLater(f"{self.name}: HTTP {status}", status, _retry_after(response))
        if status in (401, 403, 456):
            raise NotAllowed(f"{self.name}: HTTP {status} {self._error_text(response)}",
                             status)
        if status >= 400:
            raise Rejected(f"{self.name}: HTTP {status} {self._error_text(response)}",
                           status)
        try:
            return response.json()
        except ValueError as error:
            raise RetryLater(f"{self.name}: the answer was not JSON", status) from error

    @staticmethod
    def _error_text(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict):
            error = body.get("error") or body.get("message") or ""
            if isinstance(error, dict):
                error = error.get("message", "")
            return str(error)[:200]
        return ""

    def _expect(self, translations: Any, count: int) -> list[str]:
        if not isinstance(translations, list) or len(translations) != count or not all(
                isinstance(text, str) for text in translations):
            raise RetryLater(f"{self.name}: the answer did not match the request")
        return translations


@dataclass
class LibreTranslate(Provider):
    """LibreTranslate (self-hosted): ``POST /translate`` with ``q`` as a list."""

    name: ClassVar[str] = "libretranslate"
    max_items: ClassVar[int] = 50
    max_characters: ClassVar[int] = 5000
    url: str = ""
    api_key: str = ""

    def translate(self, texts, source, target, text_format):
        body = {"q": texts, "source": source, "target": target, "format": text_format}
        if self.api_key:
            body["api_key"] = self.api_key
        answer = self._post(f"{self.url.rstrip('/')}/translate", json=body)
        return self._expect(answer.get("translatedText") if isinstance(answer, dict)
                            else None, len(texts))


@dataclass
class DeepL(Provider):
    """DeepL API v2: ``POST /v2/translate``, ``Authorization: DeepL-Auth-Key``."""

    name: ClassVar[str] = "deepl"
    max_items: ClassVar[int] = 50  # DeepL's limit per request
    max_characters: ClassVar[int] = 30_000  # well inside the 128 KiB request limit
    api_key: str = ""
    url: str = ""

    FREE_HOST: ClassVar[str] = "https://api-free.deepl.com"
    PRO_HOST: ClassVar[str] = "https://api.deepl.com"

    @property
    def host(self) -> str:
        if self.url:
            return self.url.rstrip("/")
        return self.FREE_HOST if self.api_key.endswith(":fx") else self.PRO_HOST

    def translate(self, texts, source, target, text_format):
        body: dict[str, Any] = {"text": texts, "source_lang": source.upper(),
                                "target_lang": target.upper()}
        if text_format == "html":
            body["tag_handling"] = "html"
        answer = self._post(f"{self.host}/v2/translate", json=body,
                            headers={"Authorization": f"DeepL-Auth-Key {self.api_key}"})
        items = answer.get("translations") if isinstance(answer, dict) else None
        texts_out = [item.get("text") for item in items] if isinstance(items, list) else None
        return self._expect(texts_out, len(texts))


@dataclass
class AzureTranslator(Provider):
    """Azure AI Translator v3 (covers Somali): ``POST /translate?api-version=3.0``."""

    name: ClassVar[str] = "azure"
    max_items: ClassVar[int] = 1000  # Azure's limits: 1,000 items, 50,000 characters
    max_characters: ClassVar[int] = 50_000
    api_key: str = ""
    region: str = ""
    url: str = "https://api.cognitive.microsofttranslator.com"

    def translate(self, texts, source, target, text_format):
        headers = {"Ocp-Apim-Subscription-Key": self.api_key}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        params = {"api-version": "3.0", "from": source, "to": target,
                  "textType": "html" if text_format == "html" else "plain"}
        answer = self._post(f"{self.url.rstrip('/')}/translate", params=params,
                            headers=headers, json=[{"Text": text} for text in texts])
        try:
            texts_out = [item["translations"][0]["text"] for item in answer]
        except (KeyError, IndexError, TypeError):
            texts_out = None
        return self._expect(texts_out, len(texts))


def configured_providers(config: Mapping[str, Any] | None = None) -> dict[str, Provider]:
    """The providers whose settings are filled in, by name."""
    config = config if config is not None else current_app.config
    timeout = float(config.get("TRANSLATION_TIMEOUT", 30))
    providers: dict[str, Provider] = {}
    if config.get("LIBRETRANSLATE_URL"):
        providers["libretranslate"] = LibreTranslate(
            timeout=timeout, url=config["LIBRETRANSLATE_URL"],
            api_key=config.get("LIBRETRANSLATE_API_KEY", ""))
    if config.get("DEEPL_API_KEY"):
        providers["deepl"] = DeepL(timeout=timeout, api_key=config["DEEPL_API_KEY"],
                                   url=config.get("DEEPL_API_URL", ""))
    if config.get("AZURE_TRANSLATOR_KEY"):
        providers["azure"] = AzureTranslator(
            timeout=timeout, api_key=config["AZURE_TRANSLATOR_KEY"],
            region=config.get("AZURE_TRANSLATOR_REGION", ""),
            url=config.get("AZURE_TRANSLATOR_URL") or AzureTranslator.url)
    return providers


def monthly_budgets(config: Mapping[str, Any] | None = None) -> dict[str, int]:
    """``TRANSLATION_BUDGETS`` as {provider: characters}; 0 or missing means no limit."""
    config = config if config is not None else current_app.config
    budgets = {}
    for item in (config.get("TRANSLATION_BUDGETS") or "").split(","):
        name, _, value = item.partition("=")
        if name.strip() and value.strip().isdigit():
            budgets[name.strip()] = int(value)
    return budgets
