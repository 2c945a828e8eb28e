"""Forms of registration, the profile edit page, privacy consent and the privacy statements.

Forms only parse input: the views hand ``cleaned_data`` to an action of ``caseload.clients.actions``,
which checks the rules (anonymity, dates, phones), writes the rows and the audit event.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import global_settings
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from caseload.clients.actions import clean_phone
from caseload.clients.models import (
    AgeRange,
    Client,
    ClientPhone,
    ContactMethod,
    ImmigrationStatus,
    PrivacyConsent,
    ReferralSource,
)
from caseload.clients.views import display_phone

# Languages newcomers often speak that Django's list lacks (code -> name).
EXTRA_LANGUAGES = {
    "am": _("Amharic"),
    "fil": _("Filipino"),
    "gu": _("Gujarati"),
    "ha": _("Hausa"),
    "ht": _("Haitian Creole"),
    "ku": _("Kurdish"),
    "om": _("Oromo"),
    "prs": _("Dari"),
    "ps": _("Pashto"),
    "so": _("Somali"),
    "ti": _("Tigrinya"),
    "tl": _("Tagalog"),
    "yo": _("Yoruba"),
    "zh": _("Chinese"),
}

# The languages settlement and employment agencies in Canada meet most; listed first.
COMMON_LANGUAGES = {
    "en", "fr", "ar", "es", "zh", "pa", "tl", "fil", "fa", "prs", "ps", "ur", "hi", "uk", "ru",
    "so", "ti", "am", "vi", "pt", "ta", "bn", "ko", "tr", "sw",
}

PROVINCES = [
    ("AB", _("Alberta")),
    ("BC", _("British Columbia")),
    ("MB", _("Manitoba")),
    ("NB", _("New Brunswick")),
    ("NL", _("Newfoundland and Labrador")),
    ("NS", _("Nova Scotia")),
    ("NT", _("Northwest Territories")),
    ("NU", _("Nunavut")),
    ("ON", _("Ontario")),
    ("PE", _("Prince Edward Island")),
    ("QC", _("Quebec")),
    ("SK", _("Saskatchewan")),
    ("YT", _("Yukon")),
]

GENDER_SUGGESTIONS = [_("Woman"), _("Man"), _("Non-binary"), _("Two-Spirit"), _("Prefer not to say")]

_POSTAL_CODE = re.compile(r"^([A-Z]\d[A-Z])\s*-?\s*(\d[A-Z]\d)$")


def language_choices() -> list[tuple[str, Any]]:
    """Every language a client may speak, by name in the reader's language."""
    choices = {code: _(name) for code, name in global_settings.LANGUAGES}
    choices.update(EXTRA_LANGUAGES)
    return sorted(choices.items(), key=lambda choice: str(choice[1]).casefold())


def language_label(code: str) -> str:
    """A language code in the reader's language ("fr" -> "French"), or the code itself when unknown."""
    if not code:
        return ""
    if code in EXTRA_LANGUAGES:
        return str(EXTRA_LANGUAGES[code])
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def province_label(code: str) -> str:
    return str(dict(PROVINCES).get(code, code))


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _with_current(choices: list[tuple[str, Any]], current: Any) -> list[tuple[str, Any]]:
    """Keep a stored value that is not (or no longer) among the choices selectable."""
    codes = {code for code, _label in choices}
    extra = [(value, value) for value in (current if isinstance(current, list) else [current]) if value and value not in codes]
    return [*choices, *extra]


class ConsentForm(forms.Form):
    """Step 1 of registration: the client's answer to the privacy statement (or, without a
    statement, whether the client is named or anonymous). Sent by GET, then carried along hidden."""

    ACCEPTED, DECLINED = "accepted", "declined"

    statement = forms.IntegerField(required=False, widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Does the client accept the privacy statement?"),
        widget=forms.RadioSelect,
        choices=[
            (ACCEPTED, _("Yes: the client accepts it. Register a named client.")),
            (DECLINED, _("No: the client does not accept it. Register an anonymous client.")),
        ],
    )
    method = forms.ChoiceField(
        label=_("How was the answer given?"),
        widget=forms.RadioSelect,
        choices=[(value, label) for value, label in PrivacyConsent.Method.choices if value != PrivacyConsent.Method.PORTAL],
        initial=PrivacyConsent.Method.IN_PERSON,
        required=False,
    )

    def __init__(self, *args: Any, has_statement: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_statement = has_statement
        if not has_statement:
            self.fields["decision"].label = _("What kind of client are you registering?")
            self.fields["decision"].choices = [
                (self.ACCEPTED, _("A named client, with their details")),
                (self.DECLINED, _("An anonymous client: only what reporting needs")),
            ]
            del self.fields["method"]

    def clean_method(self) -> str:
        return self.cleaned_data.get("method") or PrivacyConsent.Method.IN_PERSON

    @property
    def named(self) -> bool:
        return self.cleaned_data.get("decision") == self.ACCEPTED


class ProfileForm(forms.Form):
    """The named client's profile: only a name is required; the rest fills in over time."""

    given_name = forms.CharField(label=_("Given name"), max_length=120, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=120, required=False)
    preferred_name = forms.CharField(
        label=_("Preferred name"), max_length=120, required=False, help_text=_("What the client likes to be called.")
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=_date_input())
    gender = forms.CharField(
        label=_("Gender"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "gender-suggestions", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(
        label=_("Main phone"),
        max_length=40,
        required=False,
        help_text=_("Any format. Numbers without a country code are read as Canadian."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    street_address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    province = forms.ChoiceField(label=_("Province or territory"), required=False, choices=[("", "—"), *PROVINCES])
    postal_code = forms.CharField(
        label=_("Postal code"), max_length=12, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"), required=False)
    spoken_languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "language-choice"}),
        help_text=_("Tick every language the client speaks. The ones newcomers speak most often come first."),
    )
    immigration_status = forms.ChoiceField(
        label=_("Immigration status"), required=False, choices=[("", "—"), *ImmigrationStatus.choices]
    )
    arrival_date = forms.DateField(label=_("Arrival date in Canada"), required=False, widget=_date_input())
    preferred_contact_method = forms.ChoiceField(
        label=_("Preferred contact method"), required=False, choices=[("", "—"), *ContactMethod.choices]
    )
    consent_email = forms.BooleanField(label=_("Agrees to be contacted by email"), required=False)
    consent_sms = forms.BooleanField(label=_("Agrees to be contacted by text message"), required=False)
    emergency_contact_name = forms.CharField(label=_("Emergency contact"), max_length=200, required=False)
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    emergency_contact_relationship = forms.CharField(label=_("Relationship to client"), max_length=80, required=False)
    referral_source = forms.ChoiceField(label=_("Referral source"), required=False, choices=[("", "—"), *ReferralSource.choices])
    referral_source_detail = forms.CharField(
        label=_("Referred by"), max_length=200, required=False, help_text=_("The person or organisation that sent the client.")
    )
    general_notes = forms.CharField(label=_("General notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    # The sections of the form page: (heading, field names).
    SECTIONS = [
        (_("Identity"), ["given_name", "family_name", "preferred_name", "date_of_birth", "gender"]),
        (_("Contact"), ["email", "phone"]),
        (_("Address"), ["street_address", "city", "province", "postal_code"]),
        (_("Languages and immigration"), ["preferred_language", "spoken_languages", "immigration_status", "arrival_date"]),
        (_("Contact preferences"), ["preferred_contact_method", "consent_email", "consent_sms"]),
        (_("Emergency contact"), ["emergency_contact_name", "emergency_contact_phone", "emergency_contact_relationship"]),
        (_("Referral and notes"), ["referral_source", "referral_source_detail", "general_notes"]),
    ]

    def __init__(self, *args: Any, instance: Client | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in self.base_fields}
            for name in ("phone", "emergency_contact_phone"):
                kwargs["initial"][name] = display_phone(kwargs["initial"].get(name, ""))
        super().__init__(*args, **kwargs)
        languages = language_choices()
        self.fields["preferred_language"].choices = [("", "—"), *_with_current(languages, self.initial.get("preferred_language"))]
        # The languages already chosen come first, then the most common ones, where they can be
        # seen without scrolling the list.
        spoken = set(self.initial.get("spoken_languages") or [])
        self.fields["spoken_languages"].choices = sorted(
            _with_current(languages, list(spoken)),
            key=lambda choice: (choice[0] not in spoken, choice[0] not in COMMON_LANGUAGES),
        )
        self.fields["province"].choices = _with_current(self.fields["province"].choices, self.initial.get("province"))

    gender_suggestions = GENDER_SUGGESTIONS

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(heading, [self[name] for name in names if name in self.fields]) for heading, names in self.SECTIONS]

    def _phone(self, name: str) -> str:
        try:
            return clean_phone(self.cleaned_data.get(name, ""), name)
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict[name]) from None

    def clean_phone(self) -> str:
        return self._phone("phone")

    def clean_emergency_contact_phone(self) -> str:
        return self._phone("emergency_contact_phone")

    def clean_postal_code(self) -> str:
        raw = self.cleaned_data.get("postal_code", "").strip().upper()
        if not raw:
            return ""
        found = _POSTAL_CODE.match(raw)
        if not found:
            raise forms.ValidationError(_("Enter a Canadian postal code, like K1A 0B1."), code="invalid")
        return f"{found[1]} {found[2]}"

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born and born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."), code="invalid")
        return born

    def clean_arrival_date(self):
        arrived = self.cleaned_data.get("arrival_date")
        if arrived and arrived > timezone.localdate():
            raise forms.ValidationError(_("The arrival date cannot be in the future."), code="invalid")
        return arrived

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "given_name" in self.fields and not (data.get("given_name", "").strip() or data.get("family_name", "").strip()):
            self.add_error("given_name", forms.ValidationError(_("Enter a given name or a family name."), code="required"))
        born, arrived = data.get("date_of_birth"), data.get("arrival_date")
        if born and arrived and arrived < born:
            self.add_error(
                "arrival_date", forms.ValidationError(_("The arrival date cannot be before the date of birth."), code="invalid")
            )
        return data


class AnonymousProfileForm(ProfileForm):
    """An anonymous client: only what reporting needs, nothing that identifies them."""

    age_range = forms.ChoiceField(label=_("Age range"), required=False, choices=[("", "—"), *AgeRange.choices])

    SECTIONS = [
        (
            _("What reporting needs"),
            ["age_range", "gender", "preferred_language", "spoken_languages", "immigration_status", "referral_source"],
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep = {name for _heading, names in self.SECTIONS for name in names}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]


class PhoneForm(forms.Form):
    number = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    )
    kind = forms.ChoiceField(label=_("Type"), choices=ClientPhone.Kind.choices, initial=ClientPhone.Kind.MOBILE)

    def clean_number(self) -> str:
        try:
            return clean_phone(self.cleaned_data.get("number", ""), "number")
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["number"]) from None


PhoneFormSet = forms.formset_factory(PhoneForm, extra=2, max_num=10, validate_max=True)


def phone_formset(data: Any = None, client: Client | None = None) -> forms.BaseFormSet:
    """The additional phones, with two blank rows to add more (a cleared row is removed on save)."""
    initial = (
        [{"number": display_phone(phone.number), "kind": phone.kind} for phone in client.phones.all()]
        if client is not None
        else []
    )
    if data is not None and "phones-TOTAL_FORMS" not in data:
        # A post without the phone rows (not from our page) leaves the phones as they are.
        data = None
    return PhoneFormSet(data, initial=initial, prefix="phones")


def phones_valid(formset: forms.BaseFormSet | None) -> bool:
    return formset is None or not formset.is_bound or formset.is_valid()


def phones_of(formset: forms.BaseFormSet | None) -> list[dict[str, str]] | None:
    """The phones posted, or None when the post did not include them."""
    if formset is None or not formset.is_bound:
        return None
    return [
        {"number": form.cleaned_data["number"], "kind": form.cleaned_data["kind"]}
        for form in formset.forms
        if form.cleaned_data.get("number")
    ]


class RecordConsentForm(forms.Form):
    """The client's answer to the current privacy statement, recorded after registration."""

    accepted = forms.TypedChoiceField(
        label=_("Does the client accept the privacy statement?"),
        widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
        choices=[("yes", _("Yes, the client accepts it")), ("no", _("No, the client does not accept it"))],
    )
    method = forms.ChoiceField(
        label=_("How was the answer given?"),
        widget=forms.RadioSelect,
        choices=[(value, label) for value, label in PrivacyConsent.Method.choices if value != PrivacyConsent.Method.PORTAL],
        initial=PrivacyConsent.Method.IN_PERSON,
    )


class PrivacyStatementForm(forms.Form):
    version = forms.CharField(
        label=_("Version"), max_length=20, help_text=_("A short label clients' answers refer to, like 2026-1 or v3.")
    )
    text = forms.CharField(label=_("Statement (English)"), widget=forms.Textarea(attrs={"rows": 8}))
    text_fr = forms.CharField(
        label=_("Statement (French)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Shown to staff working in French. Leave empty to show the English text."),
    )
