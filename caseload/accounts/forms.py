from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from caseload.accounts import actions


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    # Named "password" so django-axes masks it in the failed attempts it stores.
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    otp_code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The six-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off", "spellcheck": "false"}),
    )


class TotpConfirmForm(forms.Form):
    otp_code = forms.CharField(
        label=_("Code from your app"),
        max_length=16,
        help_text=_("Enter the six-digit code your app shows now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ConfirmIdentityForm(forms.Form):
    """A current two-factor code or the password: either proves it is still the user."""

    otp_code = forms.CharField(
        label=_("Code from your app or a backup code"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Or your password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("otp_code") and not data.get("password"):
            raise forms.ValidationError(_("Enter a code or your password."), code="required")
        return data


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the email goes through the outbox (``send_password_reset``).

    Django calls ``send_mail`` only for an active account with a usable password, and the page
    answers the same either way, so the form never tells whether an address has an account.
    """

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None):
        user = context["user"]
        actions.send_password_reset(user=user, actor=None, agency=actions.first_agency(user))
