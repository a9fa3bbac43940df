"""SMTP with STARTTLS or implicit TLS, and authentication, against aiosmtpd on loopback
with a certificate made for the test (trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from sqlalchemy import select

from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from tests.digest_support import (
    SmtpSink,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="needs the openssl command to make a certificate")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture(params=["starttls", "ssl"])
def smtp_sink(request, certificate, monkeypatch):
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # our client trusts this certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SmtpSink(username="digest", password="s3cret", tls=request.param,
                    tls_context=context).start()
    yield sink
    sink.stop()


@pytest.fixture
def app_config(smtp_sink):
    return smtp_sink.config()


def test_messages_go_over_an_encrypted_authenticated_connection(app, smtp_sink):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    start_edition_now(audience)
    sent = Worker().run()
    assert sent == 3, db.session.scalars(select(Delivery.last_error)).all()
    assert len(smtp_sink.messages) == 3
    assert smtp_sink.encrypted_messages == 3
    assert len(smtp_sink.sessions) == 2  # SMTP_CONNECTIONS (2), each one reused
