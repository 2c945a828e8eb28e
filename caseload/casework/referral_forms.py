"""Forms of the service referral pages and of the referral directory.

Choices come from the request's agency only, so another agency's program or service is an invalid
choice naming the field. The forms only parse: the views hand ``data()`` to the actions of
``caseload.casework.referrals`` and ``caseload.casework.directory``, which check the rules.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django import forms
from django.db import models
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from caseload.casework import directory
from caseload.casework.models import (
    DirectoryContact,
    DirectoryLocation,
    DirectoryOrganisation,
    DirectoryService,
    ServiceReferral,
)
from caseload.casework.referrals import reminder_refusal
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Program

DATE_WIDGET = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
Kind = ServiceReferral.Kind
Status = ServiceReferral.Status


def _grouped(rows, label) -> list[tuple[str, list[tuple[str, str]]]]:
    """Select choices grouped by organisation (an <optgroup> each)."""
    groups: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    for row in rows:
        groups.setdefault(row.organisation.name, []).append((str(row.pk), label(row)))
    return list(groups.items())


class RowChoiceField(forms.ChoiceField):
    """A grouped select whose value is a row of ``rows`` (a dict pk -> row); anything else is an invalid choice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.rows: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return value or None

    def validate(self, value: Any) -> None:
        if value in (None, ""):
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return
        if str(value) not in self.rows:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        return self.rows.get(str(value)) if value else None


def _location_label(location: DirectoryLocation) -> str:
    address = ", ".join(part for part in (location.address_1, location.city) if part)
    return f"{location.name} — {address}" if address and address != location.name else location.name


def _contact_label(contact: DirectoryContact) -> str:
    extra = " · ".join(part for part in (contact.title, contact.phone) if part)
    return f"{contact.name} ({extra})" if extra else contact.name


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label=_("Refer to"), choices=Kind.choices, widget=forms.RadioSelect, initial=Kind.EXTERNAL)
    to_program = forms.ModelChoiceField(
        label=_("Program"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=_("Choose a program"),
        help_text=_("For a referral to another program of your agency."),
    )
    service = RowChoiceField(
        label=_("Service"),
        required=False,
        help_text=_("For a referral to an outside service: from your agency's directory, by organisation."),
    )
    location = RowChoiceField(label=_("Location"), required=False, help_text=_("Where the client should go (optional)."))
    contact = RowChoiceField(label=_("Contact"), required=False, help_text=_("Who the client should ask for (optional)."))
    reason = forms.CharField(label=_("Reason for referral"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
    referred_on = forms.DateField(label=_("Date referred"), **DATE_WIDGET)
    follow_up_on = forms.DateField(
        label=_("Follow up on"),
        required=False,
        help_text=_("You get an email reminder on this day if the referral is still open."),
        **DATE_WIDGET,
    )
    remind_client = forms.BooleanField(label=_("Remind the client too"), required=False)
    program = forms.ModelChoiceField(
        label=_("Referring program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        client: Client,
        referral: ServiceReferral | None = None,
        service_hint: str = "",
        **kwargs: Any,
    ) -> None:
        self.agency, self.client, self.referral = agency, client, referral
        if referral is not None:
            kwargs.setdefault("initial", {}).update(
                {
                    "kind": referral.kind,
                    "to_program": referral.to_program_id,
                    "service": str(referral.service_id or ""),
                    "location": str(referral.location_id or ""),
                    "contact": str(referral.contact_id or ""),
                    "reason": referral.reason,
                    "referred_on": referral.referred_on,
                    "follow_up_on": referral.follow_up_on,
                    "remind_client": referral.remind_client,
                    "program": referral.program_id,
                }
            )
        super().__init__(*args, **kwargs)
        programs = Program.objects.for_agency(agency).filter(is_active=True).order_by("name")
        self.fields["to_program"].queryset = programs
        self.fields["program"].queryset = programs
        services = list(directory.offered_services(agency))
        if referral is not None and referral.service_id and referral.service_id not in {s.pk for s in services}:
            services.append(referral.service)  # no longer offered, still where this referral went
        service_field: RowChoiceField = self.fields["service"]
        service_field.rows = {str(s.pk): s for s in services}
        service_field.choices = [("", _("Choose a service")), *_grouped(services, lambda s: s.name)]

        # Locations and contacts: all of the directory's, or only the chosen service's organisation's.
        chosen = (
            service_hint
            or (self.data.get("service") if self.is_bound else "")
            or (str(referral.service_id) if referral and referral.service_id else "")
        )
        organisation_id = service_field.rows[chosen].organisation_id if chosen in service_field.rows else None
        locations = (
            DirectoryLocation.objects.for_agency(agency)
            .filter(is_active=True, organisation__is_active=True)
            .select_related("organisation")
        )
        contacts = (
            DirectoryContact.objects.for_agency(agency)
            .filter(is_active=True, organisation__is_active=True)
            .select_related("organisation")
        )
        if organisation_id is not None:
            locations, contacts = (
                locations.filter(organisation_id=organisation_id),
                contacts.filter(organisation_id=organisation_id),
            )
        locations = list(locations.order_by("organisation__name", "name"))
        contacts = list(contacts.order_by("organisation__name", "name"))
        for rows, name in ((locations, "location"), (contacts, "contact")):
            current = getattr(referral, name) if referral is not None else None
            if current is not None and current.pk not in {r.pk for r in rows}:
                rows.append(current)
        self.fields["location"].rows = {str(loc.pk): loc for loc in locations}
        self.fields["location"].choices = [("", _("No location")), *_grouped(locations, _location_label)]
        self.fields["contact"].rows = {str(c.pk): c for c in contacts}
        self.fields["contact"].choices = [("", _("No contact")), *_grouped(contacts, _contact_label)]
        self.narrowed_to = organisation_id

        self.reminder_refusal = reminder_refusal(client)
        remind = self.fields["remind_client"]
        if self.reminder_refusal and not (referral is not None and referral.remind_client):
            remind.disabled = True
            remind.help_text = self.reminder_refusal
        else:
            remind.help_text = _(
                "On the follow-up day, by their preferred channel: the service's name, where it is and its phone number — nothing else."
            )

        if referral is not None and referral.status != Status.SENT:
            # Where the client was referred is settled once the service answered.
            for name in ("kind", "to_program", "service"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Settled once the referral was answered.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind == Kind.INTERNAL and not data.get("to_program") and "to_program" not in self.errors:
            self.add_error("to_program", _("Choose the program the client is referred to."))
        if kind == Kind.EXTERNAL and not data.get("service") and "service" not in self.errors:
            self.add_error("service", _("Choose the service the client is referred to."))
        return data

    def data_for_action(self) -> dict[str, Any]:
        data = self.cleaned_data
        external = data["kind"] == Kind.EXTERNAL
        values = {
            "kind": data["kind"],
            "to_program": None if external else data.get("to_program"),
            "service": data.get("service") if external else None,
            "location": data.get("location") if external else None,
            "contact": data.get("contact") if external else None,
            "reason": data["reason"],
            "referred_on": data["referred_on"],
            "follow_up_on": data.get("follow_up_on"),
            "remind_client": bool(data.get("remind_client")),
            "program": data.get("program"),
        }
        if self.referral is not None and self.referral.status != Status.SENT:
            for name in ("kind", "to_program", "service"):
                values.pop(name)
        return values


class RespondForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"), choices=[(Status.ACCEPTED, _("Accepted")), (Status.DECLINED, _("Declined"))], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("What the service said"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional; kept as the referral's outcome."),
    )


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"), choices=[(Status.COMPLETED, _("Completed")), (Status.NO_SHOW, _("No-show"))], widget=forms.RadioSelect
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What came of the referral. Required when it was completed."),
    )


class CancelForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is cancelled"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))


# --- The directory -------------------------------------------------------------------------------


def _formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class _DirectoryForm(forms.ModelForm):
    """A directory row's form: parses only (the view calls the directory action with ``cleaned_data``).

    Never bound to the row itself (a ModelForm would change it before the action's audit snapshot):
    an existing row's values come in as ``initial``.
    """

    def __init__(self, *args: Any, row: Any = None, organisation: DirectoryOrganisation | None = None, **kwargs: Any) -> None:
        self.row, self.organisation = row, organisation
        if row is not None:
            kwargs.setdefault("initial", {}).update(model_to_dict(row, fields=self._meta.fields))
        super().__init__(*args, **kwargs)
        if "is_active" in self.fields:
            self.fields["is_active"].help_text = _("Inactive entries stay on past referrals but are not offered for new ones.")
            if row is None:
                del self.fields["is_active"]

    def _post_clean(self) -> None:
        pass  # the action validates the row (with its agency and organisation)

    def data_for_action(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class OrganisationForm(_DirectoryForm):
    class Meta:
        model = DirectoryOrganisation
        formfield_callback = _formfield
        fields = ["name", "description", "phone", "email", "website", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ServiceForm(_DirectoryForm):
    class Meta:
        model = DirectoryService
        formfield_callback = _formfield
        fields = ["name", "description", "eligibility", "phone", "email", "url", "is_active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "eligibility": forms.Textarea(attrs={"rows": 2})}


class LocationForm(_DirectoryForm):
    services = forms.ModelMultipleChoiceField(
        label=_("Services offered here"),
        queryset=DirectoryService.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = DirectoryLocation
        fields = ["name", "address_1", "city", "state_province", "postal_code", "country", "services", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.fields["services"]
        services.queryset = (
            DirectoryService.objects.for_agency(self.organisation.agency).filter(organisation=self.organisation).order_by("name")
        )
        services.help_text = _("The services of this organisation offered at this location.")
        if not services.queryset.exists():
            del self.fields["services"]


class ContactForm(_DirectoryForm):
    service = forms.ModelChoiceField(label=_("Service"), queryset=DirectoryService.objects.none(), required=False)

    class Meta:
        model = DirectoryContact
        fields = ["name", "title", "phone", "email", "service", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        service.queryset = (
            DirectoryService.objects.for_agency(self.organisation.agency).filter(organisation=self.organisation).order_by("name")
        )
        service.empty_label = _("The whole organisation")
        service.help_text = _("The service this person answers for, if only one.")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("HSDS file (.json)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
        help_text=_("A directory exported as Open Referral HSDS JSON, for example by a 211 service or a funder."),
    )
