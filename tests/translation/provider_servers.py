"""Local HTTP servers on loopback that speak the providers' documented protocols.

Each one checks authentication the way the real service does, enforces a batch limit,
answers text or HTML, and counts calls and characters. ``fail_next`` queues error
answers (400, 403, 429, 5xx) for the next requests. The "translation" prefixes every
text with the target code, keeping tags, links and numbers, so tests can see which
language each text went to.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def fake_translate(text: str, target: str) -> str:
    return f"[{target}] {text}"


@dataclass
class Counter:
    calls: int = 0
    characters: int = 0
    requests: list[dict] = field(default_factory=list)
    fail_next: list[tuple[int, dict]] = field(default_factory=list)  # (status, headers)
    batch_limit: int = 50
    supported: set[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, status: int, times: int = 1, **headers: str) -> None:
        self.fail_next.extend([(status, headers)] * times)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeProvider/1.0"
    counter: Counter
    key: str

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(raw or "null")
        return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(raw).items()}

    def _scripted_failure(self) -> bool:
        with self.counter.lock:
            if not self.counter.fail_next:
                return False
            status, headers = self.counter.fail_next.pop(0)
            self.counter.calls += 1
        self._send(status, {"error": f"scripted {status}"}, headers)
        return True

    def _count(self, texts: list[str], request: dict) -> None:
        with self.counter.lock:
            self.counter.calls += 1
            self.counter.characters += sum(len(text) for text in texts)
            self.counter.requests.append(request)


class LibreTranslateHandler(_Handler):
    """``POST /translate`` (JSON or form): q (string or list), source, target, format,
    api_key. Errors: 400 (bad input, too many texts), 403 (API key), 429."""

    def do_GET(self):
        if urlparse(self.path).path == "/languages":
            self._send(200, [{"code": "ur", "name": "Urdu", "targets": ["en"]}])
        else:
            self._send(404, {"error": "Not found"})

    def do_POST(self):
        if urlparse(self.path).path != "/translate":
            return self._send(404, {"error": "Not found"})
        body = self._body()
        if self._scripted_failure():
            return None
        if self.key and body.get("api_key") != self.key:
            return self._send(403, {"error": "Invalid API key"})
        q, target = body.get("q"), body.get("target")
        if not q or not body.get("source") or not target:
            return self._send(400, {"error": "Invalid request: missing q, source or target"})
        if body.get("format", "text") not in ("text", "html"):
            return self._send(400, {"error": "Invalid format"})
        texts = q if isinstance(q, list) else [q]
        if len(texts) > self.counter.batch_limit:
            return self._send(400, {"error": "Invalid request: request "
                                    f"({len(texts)}) exceeds text limit "
                                    f"({self.counter.batch_limit})"})
        if self.counter.supported is not None and target not in self.counter.supported:
            return self._send(400, {"error": f"{target} is not supported"})
        self._count(texts, {"body": body, "headers": dict(self.headers)})
        out = [fake_translate(text, target) for text in texts]
        return self._send(200, {"translatedText": out if isinstance(q, list) else out[0]})


class DeepLHandler(_Handler):
    """``POST /v2/translate`` with ``Authorization: DeepL-Auth-Key``; text (list),
    target_lang, source_lang, tag_handling. 403 bad key, 456 quota, 429 busy."""

    def do_POST(self):
        if urlparse(self.path).path != "/v2/translate":
            return self._send(404, {"message": "Not found"})
        body = self._body()
        if self.headers.get("Authorization") != f"DeepL-Auth-Key {self.key}":
            return self._send(403, {"message": "Wrong authentication key"})
        if self._scripted_failure():
            return None
        texts, target = body.get("text"), body.get("target_lang")
        if not isinstance(texts, list) or not texts or not target:
            return self._send(400, {"message": "Value for 'text' or 'target_lang' missing"})
        if len(texts) > self.counter.batch_limit:
            return self._send(413, {"message": "Request Entity Too Large"})
        if body.get("tag_handling") not in (None, "html", "xml"):
            return self._send(400, {"message": "Invalid tag_handling"})
        self._count(texts, {"body": body, "headers": dict(self.headers)})
        return self._send(200, {"translations": [
            {"detected_source_language": body.get("source_lang", "EN"),
             "text": fake_translate(text, target)} for text in texts]})


class AzureHandler(_Handler):
    """``POST /translate?api-version=3.0&from=&to=&textType=`` with
    ``Ocp-Apim-Subscription-Key``; body ``[{"Text": ...}]``."""

    def do_POST(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path != "/translate":
            return self._send(404, {"error": {"code": 404000, "message": "Not found"}})
        body = self._body()
        if self.headers.get("Ocp-Apim-Subscription-Key") != self.key:
            return self._send(401, {"error": {"code": 401000,
                                              "message": "Missing or invalid key"}})
        if self._scripted_failure():
            return None
        if query.get("api-version") != "3.0" or not query.get("to"):
            return self._send(400, {"error": {"code": 400021,
                                              "message": "Invalid API version or target"}})
        if query.get("textType", "plain") not in ("plain", "html"):
            return self._send(400, {"error": {"code": 400064, "message": "Bad textType"}})
        if not isinstance(body, list) or len(body) > self.counter.batch_limit:
            return self._send(400, {"error": {"code": 400077,
                                              "message": "Too many elements"}})
        texts = [item["Text"] for item in body]
        self._count(texts, {"body": body, "query": query, "headers": dict(self.headers)})
        return self._send(200, [{"translations": [
            {"text": fake_translate(text, query["to"]), "to": query["to"]}]}
            for text in texts])


@dataclass
class RunningServer:
    url: str
    counter: Counter
    key: str


@contextmanager
def serve(handler: type[_Handler], key: str = "", batch_limit: int = 50
          ) -> Iterator[RunningServer]:
    counter = Counter(batch_limit=batch_limit)
    bound = type(handler.__name__, (handler,), {"counter": counter, "key": key})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield RunningServer(f"http://127.0.0.1:{server.server_port}", counter, key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
