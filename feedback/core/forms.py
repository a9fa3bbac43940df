"""Form helpers shared by every domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request
from flask_wtf import FlaskForm
from wtforms import Field

from feedback.core.validation import ValidationError
from feedback.extensions import db


class ConfirmForm(FlaskForm):
    """A form with only a CSRF token, for buttons that change something."""


def show_validation_error(form: FlaskForm, error: ValidationError) -> None:
    """Attach a service's ValidationError to the right field (or the form) so the NHS
    error summary lists it."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and isinstance(field, Field):
        field.errors = [*list(field.errors or []), error.message]
    else:
        form.form_errors.append(error.message)


def save_form(form: FlaskForm, action: Callable[[], Any], template: str, **context):
    """Validate ``form``, run the service ``action`` and commit, or show the errors (400).
    Returns the action's result, or a response to send back."""
    if form.validate_on_submit():
        try:
            result = action()
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            return result, None
    status = 400 if request.method == "POST" else 200
    return None, (render_template(template, form=form, **context), status)


def act_and_redirect(action: Callable[[], Any], success: str, done_url: str,
                     failed_url: str | None = None):
    """For buttons that change something: run the service ``action`` and commit, then go
    to ``done_url`` with ``success``; on a ValidationError roll back and go to
    ``failed_url`` (default ``done_url``) with the reason."""
    try:
        action()
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(failed_url or done_url, 303)
    db.session.commit()
    flash(success, "success")
    return redirect(done_url, 303)  # See Other: the browser GETs the next page


def form_data(form: FlaskForm) -> dict[str, Any]:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
