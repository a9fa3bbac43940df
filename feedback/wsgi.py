"""WSGI entry point: ``gunicorn 'feedback.wsgi:app'``."""

from feedback import create_app

app = create_app()
