"""The forms of the Case notes tab: the note itself (with files), and the list's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.casework import notes
from caseload.casework.models import CaseNote, NoteAttachment
from caseload.tenancy.models import Agency, Membership, Program


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (Django's documented pattern); cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads if upload]
        return [upload for upload in cleaned if upload]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.get_full_name() or obj.user.email


def staff_name(membership: Membership | None) -> str:
    if membership is None:
        return str(_("The system"))
    return membership.user.get_full_name() or membership.user.email


class NoteForm(forms.Form):
    note_type = forms.ChoiceField(label=_("Type"), choices=CaseNote.Type.choices, initial=CaseNote.Type.GENERAL)
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )
    contact_date = forms.DateField(label=_("Date of contact"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    body = forms.CharField(
        label=_("Note"),
        max_length=notes.MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown works: **bold**, *italic*, “- ” for a list, [text](https://…) for a link."),
    )
    is_private = forms.BooleanField(
        label=_("Private"), required=False, help_text=_("Only you and your manager will see this note.")
    )
    attachments = MultipleFileField(label=_("Attach files"), required=False)
    remove = forms.ModelMultipleChoiceField(
        label=_("Files on this note"),
        queryset=NoteAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick a file to remove it when you save."),
    )
    field_order = ["note_type", "program", "contact_date", "body", "is_private", "remove", "attachments"]

    def __init__(
        self, *args: Any, agency: Agency, note: CaseNote | None = None, may_set_private: bool = True, **kwargs: Any
    ) -> None:
        if note is not None:
            kwargs.setdefault(
                "initial",
                {
                    "note_type": note.note_type,
                    "program": note.program_id,
                    "contact_date": note.contact_date,
                    "body": note.body,
                    "is_private": note.is_private,
                },
            )
        else:
            kwargs.setdefault("initial", {"contact_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.note = note
        # The agency's active programs, and the note's own one even if it has ended since.
        current = Q(pk=note.program_id) if note is not None and note.program_id else Q(pk__in=[])
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(Q(is_active=True) | current)
        self.fields["attachments"].help_text = _("%(types)s; up to %(max)s each. You can choose several.") % {
            "types": notes.allowed_types_text(),
            "max": filesizeformat(settings.CASEWORK_ATTACHMENT_MAX_BYTES),
        }
        if not may_set_private:
            del self.fields["is_private"]
        if note is None or not note.pk:
            del self.fields["remove"]
        else:
            attached = note.attachments.all()
            if attached:
                self.fields["remove"].queryset = attached
                self.fields["remove"].label_from_instance = lambda a: f"{a.original_name} ({filesizeformat(a.size)})"
            else:
                del self.fields["remove"]

    def clean_attachments(self) -> list:
        uploads = self.cleaned_data.get("attachments") or []
        messages = []
        for upload in uploads:
            try:
                notes.check_upload(upload)
            except ValidationError as error:
                messages.extend(error.message_dict["attachments"])
        if messages:
            raise ValidationError(messages)
        return uploads

    def note_data(self, status: str) -> dict[str, Any]:
        data = {
            name: self.cleaned_data[name]
            for name in ("note_type", "program", "contact_date", "body")
            if name in self.cleaned_data
        }
        if "is_private" in self.fields:
            data["is_private"] = self.cleaned_data.get("is_private", False)
        data["status"] = status
        return data


class NoteFilterForm(forms.Form):
    """The Case notes tab's filters; a bad value is an error on its field and is not applied."""

    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *CaseNote.Type.choices])
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("All programs")
    )
    author = StaffChoiceField(label=_("Author"), queryset=Membership.objects.none(), required=False, empty_label=_("Anyone"))

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.for_agency(agency)
        self.fields["author"].queryset = Membership.objects.for_agency(agency).select_related("user")

    def apply(self, queryset):
        """``queryset`` with the valid filters applied."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("type"):
            queryset = queryset.filter(note_type=data["type"])
        if data.get("program"):
            queryset = queryset.filter(program=data["program"])
        if data.get("author"):
            queryset = queryset.filter(author=data["author"])
        return queryset

    @property
    def in_use(self) -> bool:
        return any(self.data.get(name) for name in self.fields)
