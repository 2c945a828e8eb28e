"""What every form page shares."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_errors(form: forms.Form, error: ValidationError, renamed: dict[str, str] | None = None) -> None:
    """Show an action's ValidationError on the form: on the field it names when the form has it
    (``renamed`` maps an action's field name to the form's), else on the form as a whole."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = (renamed or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)
