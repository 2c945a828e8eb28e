"""Forms of the profile's Actions menu pages (assign staff, safety flag, CaMS, enrolments).

Every choice comes from the request's agency (and the client) only, so a forged primary key of
another agency is an invalid choice naming the field. Forms only parse: the view hands
``cleaned_data`` to an action of ``caseload.clients.actions``, which checks the rules and audits.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client, Enrolment
from caseload.tenancy.models import Membership, Program


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        name = obj.user.full_name or obj.user.email
        return f"{name} — {obj.title}" if obj.title else name


class EnrolmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Enrolment) -> str:
        return str(_("%(program)s, since %(date)s") % {"program": obj.program.name, "date": obj.start_date.isoformat()})


def staff_choices(client: Client):
    return (
        Membership.objects.for_agency(client.agency)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def assigned_staff(client: Client):
    return (
        Membership.objects.for_agency(client.agency)
        .filter(client_assignments__client=client)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


class ClientActionForm(forms.Form):
    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        self.client = client
        super().__init__(*args, **kwargs)


class ConfirmForm(ClientActionForm):
    """A confirmation with nothing to fill in (archive, unlink, portal emails)."""


class AssignForm(ClientActionForm):
    staff = StaffChoiceField(label=_("Staff member"), queryset=Membership.objects.none(), empty_label=_("Choose a staff member"))
    is_primary = forms.BooleanField(
        label=_("Primary staff member"),
        required=False,
        help_text=_("The main person working with the client. A client's first staff member is always primary."),
    )
    replaces = StaffChoiceField(
        label=_("Instead of"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Nobody: add to the client's staff"),
        help_text=_("To reassign the client, choose who this staff member takes over from."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_choices(self.client)
        assigned = assigned_staff(self.client)
        self.fields["replaces"].queryset = assigned
        if not assigned.exists():
            del self.fields["replaces"]


class UnassignForm(ClientActionForm):
    staff = StaffChoiceField(
        label=_("Staff member to remove"), queryset=Membership.objects.none(), widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = assigned_staff(self.client)


class FlagForm(ClientActionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What staff must know before meeting the client. Staff see it on every page about the client; the client never does."
        ),
    )


class UnflagForm(ClientActionForm):
    reason = forms.CharField(
        label=_("Why the flag is removed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the client's history with the flag."),
    )


class CamsForm(ClientActionForm):
    cams_number = forms.CharField(
        label=_("CaMS reference number"),
        max_length=40,
        help_text=_("The client's number in CaMS, the Employment Ontario case management system: 6 to 12 digits."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class EnrolForm(ClientActionForm):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none(), empty_label=_("Choose a program"))
    start_date = forms.DateField(
        label=_("Start date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        open_programs = (
            Enrolment.objects.for_agency(self.client.agency).filter(client=self.client, end_date__isnull=True).values("program")
        )
        self.fields["program"].queryset = (
            Program.objects.for_agency(self.client.agency).filter(is_active=True).exclude(pk__in=open_programs)
        )


class EndEnrolmentForm(ClientActionForm):
    enrolment = EnrolmentChoiceField(
        label=_("Enrolment"), queryset=Enrolment.objects.none(), widget=forms.RadioSelect, empty_label=None
    )
    end_date = forms.DateField(label=_("End date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enrolment"].queryset = (
            Enrolment.objects.for_agency(self.client.agency)
            .filter(client=self.client, end_date__isnull=True)
            .select_related("program")
        )
