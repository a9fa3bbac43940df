from __future__ import annotations

import pytest

from feedback.translation import registry
from tests.translation.provider_servers import (
    AzureHandler,
    DeepLHandler,
    LibreTranslateHandler,
    serve,
)


@pytest.fixture
def libretranslate():
    with serve(LibreTranslateHandler, key="libre-key") as server:
        yield server


@pytest.fixture
def deepl():
    with serve(DeepLHandler, key="deepl-key:fx") as server:
        yield server


@pytest.fixture
def azure():
    with serve(AzureHandler, key="azure-key", batch_limit=1000) as server:
        yield server


@pytest.fixture
def translatable():
    """Organisation names and descriptions stand in for translatable content here, so
    these tests do not depend on any one domain's models."""
    from feedback.organisations.models import Organisation

    saved = dict(registry._REGISTRY)
    registry.register_translatable(Organisation, owner=lambda org: [org.id], name="text",
                                   description="markdown")
    yield Organisation
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


@pytest.fixture
def riverside():
    """The organisation whose content the ``drafted``/``urdu_rows`` segments are."""
    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.organisations.models import Organisation

    return db.session.scalar(select(Organisation).where(Organisation.name == "Riverside"))


@pytest.fixture
def make_translator(make_user, make_org):
    from feedback.extensions import db
    from feedback.translation import services

    def make(*languages: str, org=None):
        org = org or make_org(kind="vcse")
        admin = make_user(org=org, org_role="admin")
        translator = make_user(org=org, org_role="editor")
        services.grant_translator(admin, org, translator, languages)
        db.session.commit()
        return translator

    return make


@pytest.fixture
def sign_in_as(client):
    """Sign in as ``user``, forgetting whoever the app context cached before (the test's
    app context outlives requests, and Flask-Login caches the user on ``g``)."""
    from flask import g

    from tests.conftest import login

    def sign_in(user):
        g.pop("_login_user", None)
        login(client, user)
        return client

    return sign_in
