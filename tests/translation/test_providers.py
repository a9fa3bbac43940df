"""Each provider against a loopback server that implements its documented protocol."""

from __future__ import annotations

import pytest

from feedback.translation.providers import (
    AzureTranslator,
    DeepL,
    LibreTranslate,
    NotAllowed,
    Rejected,
    RetryLater,
    configured_providers,
    monthly_budgets,
)


def test_libretranslate_sends_a_batch_with_key_and_format(libretranslate):
    provider = LibreTranslate(url=libretranslate.url, api_key="libre-key", timeout=5)
    texts = ["Hello", 'See <a href="https://x.org">this</a>']
    assert provider.translate(texts, "en", "ur", "html") == [
        "[ur] Hello", '[ur] See <a href="https://x.org">this</a>']
    counter = libretranslate.counter
    assert counter.calls == 1 and counter.characters == sum(map(len, texts))
    body = counter.requests[0]["body"]
    assert body == {"q": texts, "source": "en", "target": "ur", "format": "html",
                    "api_key": "libre-key"}


@pytest.mark.parametrize(("status", "error"), [
    (400, Rejected), (403, NotAllowed), (429, RetryLater), (500, RetryLater),
    (503, RetryLater)])
def test_libretranslate_errors_are_sorted(libretranslate, status, error):
    provider = LibreTranslate(url=libretranslate.url, api_key="libre-key", timeout=5)
    libretranslate.counter.fail(status, **({"Retry-After": "7"} if status == 429 else {}))
    with pytest.raises(error) as raised:
        provider.translate(["Hello"], "en", "ur", "text")
    assert raised.value.status == status
    if status == 429:
        assert raised.value.retry_after == 7


def test_libretranslate_wrong_key_and_unsupported_language(libretranslate):
    with pytest.raises(NotAllowed, match="Invalid API key"):
        LibreTranslate(url=libretranslate.url, api_key="wrong").translate(
            ["Hi"], "en", "ur", "text")
    libretranslate.counter.supported = {"ur"}
    with pytest.raises(Rejected, match="so is not supported"):
        LibreTranslate(url=libretranslate.url, api_key="libre-key").translate(
            ["Hi"], "en", "so", "text")
    assert libretranslate.counter.characters == 0


def test_deepl_uses_the_auth_header_free_host_and_html_tag_handling(deepl):
    provider = DeepL(api_key="deepl-key:fx", url=deepl.url, timeout=5)
    assert provider.translate(["<em>Hello</em>"], "en", "pt-pt", "html") == [
        "[PT-PT] <em>Hello</em>"]
    request = deepl.counter.requests[0]
    assert request["headers"]["Authorization"] == "DeepL-Auth-Key deepl-key:fx"
    assert request["body"] == {"text": ["<em>Hello</em>"], "source_lang": "EN",
                               "target_lang": "PT-PT", "tag_handling": "html"}
    provider.translate(["Plain"], "en", "pt-pt", "text")
    assert "tag_handling" not in deepl.counter.requests[1]["body"]
    # Free keys (":fx") go to the free host; others to the pro host.
    assert DeepL(api_key="k:fx").host == "https://api-free.deepl.com"
    assert DeepL(api_key="k").host == "https://api.deepl.com"


@pytest.mark.parametrize(("status", "error"), [
    (400, Rejected), (403, NotAllowed), (456, NotAllowed), (429, RetryLater),
    (502, RetryLater)])
def test_deepl_errors_are_sorted(deepl, status, error):
    deepl.counter.fail(status)
    with pytest.raises(error):
        DeepL(api_key="deepl-key:fx", url=deepl.url).translate(["Hi"], "en", "pt", "text")


def test_deepl_wrong_key_is_refused(deepl):
    with pytest.raises(NotAllowed, match="Wrong authentication key"):
        DeepL(api_key="nope", url=deepl.url).translate(["Hi"], "en", "pt", "text")


def test_azure_covers_somali_with_its_key_region_and_text_type(azure):
    provider = AzureTranslator(api_key="azure-key", region="uksouth", url=azure.url)
    assert provider.translate(["Hello", "<b>Bye</b>"], "en", "so", "html") == [
        "[so] Hello", "[so] <b>Bye</b>"]
    request = azure.counter.requests[0]
    assert request["query"] == {"api-version": "3.0", "from": "en", "to": "so",
                                "textType": "html"}
    assert request["headers"]["Ocp-Apim-Subscription-Key"] == "azure-key"
    assert request["headers"]["Ocp-Apim-Subscription-Region"] == "uksouth"
    assert request["body"] == [{"Text": "Hello"}, {"Text": "<b>Bye</b>"}]
    provider.translate(["Plain"], "en", "so", "text")
    assert azure.counter.requests[1]["query"]["textType"] == "plain"
    assert azure.counter.calls == 2 and azure.counter.characters == 5 + 10 + 5


@pytest.mark.parametrize(("status", "error"), [
    (400, Rejected), (401, NotAllowed), (403, NotAllowed), (429, RetryLater),
    (500, RetryLater)])
def test_azure_errors_are_sorted(azure, status, error):
    azure.counter.fail(status)
    with pytest.raises(error):
        AzureTranslator(api_key="azure-key", url=azure.url).translate(
            ["Hi"], "en", "so", "text")


def test_an_unreachable_provider_is_retried_later():
    with pytest.raises(RetryLater):
        LibreTranslate(url="http://127.0.0.1:9", timeout=1).translate(
            ["Hi"], "en", "ur", "text")


def test_only_configured_providers_are_used_and_budgets_parse():
    assert configured_providers({}) == {}
    providers = configured_providers({"LIBRETRANSLATE_URL": "http://lt", "DEEPL_API_KEY": "k",
                                      "AZURE_TRANSLATOR_KEY": "a"})
    assert sorted(providers) == ["azure", "deepl", "libretranslate"]
    assert monthly_budgets({"TRANSLATION_BUDGETS": "deepl=500000, azure=0,junk"}) == {
        "deepl": 500000, "azure": 0}
