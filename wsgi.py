"""WSGI entry point in a checkout: ``gunicorn wsgi:app`` (installed: ``feedback.wsgi:app``)."""

from feedback import create_app

app = create_app()
