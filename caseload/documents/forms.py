"""The document archive's forms: upload, edit, the attach picker and Document Types."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.documents.models import Document, DocumentType
from caseload.documents.types import offered_types, type_label


class TypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: DocumentType) -> str:
        return type_label(obj)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, Word or an image."))
    document_type = TypeChoiceField(
        label=_("Document type"), queryset=DocumentType.objects.none(), empty_label=_("Choose a document type")
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args: Any, agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = offered_types(agency)


class DocumentEditForm(forms.Form):
    document_type = TypeChoiceField(label=_("Document type"), queryset=DocumentType.objects.none(), empty_label=None)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args: Any, document: Document, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"document_type": document.document_type_id, "description": document.description})
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = offered_types(document.agency, document.document_type)


class DocumentTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    name_fr = forms.CharField(label=_("Name in French"), max_length=120, required=False)
    is_active = forms.BooleanField(
        label=_("Offered"),
        required=False,
        initial=True,
        help_text=_("A type no longer offered stays on the documents already filed under it."),
    )

    def __init__(self, *args: Any, instance: DocumentType | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, "name_fr": instance.name_fr, "is_active": instance.is_active}
        super().__init__(*args, **kwargs)
        if instance is None:
            del self.fields["is_active"]
