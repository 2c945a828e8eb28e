"""Forms of the supportive services pages: a service, a service type, a grant.

Every choice comes from the request's agency only (a forged primary key of another agency is an
invalid choice naming the field). Forms only parse: the views hand ``cleaned_data`` to the
actions of ``caseload.casework.services``, which check the rules (grant period, budget) and audit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.services import agency_today, money, spent_by_grant
from caseload.tenancy.models import Agency, Funder, Program

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SPACES = (" ", "\xa0", "\u202f")


class MoneyField(forms.DecimalField):
    """An amount in dollars as people type it in their language: ``$1,234.50``, ``1 234,50 $``, ``12.5``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(localize=True, decimal_places=2, min_value=0, **kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace("$", "")
            for space in SPACES:
                value = value.replace(space, "")
            thousands, decimal = formats.get_format("THOUSAND_SEPARATOR"), formats.get_format("DECIMAL_SEPARATOR")
            if thousands.strip() and thousands != decimal:
                value = value.replace(thousands, "")
        return super().to_python(value)


def _offered(queryset, current_pk: int | None):
    """Active rows, plus the one a record already points at (so editing it never loses it)."""
    condition = Q(is_active=True)
    if current_pk is not None:
        condition |= Q(pk=current_pk)
    return queryset.filter(condition)


class GrantChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.spent: dict[int, Any] = {}
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Grant) -> str:
        remaining = max(obj.budget - self.spent.get(obj.pk, 0), 0)
        return str(
            _("%(grant)s — %(remaining)s left, until %(end)s")
            % {"grant": obj.name, "remaining": money(remaining), "end": formats.date_format(obj.ends_on, "SHORT_DATE_FORMAT")}
        )


class ServiceForm(forms.Form):
    service_type = forms.ModelChoiceField(
        label=_("Service"), queryset=SupportServiceType.objects.none(), empty_label=_("Choose a service")
    )
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    amount = MoneyField(
        label=_("Amount"),
        required=False,
        max_digits=10,
        help_text=_("In dollars, for example 45.50. Leave empty for a service that cost nothing."),
    )
    vendor = forms.CharField(
        label=_("Vendor"), max_length=200, required=False, help_text=_("Who provided or was paid for the service.")
    )
    justification = forms.CharField(
        label=_("Justification"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the client needed it. Internal: never shown to the client."),
    )
    grant = GrantChoiceField(label=_("Grant"), queryset=Grant.objects.none(), required=False, empty_label=_("No grant"))
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )
    approve_overspend = forms.BooleanField(
        label=_("Approve the overspend"),
        required=False,
        help_text=_("Only needed when the amount takes the grant beyond its budget. Your approval is recorded."),
    )

    def __init__(
        self, *args: Any, agency: Agency, service: SupportiveService | None = None, may_approve: bool = False, **kwargs: Any
    ) -> None:
        self.agency = agency
        self.service = service
        if service is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(service, name)
                for name in ("service_type", "date", "amount", "vendor", "justification", "grant", "program")
            }
        super().__init__(*args, **kwargs)
        if service is None:
            self.fields["date"].initial = agency_today(agency)
        self.fields["service_type"].queryset = _offered(
            SupportServiceType.objects.for_agency(agency), service and service.service_type_id
        )
        self.fields["program"].queryset = _offered(Program.objects.for_agency(agency), service and service.program_id)
        if agency.grants_management:
            grants = _offered(Grant.objects.for_agency(agency).select_related("funder"), service and service.grant_id)
            self.fields["grant"].queryset = grants
            self.fields["grant"].spent = spent_by_grant(agency)
            self.fields["grant"].help_text = _("The grant the service is paid from. The date must fall within its period.")
        else:
            # Without grants management the field is not offered (the grant a service has stays).
            del self.fields["grant"]
        if not (agency.grants_management and may_approve):
            del self.fields["approve_overspend"]

    def clean_vendor(self) -> str:
        return self.cleaned_data["vendor"].strip()

    def clean_justification(self) -> str:
        return self.cleaned_data["justification"].strip()


class ServiceTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive types stay on services already recorded but are no longer offered."),
    )

    def __init__(self, *args: Any, instance: SupportServiceType | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, "is_active": instance.is_active}
        super().__init__(*args, **kwargs)
        if instance is None:
            del self.fields["is_active"]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class GrantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    funder = forms.ModelChoiceField(label=_("Funder"), queryset=Funder.objects.none(), empty_label=_("Choose a funder"))
    budget = MoneyField(
        label=_("Budget"),
        max_digits=12,
        help_text=_("In dollars: what the grant allows for supportive services."),
    )
    starts_on = forms.DateField(label=_("Starts"), widget=DATE_INPUT)
    ends_on = forms.DateField(
        label=_("Ends"), widget=DATE_INPUT, help_text=_("Services drawn on the grant must be dated within its period.")
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Only active grants are offered for new services.")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, agency: Agency, instance: Grant | None = None, **kwargs: Any) -> None:
        self.agency = agency
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name)
                for name in ("name", "funder", "budget", "starts_on", "ends_on", "is_active", "notes")
            }
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = _offered(Funder.objects.for_agency(agency), instance and instance.funder_id)

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The grant cannot end before it starts."))
        return data
