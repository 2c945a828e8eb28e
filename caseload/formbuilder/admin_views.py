"""Administration → Forms: the standard forms, and the agency's own questions on each of them and
on the client profile (add, edit, retire, move, preview, download and upload as JSON).

URLs take a FormDefinition's ``pk`` (any version of a form: the page works on its key's current
version) or none for the client profile, which has no definition of its own. Definitions are
shared by every agency, so the pages never show another agency's questions: each works on
``request.agency``'s questions only. A question is named by its key in the POST (or ``?key=``).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _

from caseload.formbuilder import loading, questions, rendering
from caseload.formbuilder.models import CLIENT_PROFILE, FormDefinition, localised
from caseload.formbuilder.question_forms import RENAMED, ImportForm, PickForm, QuestionForm, form_choices
from caseload.tenancy.access import perm_required
from caseload.tenancy.views import admin_render
from caseload.web.forms import add_errors

CONFIGURE = "forms.configure"
PROFILE = "profile"


def current_definitions() -> list[FormDefinition]:
    """The current version of every form, in the order of the source document."""
    from caseload.delivery.catalogue import STANDARD_FORMS

    latest: dict[str, FormDefinition] = {}
    for definition in FormDefinition.objects.order_by("key", "-version"):
        latest.setdefault(definition.key, definition)
    order = {key: index for index, key in enumerate(STANDARD_FORMS)}
    return sorted(latest.values(), key=lambda d: (order.get(d.key, len(order)), d.name))


class Target:
    """The form whose agency questions a page works on: a standard form, or the client profile."""

    def __init__(self, definition: FormDefinition | None) -> None:
        self.definition = definition
        self.form_key = definition.key if definition is not None else CLIENT_PROFILE
        self.pk = definition.pk if definition is not None else None
        self.name = definition.name if definition is not None else _("Client profile")

    def url(self, name: str) -> str:
        if self.definition is None:
            return reverse(f"formbuilder:profile_{name}")
        return reverse(f"formbuilder:form_{name}", args=[self.definition.pk])


def _target(pk: int | None) -> Target:
    if pk is None:
        return Target(None)
    definition = FormDefinition.objects.filter(pk=pk).first()
    if definition is None:
        raise Http404
    current = loading.current_definition(definition.key)
    return Target(current or definition)


def _question_or_404(request: HttpRequest, target: Target, key: str) -> dict[str, Any]:
    found = questions.find_question(request.agency, target.form_key, key) if key else None
    if found is None:
        raise Http404
    return found


# --- The list ------------------------------------------------------------------------------------


@perm_required(CONFIGURE)
def form_list(request: HttpRequest) -> HttpResponse:
    definitions = current_definitions()
    picker = PickForm(request.GET if "form" in request.GET else None, choices=form_choices(definitions, _("Client profile")))
    if picker.is_bound and picker.is_valid():
        chosen = picker.cleaned_data["form"]
        if chosen == PROFILE:
            return redirect("formbuilder:profile_questions")
        return redirect("formbuilder:form_questions", pk=int(chosen))
    counts = questions.question_counts(request.agency)
    rows = [
        {
            "definition": definition,
            "name": definition.name,
            "questions": counts.get(definition.key, 0),
            "url": reverse("formbuilder:form_questions", args=[definition.pk]),
            "download_url": reverse("formbuilder:form_definition", args=[definition.pk]),
        }
        for definition in definitions
    ]
    profile = {"questions": counts.get(CLIENT_PROFILE, 0), "url": reverse("formbuilder:profile_questions")}
    return admin_render(
        request,
        "formbuilder/admin/form_list.html",
        {"rows": rows, "profile": profile, "picker": picker},
        status=400 if picker.is_bound and not picker.is_valid() else 200,
    )


@perm_required(CONFIGURE)
def definition_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The form's definition file (the standard one, without any agency's questions)."""
    definition = FormDefinition.objects.filter(pk=pk).first()
    if definition is None:
        raise Http404
    data = loading.export_definition(definition)
    if not isinstance(data, str | bytes):
        data = json.dumps(data, ensure_ascii=False, indent=2)
    response = HttpResponse(data, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{definition.key}-v{definition.version}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- One form's questions --------------------------------------------------------------------------


def _question_rows(target: Target, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "key": field.get("key"),
            "label": localised(field.get("label")),
            "type": questions.TYPES.get(field.get("type"), field.get("type")),
            "required": bool(field.get("required")),
            "choices": [localised(choice.get("label")) for choice in field.get("choices") or []],
            "first": index == 0,
            "last": index == len(fields) - 1,
            "edit_url": f"{target.url('question_edit')}?key={field.get('key')}",
            "retire_url": f"{target.url('question_retire')}?key={field.get('key')}",
        }
        for index, field in enumerate(fields)
    ]


def _questions_page(request: HttpRequest, pk: int | None) -> HttpResponse:
    target = _target(pk)
    agency = request.agency
    form = QuestionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                extension = questions.add_question(agency, request.membership, target.form_key, form.question())
            except ValidationError as error:
                add_errors(form, error, RENAMED)
            else:
                added = extension.fields[-1]
                messages.success(request, _("Question “%(label)s” added.") % {"label": localised(added.get("label"))})
                return redirect(target.url("questions"))
        status = 400
    definition, extension, spec = loading.form_spec(agency, target.form_key)
    fields = questions.current_questions(agency, target.form_key)
    context = {
        "target": target,
        "definition": target.definition,
        "extension": extension,
        "rows": _question_rows(target, fields),
        "form": form,
        "import_form": ImportForm(),
        "preview": rendering.render_fields(spec, {}, None, prefix="preview", summary=False),
        "has_fields": bool(spec.get("fields")),
        "urls": {name: target.url(name) for name in ("questions", "question_move", "questions_export", "questions_import")},
        "definition_url": reverse("formbuilder:form_definition", args=[target.pk]) if target.pk else "",
    }
    return admin_render(request, "formbuilder/admin/form_questions.html", context, status=status)


def _question_edit(request: HttpRequest, pk: int | None) -> HttpResponse:
    target = _target(pk)
    key = (request.POST.get("key") if request.method == "POST" else request.GET.get("key")) or ""
    field = _question_or_404(request, target, key)
    form = QuestionForm(request.POST if request.method == "POST" else None, initial=QuestionForm.initial_from(field))
    if request.method == "POST" and form.is_valid():
        try:
            questions.update_question(request.agency, request.membership, target.form_key, key, form.question())
        except ValidationError as error:
            add_errors(form, error, RENAMED)
        else:
            messages.success(request, _("Question saved."))
            return redirect(target.url("questions"))
    return admin_render(
        request,
        "formbuilder/admin/question_edit.html",
        {
            "target": target,
            "form": form,
            "key": key,
            "label": localised(field.get("label")),
            "cancel_url": target.url("questions"),
        },
        status=400 if request.method == "POST" else 200,
    )


def _question_retire(request: HttpRequest, pk: int | None) -> HttpResponse:
    target = _target(pk)
    key = (request.POST.get("key") if request.method == "POST" else request.GET.get("key")) or ""
    field = _question_or_404(request, target, key)
    label = localised(field.get("label"))
    if request.method == "POST":
        try:
            questions.retire_question(request.agency, request.membership, target.form_key, key)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Question “%(label)s” retired.") % {"label": label})
        return redirect(target.url("questions"))
    return admin_render(
        request,
        "formbuilder/admin/question_retire.html",
        {"target": target, "key": key, "label": label, "cancel_url": target.url("questions")},
    )


def _question_move(request: HttpRequest, pk: int | None) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = _target(pk)
    key = request.POST.get("key") or ""
    _question_or_404(request, target, key)
    try:
        questions.move_question(request.agency, request.membership, target.form_key, key, request.POST.get("direction", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{target.url('questions')}#question-{key}")


def _questions_export(request: HttpRequest, pk: int | None) -> HttpResponse:
    target = _target(pk)
    data = questions.export_questions(request.agency, request.membership, target.form_key)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{target.form_key}-agency-questions.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _questions_import(request: HttpRequest, pk: int | None) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = _target(pk)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            extension = questions.import_questions(request.agency, request.membership, target.form_key, form.cleaned_data["file"])
        except ValidationError as error:
            for message in _named(error):
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(count)s questions imported (version %(version)s).")
                % {"count": len(extension.fields), "version": extension.version},
            )
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(target.url("questions"))


def _named(error: ValidationError) -> list[str]:
    """Each message of an import's refusal, prefixed by what it names (``fields.2.label.en: ...``)."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [f"{name}: {message}" for name, errors in error.error_dict.items() for e in errors for message in e.messages]


# The same pages for a standard form (pk) and the client profile (no pk).


def _form_view(inner):
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return inner(request, pk)

    view.__name__ = view.__qualname__ = f"form{inner.__name__}"
    view.__doc__ = inner.__doc__
    return perm_required(CONFIGURE)(view)


def _profile_view(inner):
    def view(request: HttpRequest) -> HttpResponse:
        return inner(request, None)

    view.__name__ = view.__qualname__ = f"profile{inner.__name__}"
    view.__doc__ = inner.__doc__
    return perm_required(CONFIGURE)(view)


PAGES = {
    "questions": ("", _questions_page),
    "question_edit": ("question/", _question_edit),
    "question_retire": ("question/retire/", _question_retire),
    "question_move": ("question/move/", _question_move),
    "questions_export": ("questions.json", _questions_export),
    "questions_import": ("questions/import/", _questions_import),
}

urlpatterns = [
    path("admin/forms/", form_list, name="admin_forms"),
    path("admin/forms/<int:pk>/definition.json", definition_download, name="form_definition"),
    *[path(f"admin/forms/<int:pk>/{route}", _form_view(view), name=f"form_{name}") for name, (route, view) in PAGES.items()],
    *[
        path(f"admin/forms/client-profile/{route}", _profile_view(view), name=f"profile_{name}")
        for name, (route, view) in PAGES.items()
    ],
]
