from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from knox.models import AuthToken

from caseload.accounts import actions, auth, two_factor
from caseload.accounts.forms import CodeForm, ConfirmIdentityForm, LoginForm, OutboxPasswordResetForm, TotpConfirmForm

TOTP_SETUP_SESSION_KEY = "accounts_totp_setup_key"


def _next_url(request: HttpRequest, fallback: str = "") -> str:
    """Where to go after this page: a same-site ``next``, else the dashboard."""
    url = request.POST.get("next") or request.GET.get("next") or fallback
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty), or None for a GET."""
    return request.POST if request.method == "POST" else None


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None) -> HttpResponse:
    """The answer to any log-in attempt on a locked account (django-axes' AXES_LOCKOUT_CALLABLE)."""
    email = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    minutes = auth.lockout_minutes_left(email)
    if request.path.startswith("/api/"):
        detail = ngettext(
            "This account is locked after too many failed log-in attempts. Try again in %(minutes)d minute or ask your administrator.",
            "This account is locked after too many failed log-in attempts. Try again in %(minutes)d minutes or ask your administrator.",
            minutes,
        ) % {"minutes": minutes}
        return JsonResponse({"type": "client_error", "errors": [{"code": "locked_out", "detail": detail, "attr": None}]}, status=403)
    return render(request, "accounts/locked.html", {"minutes": minutes}, status=403)


def locked(request: HttpRequest) -> HttpResponse:
    return locked_out(request)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    if request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        attempt = auth.check_password(request, email, form.cleaned_data["password"])
        if attempt.locked:
            return locked_out(request, credentials={settings.AXES_USERNAME_FORM_FIELD: auth.normalize_email(email)})
        if attempt.user is None:
            form.add_error(None, _("The email address or password is not correct."))
        elif two_factor.has_totp_device(attempt.user):
            auth.begin_pending_login(request, attempt.user, next_url)
            return redirect("accounts:login_verify")
        else:
            actions.log_in(request, attempt.user, backend=attempt.user.backend)
            return redirect(next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@sensitive_post_parameters("otp_code")
@csrf_protect
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the app (or a backup code) before the session is logged in.

    Also verifies the session of someone logged in before they set up 2FA elsewhere, when their
    agency now asks for it.
    """
    pending = auth.pending_login(request)
    if pending is not None:
        user, next_url = pending.user, _next_url(request, pending.next_url)
    elif request.user.is_authenticated and not request.user.is_verified() and two_factor.has_totp_device(request.user):
        user, next_url = request.user, _next_url(request)
    elif request.user.is_authenticated:
        return redirect(_next_url(request))
    else:
        messages.info(request, _("Please log in again."))
        return redirect("accounts:login")

    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        attempt = auth.check_code(request, user, form.cleaned_data["otp_code"])
        if attempt.locked:
            auth.end_pending_login(request)
            return locked_out(request, credentials={settings.AXES_USERNAME_FORM_FIELD: user.email})
        if attempt.device is None:
            form.add_error("otp_code", _("This code is not valid. Check your app and try again."))
        elif pending is not None:
            auth.end_pending_login(request)
            actions.log_in(request, user, backend=pending.backend, device=attempt.device)
            return redirect(next_url)
        else:
            otp_login(request, attempt.device)
            return redirect(next_url)
    return render(request, "accounts/login_verify.html", {"form": form, "next": next_url, "pending": pending is not None})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    actions.log_out(request)
    messages.success(request, _("You are logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    actions.log_out_everywhere(request.user, request.user, agency=getattr(request, "agency", None))
    update_session_auth_hash(request, request.user)
    messages.success(request, _("Every other session is logged out and your API tokens are revoked."))
    return redirect("accounts:security")


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "has_totp": two_factor.has_totp_device(user),
        "backup_codes_left": two_factor.backup_codes_left(user),
        "required_by": [m.agency for m in getattr(request, "memberships", []) if m.agency.require_two_factor],
        "is_verified": user.is_verified(),
        "api_tokens": AuthToken.objects.filter(user=user).count(),
    }
    return render(request, "accounts/security.html", context)


@login_required
@sensitive_post_parameters("otp_code")
def totp_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.has_totp_device(user):
        messages.info(request, _("Two-factor authentication is already on. Turn it off first to move it to another app."))
        return redirect("accounts:security")
    key = request.session.get(TOTP_SETUP_SESSION_KEY)
    if not key:
        # The secret waits in the session until a code proves the app has it: no half-made device rows.
        key = request.session[TOTP_SETUP_SESSION_KEY] = two_factor.new_totp_key()
    next_url = _next_url(request, reverse("accounts:security"))
    form = TotpConfirmForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        time_step = two_factor.check_totp_key(key, form.cleaned_data["otp_code"])
        if time_step is None:
            form.add_error("otp_code", _("This code does not match. Check the time on your phone and enter the code your app shows now."))
        else:
            device, codes = actions.enable_two_factor(user=user, key=key, time_step=time_step)
            del request.session[TOTP_SETUP_SESSION_KEY]
            otp_login(request, device)
            return render(request, "accounts/backup_codes.html", {"codes": codes, "just_enabled": True, "next": next_url})
    context = {
        "form": form,
        "qr_svg": two_factor.qr_code_svg(user, key, title=_("QR code to scan with your authenticator app")),
        "secret": two_factor.secret_for_display(key),
        "required_by": [m.agency for m in getattr(request, "memberships", []) if m.agency.require_two_factor],
        "next": next_url,
    }
    return render(request, "accounts/totp_setup.html", context)


@login_required
@sensitive_post_parameters("otp_code", "password")
def totp_disable(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not two_factor.has_totp_device(user):
        return redirect("accounts:security")
    form = ConfirmIdentityForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        attempt = auth.confirm_identity(request, user, password=form.cleaned_data["password"], code=form.cleaned_data["otp_code"])
        if attempt.locked:
            return locked_out(request, credentials={settings.AXES_USERNAME_FORM_FIELD: user.email})
        if attempt.user is None:
            form.add_error(None, _("That code or password is not correct."))
        else:
            actions.disable_two_factor(user=user, actor=user)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:security")
    required_by = [m.agency for m in getattr(request, "memberships", []) if m.agency.require_two_factor]
    return render(request, "accounts/totp_disable.html", {"form": form, "required_by": required_by})


@login_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not two_factor.has_totp_device(user):
        return redirect("accounts:security")
    if not user.is_verified():
        return redirect(f"{reverse('accounts:login_verify')}?next={reverse('accounts:security')}")
    codes = actions.regenerate_backup_codes(user=user, actor=user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "just_enabled": False, "next": reverse("accounts:security")})


@login_required
@sensitive_post_parameters()
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(user=user, data=_posted(request))
    if request.method == "POST":
        if form.is_valid():
            actions.change_password(user=user, actor=user, password=form.cleaned_data["new_password1"])
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password is changed. Your other sessions are logged out."))
            return redirect("accounts:security")
        if "old_password" in form.errors and auth.count_reauth_failure(request, user):
            return locked_out(request, credentials={settings.AXES_USERNAME_FORM_FIELD: user.email})
    return render(request, "accounts/password_change.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    form_class = SetPasswordForm
    audit_method = "password reset"

    def form_valid(self, form):
        actions.set_password_from_link(user=self.user, password=form.cleaned_data["new_password1"], method=self.audit_method)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class InvitationView(PasswordResetConfirmView):
    """An invited person chooses a password from the emailed link and is logged in."""

    template_name = "accounts/invitation.html"
    audit_method = actions.METHOD_INVITATION

    def form_valid(self, form):
        user = self.user
        actions.set_password_from_link(user=user, password=form.cleaned_data["new_password1"], method=self.audit_method)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        user.backend = actions.MODEL_BACKEND
        if two_factor.has_totp_device(user):
            auth.begin_pending_login(self.request, user, resolve_url(settings.LOGIN_REDIRECT_URL))
            return redirect("accounts:login_verify")
        actions.log_in(self.request, user, backend=actions.MODEL_BACKEND, method=actions.METHOD_INVITATION)
        messages.success(self.request, _("Welcome! Your password is set."))
        return redirect(settings.LOGIN_REDIRECT_URL)
