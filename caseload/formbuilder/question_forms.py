"""The forms of the Administration → Forms pages: a question, an import file, the form picker."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.formbuilder.models import localised
from caseload.formbuilder.questions import CHOICE_TYPES, HELP_LENGTH, LABEL_LENGTH, TYPES, choices_text

MAX_IMPORT_BYTES = 1024 * 1024
# An action's error paths -> the field of QuestionForm that shows them.
RENAMED = {"label.en": "label_en", "label.fr": "label_fr", "help.en": "help_en", "help.fr": "help_fr", "label": "label_en"}


class QuestionForm(forms.Form):
    label_en = forms.CharField(label=_("Question (English)"), max_length=LABEL_LENGTH)
    label_fr = forms.CharField(label=_("Question (French)"), max_length=LABEL_LENGTH)
    type = forms.ChoiceField(label=_("Type of answer"), choices=list(TYPES.items()))
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a list: one choice per line, in English and French separated by “|”, e.g. Full time | Temps plein"),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    help_en = forms.CharField(
        label=_("Help (English)"), required=False, max_length=HELP_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    help_fr = forms.CharField(
        label=_("Help (French)"), required=False, max_length=HELP_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, prefix: str = "q", **kwargs: Any) -> None:
        super().__init__(*args, prefix=prefix, **kwargs)

    @classmethod
    def initial_from(cls, field: dict[str, Any]) -> dict[str, Any]:
        """The form's values for an existing question."""
        label, help_text = field.get("label") or {}, field.get("help") or {}
        return {
            "label_en": label.get("en", ""),
            "label_fr": label.get("fr", ""),
            "type": field.get("type"),
            "choices": choices_text(field.get("choices")),
            "required": bool(field.get("required")),
            "help_en": help_text.get("en", ""),
            "help_fr": help_text.get("fr", ""),
        }

    def question(self) -> dict[str, Any]:
        """What the administrator typed, as the question actions take it (choices still text)."""
        data = self.cleaned_data
        question: dict[str, Any] = {
            "type": data["type"],
            "label": {"en": data["label_en"], "fr": data["label_fr"]},
            "help": {"en": data["help_en"], "fr": data["help_fr"]},
            "required": data["required"],
        }
        if data["type"] in CHOICE_TYPES:
            question["choices"] = data["choices"]
        return question


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Questions file (JSON)"), help_text=_("A file downloaded from this page, perhaps edited."))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload.read()


def form_choices(definitions: list[Any], profile_label: str) -> list[tuple[str, str]]:
    """The "Select form to configure" list: the client profile, then every standard form."""
    return [("profile", profile_label)] + [(str(d.pk), f"{localised({'en': d.name_en, 'fr': d.name_fr})}") for d in definitions]


class PickForm(forms.Form):
    form = forms.ChoiceField(label=_("Select form to configure"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].choices = [("", "—"), *choices]
