"""Forms of the agency administration pages.

Every choice (roles, programs, funders, managers) comes from the request's agency only, so a
forged primary key of another agency is an invalid choice, never a link across agencies.
Forms only parse input: they never save. The view hands ``cleaned_data`` to an action, which
validates the model, writes the row and records the audit event.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from typing import Any

from django import forms
from django.conf import global_settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import PERMISSION_GROUPS, PERMISSIONS


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every zoneinfo name, grouped by region (``America/Toronto`` under ``America``)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in sorted(zoneinfo.available_timezones()):
        region = name.split("/", 1)[0] if "/" in name else _("Other")
        groups[str(region)].append((name, name))
    return sorted(groups.items())


def language_choices() -> list[tuple[str, Any]]:
    return sorted(((code, _(name)) for code, name in global_settings.LANGUAGES), key=lambda choice: str(choice[1]))


def permission_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The permission codes of roles.py, grouped under their headings."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, label in PERMISSIONS.items():
        groups[code.split(".", 1)[0]].append((code, label))
    return [(PERMISSION_GROUPS.get(prefix, prefix.title()), choices) for prefix, choices in groups.items()]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.full_name or obj.user.email} ({obj.user.email})"


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.full_name or obj.user.email} ({obj.user.email})"


class AgencyForm(forms.Form):
    """A form of one agency, optionally about one of its rows (``instance``) for initial values."""

    model: type[models.Model] | None = None

    def __init__(self, *args: Any, agency: Agency, instance: models.Model | None = None, **kwargs: Any) -> None:
        self.agency = agency
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)

    def initial_from(self, instance: models.Model) -> dict[str, Any]:
        return forms.model_to_dict(instance, fields=list(self.base_fields))

    def check_unique_name(self, name: str, message: str) -> str:
        """Names are unique per agency (case aside); the same name in another agency is fine."""
        others = self.model.objects.for_agency(self.agency).filter(name__iexact=name)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(message, code="unique")
        return name


class AgencySettingsForm(AgencyForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=language_choices,
        required=False,
        help_text=_("The languages the agency serves clients in. Hold Ctrl (⌘ on a Mac) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor authentication for staff"),
        required=False,
        help_text=_("Staff must set up an authenticator app before they can use the agency."),
    )
    grants_management = forms.BooleanField(
        label=_("Grants management"),
        required=False,
        help_text=_(
            "Supportive services can draw on grants from your funders: each grant shows what is spent and what remains, "
            "and spending beyond a grant's budget needs a manager's approval."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The languages already chosen come first, where they can be seen without scrolling.
        chosen = set(self.initial.get("languages") or [])
        self.fields["languages"].choices = sorted(language_choices(), key=lambda choice: choice[0] not in chosen)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Agency.objects.filter(name__iexact=name).exclude(pk=self.agency.pk).exists():
            raise forms.ValidationError(_("Another agency already has this name."), code="unique")
        return name


class ProgramForm(AgencyForm):
    model = Program

    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Code"), max_length=40, required=False, help_text=_("A short code used in reports and exports."))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    funders = forms.ModelMultipleChoiceField(
        label=_("Funders"), queryset=Funder.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True, help_text=_("Inactive programs are kept for history but not offered for new work."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["funders"].queryset = Funder.objects.for_agency(self.agency)

    def clean_name(self) -> str:
        return self.check_unique_name(self.cleaned_data["name"].strip(), _("A program with this name already exists."))


class FunderForm(AgencyForm):
    model = Funder

    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(
        label=_("Code"), max_length=40, required=False, help_text=_("The funder's identifier for the agency, e.g. an iCARE organisation ID.")
    )
    contact_email = forms.EmailField(label=_("Reporting contact email"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_name(self) -> str:
        return self.check_unique_name(self.cleaned_data["name"].strip(), _("A funder with this name already exists."))


class RoleForm(AgencyForm):
    model = Role

    name = forms.CharField(label=_("Name"), max_length=100)
    permissions = forms.MultipleChoiceField(
        label=_("Permissions"), choices=permission_choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean_name(self) -> str:
        return self.check_unique_name(self.cleaned_data["name"].strip(), _("A role with this name already exists."))

    def permission_groups(self) -> list[dict[str, Any]]:
        """The checkboxes under their headings, for a fieldset per group."""
        checkboxes = {str(widget.data["value"]): widget for widget in self["permissions"]}
        return [
            {"label": label, "checkboxes": [checkboxes[code] for code, _label in choices]}
            for label, choices in permission_choices()
        ]


class MembershipForm(AgencyForm):
    """Role, programs, manager and title of a staff member; the active flag when editing."""

    model = Membership

    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())
    programs = forms.ModelMultipleChoiceField(
        label=_("Programs"),
        queryset=Program.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Programs limit which service records a staff member sees."),
    )
    manager = StaffChoiceField(label=_("Manager"), queryset=Membership.objects.none(), required=False, empty_label=_("No manager"))
    title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, help_text=_("Inactive staff cannot log in to this agency."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.for_agency(self.agency)
        self.fields["programs"].queryset = Program.objects.for_agency(self.agency).filter(
            Q(is_active=True) | Q(pk__in=self.current_programs())
        )
        managers = Membership.objects.for_agency(self.agency).filter(is_active=True).select_related("user")
        if self.instance is not None:
            managers = managers.exclude(pk=self.instance.pk)
        self.fields["manager"].queryset = managers
        if self.instance is None:
            del self.fields["is_active"]

    def current_programs(self) -> list[int]:
        # A program deactivated since stays listed for the staff members who still have it.
        if self.instance is None:
            return []
        return list(self.instance.programs.values_list("pk", flat=True))


class StaffMemberForm(MembershipForm):
    """A new staff member: their email and name, then the membership fields."""

    email = forms.EmailField(label=_("Email"), help_text=_("They will get an email inviting them to set a password."))
    full_name = forms.CharField(
        label=_("Full name"), max_length=200, required=False, help_text=_("Left unchanged if they already have an account.")
    )

    field_order = ["email", "full_name", "role", "title", "manager", "programs"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.for_agency(self.agency).filter(user__email__iexact=email).exists():
            raise forms.ValidationError(
                _("This person is already a staff member of this agency; edit their membership instead."), code="unique"
            )
        return email


class ProgramStaffForm(forms.Form):
    """Add a staff member to a program, or take them off it."""

    membership = StaffChoiceField(label=_("Staff member"), queryset=Membership.objects.none(), empty_label=_("Choose a staff member…"))

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = Membership.objects.for_agency(agency).select_related("user")
