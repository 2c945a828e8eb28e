"""The agency's message templates (Administration → Message templates): the list, the editor
with its placeholders and live preview, and reset to the built-in wording.

Needs ``messages.templates`` (403 otherwise); a template of another agency is a 404. Writes call
``caseload.messaging.template_actions``. The preview works without JavaScript (the Preview
button re-shows the page with the text as typed, unsaved); with htmx it follows the typing.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caseload.messaging import template_actions
from caseload.messaging.models import MessageTemplate
from caseload.messaging.templates import (
    PLACEHOLDER_ORDER,
    PLACEHOLDERS,
    check_template,
    default_texts,
    example_context,
    sms_segments,
    sms_summary,
)
from caseload.messaging.templates import (
    render as render_template,
)
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.tenancy.views import admin_render
from caseload.web.forms import add_errors

TEMPLATES = "messages.templates"


class TemplateForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False, max_length=250)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "data-template-body": "", "spellcheck": "true"}),
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if channel == "sms":
            del self.fields["subject"]
            self.fields["body"].widget.attrs["rows"] = 5
            self.fields["body"].help_text = gettext_lazy(
                "Text messages have no subject. Keep them short: the length below counts the sample values."
            )


def _language_name(code: str) -> str:
    names = dict(settings.LANGUAGES)
    return str(names.get(code, code))


def _initial(template: MessageTemplate) -> dict[str, str]:
    return {"subject": template.subject, "body": template.body}


def _texts(template: MessageTemplate, form: TemplateForm) -> dict[str, str]:
    """The subject and body as typed in the form (the saved ones for fields not posted)."""
    data = form.data
    subject = data.get("subject", template.subject) if template.channel != "sms" else ""
    return {"subject": subject or "", "body": (data.get("body", template.body) or "").replace("\r\n", "\n")}


def preview_context(request: HttpRequest, template: MessageTemplate, texts: dict[str, str]) -> dict[str, Any]:
    """What the preview shows: the texts filled with sample values, their problems, and for an SMS its length."""
    problems: list[str] = []
    try:
        check_template(template.purpose, template.channel, texts["subject"], texts["body"])
    except ValidationError as error:
        problems = [message for messages_ in error.message_dict.values() for message in messages_]
    subject, body = render_template(texts, example_context(request.agency, template.language))
    sms = None
    if template.channel == "sms":
        segments, encoding, characters = sms_segments(body)
        sms = {"segments": segments, "encoding": encoding, "characters": characters, "summary": sms_summary(body)}
    return {"template": template, "preview_subject": subject, "preview_body": body, "problems": problems, "sms": sms}


def _placeholders() -> list[dict[str, str]]:
    return [{"name": name, "token": f"{{{name}}}", "description": PLACEHOLDERS[name]} for name in PLACEHOLDER_ORDER]


@perm_required(TEMPLATES)
def template_list(request: HttpRequest) -> HttpResponse:
    templates = MessageTemplate.objects.for_agency(request.agency).order_by("purpose", "channel", "language")
    groups: dict[str, dict[str, Any]] = {}
    zone = zoneinfo.ZoneInfo(request.agency.time_zone)
    for template in templates:
        default = default_texts(template.purpose, template.channel, template.language)
        group = groups.setdefault(template.purpose, {"label": template.get_purpose_display(), "rows": []})
        group["rows"].append(
            {
                "template": template,
                "language": _language_name(template.language),
                "first_line": (template.subject or template.body).strip().splitlines()[0]
                if (template.subject or template.body).strip()
                else "",
                "is_default": (template.subject, template.body) == default,
                "changed": formats.date_format(timezone.localtime(template.updated_at, zone), "SHORT_DATE_FORMAT")
                if template.updated_by_id
                else None,
                "edit_url": reverse("messaging:template_edit", args=[template.pk]),
            }
        )
    return admin_render(request, "messaging/templates/list.html", {"groups": list(groups.values())})


@perm_required(TEMPLATES)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_for_agency(request, MessageTemplate, pk=pk)
    if request.method == "POST":
        form = TemplateForm(request.POST, channel=template.channel)
        texts = _texts(template, form)
        if "preview" not in request.POST and form.is_valid():
            try:
                template_actions.update_template(template, request.user, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Template saved: %(template)s.") % {"template": template})
                return redirect("messaging:templates")
    else:
        form = TemplateForm(initial=_initial(template), channel=template.channel)
        texts = _initial(template)
    context = {
        "form": form,
        "placeholders": _placeholders(),
        "language": _language_name(template.language),
        "preview_url": reverse("messaging:template_preview", args=[template.pk]),
        "reset_url": reverse("messaging:template_reset", args=[template.pk]),
        "is_default": (template.subject, template.body) == default_texts(template.purpose, template.channel, template.language),
        **preview_context(request, template, texts),
    }
    return admin_render(request, "messaging/templates/edit.html", context, status=400 if form.errors else 200)


@require_POST
@perm_required(TEMPLATES)
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview card for the text as typed (htmx); nothing is saved."""
    template = get_for_agency(request, MessageTemplate, pk=pk)
    form = TemplateForm(request.POST, channel=template.channel)
    return render(request, "messaging/templates/_preview.html", preview_context(request, template, _texts(template, form)))


@perm_required(TEMPLATES)
def template_reset(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_for_agency(request, MessageTemplate, pk=pk)
    if request.method == "POST":
        template_actions.reset_template(template, request.user)
        messages.success(request, _("Template reset to the default wording: %(template)s.") % {"template": template})
        return redirect("messaging:template_edit", pk=template.pk)
    context = {
        "title": _("Reset “%(template)s” to the default wording?") % {"template": template},
        "message": _(
            "The agency's wording of this message is replaced by the wording Caseload comes with. This cannot be undone."
        ),
        "submit_label": _("Reset to default"),
        "cancel_url": reverse("messaging:template_edit", args=[template.pk]),
        "danger": True,
    }
    return admin_render(request, "tenancy/confirm.html", context)


urlpatterns = [
    path("templates/", template_list, name="templates"),
    path("templates/<int:pk>/", template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", template_preview, name="template_preview"),
    path("templates/<int:pk>/reset/", template_reset, name="template_reset"),
]
