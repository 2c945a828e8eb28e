"""Message templates: the agency's wording of the messages it sends clients, per channel and
language, with placeholders filled in when a message is written.

Placeholders: {preferred_name} (the client's preferred or given name), {checkpoint} (e.g. "3-month
follow-up"), {due_date}, {link} (the survey's secure link) and {agency}. A template is checked when
it is saved: only these placeholders, in braces, and a survey message must carry {link}.

``check_template`` is that check (a ValidationError naming the field), ``render`` fills a template
for one message, ``sms_segments`` says how many SMS a text takes (GSM-7 or UCS-2), and
``template_for`` finds the agency's template for a message, falling back to English and then to
the built-in wording (``DEFAULTS``). The survey-sending code calls these four by name.
"""

from __future__ import annotations

import datetime
import difflib
import math
import string
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

# (purpose, channel, language) -> (subject, body). The wording every new agency starts with.
DEFAULTS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("survey", "email", "en"): (
        "{agency}: how are things going?",
        "Hello {preferred_name},\n\nIt has been a while since you finished your program with {agency}. "
        "Please tell us how things are going for your {checkpoint}: it takes about three minutes.\n\n{link}\n\n"
        "The link works only for you and expires on {due_date}.\n\nThank you,\n{agency}",
    ),
    ("survey", "email", "fr"): (
        "{agency} : comment ça va?",
        "Bonjour {preferred_name},\n\nVous avez terminé votre programme avec {agency} il y a quelque temps. "
        "Dites-nous comment ça va pour votre {checkpoint} : cela prend environ trois minutes.\n\n{link}\n\n"
        "Ce lien ne fonctionne que pour vous et expire le {due_date}.\n\nMerci,\n{agency}",
    ),
    ("survey", "sms", "en"): ("", "{agency}: hi {preferred_name}, please answer our short follow-up survey: {link}"),
    ("survey", "sms", "fr"): ("", "{agency} : bonjour {preferred_name}, répondez à notre court sondage de suivi : {link}"),
    ("survey_reminder", "email", "en"): (
        "Reminder: {agency} follow-up survey",
        "Hello {preferred_name},\n\nA reminder: your {checkpoint} survey is still waiting for your answers.\n\n{link}\n\n"
        "Thank you,\n{agency}",
    ),
    ("survey_reminder", "email", "fr"): (
        "Rappel : sondage de suivi de {agency}",
        "Bonjour {preferred_name},\n\nUn rappel : votre sondage de {checkpoint} attend toujours vos réponses.\n\n{link}\n\n"
        "Merci,\n{agency}",
    ),
    ("survey_reminder", "sms", "en"): ("", "{agency}: a reminder to answer your follow-up survey: {link}"),
    ("survey_reminder", "sms", "fr"): ("", "{agency} : un rappel pour répondre à votre sondage de suivi : {link}"),
}


def seed_templates(agency) -> None:
    """Give a new agency the default templates (existing ones are left as they are)."""
    from caseload.messaging.models import MessageTemplate

    for (purpose, channel, language), (subject, body) in DEFAULTS.items():
        MessageTemplate.objects.for_agency(agency).get_or_create(
            agency=agency, purpose=purpose, channel=channel, language=language, defaults={"subject": subject, "body": body}
        )


# --- Placeholders ----------------------------------------------------------------------------------

PLACEHOLDERS: dict[str, Any] = {
    "preferred_name": gettext_lazy("The client's preferred name (their given name when they have none)."),
    "checkpoint": gettext_lazy("The checkpoint, e.g. “3-month follow-up”."),
    "due_date": gettext_lazy("The date the survey link expires."),
    "link": gettext_lazy("The client's secure survey link (needed in every survey message)."),
    "agency": gettext_lazy("The agency's name."),
}
# The order placeholders are offered in (and named in error messages).
PLACEHOLDER_ORDER = ["preferred_name", "checkpoint", "due_date", "link", "agency"]

# Purposes whose messages carry the survey link.
NEEDS_LINK = {"survey", "survey_reminder"}

SUBJECT_MAX = 250  # the model's column
EMAIL_BODY_MAX = 10_000
SMS_BODY_MAX = 600  # about four GSM-7 segments before the placeholders are filled


def _placeholder_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDER_ORDER)


def placeholders_in(text: str) -> list[str]:
    """The placeholder names used in ``text``, in order (raises ValueError on unbalanced braces)."""
    return [field for _literal, field, _spec, _conversion in string.Formatter().parse(text) if field is not None]


def _check_text(text: str) -> list[str]:
    """The problems of one text's placeholders, as messages (empty when it is fine)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return [_("Unbalanced braces: every placeholder is a name between { and }, e.g. {preferred_name}.")]
    problems = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "":
            problems.append(_("Empty placeholder {}: use %(placeholders)s.") % {"placeholders": _placeholder_list()})
            continue
        if field not in PLACEHOLDERS:
            message = _("Unknown placeholder {%(name)s}: use %(placeholders)s.") % {
                "name": field,
                "placeholders": _placeholder_list(),
            }
            close = difflib.get_close_matches(field, PLACEHOLDER_ORDER, n=1)
            if close:
                message += " " + _("Did you mean {%(name)s}?") % {"name": close[0]}
            problems.append(message)
            continue
        if spec or conversion:
            problems.append(_("Write the placeholder as {%(name)s}, with nothing else between the braces.") % {"name": field})
    return problems


def check_template(purpose: str, channel: str, subject: str, body: str) -> None:
    """Refuse a template that could not be sent as it is: raises ValidationError ``{field: [messages]}``.

    Only the known placeholders, in balanced braces; a survey message carries ``{link}``; an email
    has a subject, an SMS has none; subject and body within their lengths.
    """
    subject = subject or ""
    body = body or ""
    errors: dict[str, list[str]] = {}
    if channel == "sms":
        if subject.strip():
            errors.setdefault("subject", []).append(_("A text message has no subject: leave it empty."))
    elif not subject.strip():
        errors.setdefault("subject", []).append(_("An email needs a subject."))
    elif len(subject) > SUBJECT_MAX:
        errors.setdefault("subject", []).append(_("Keep the subject under %(limit)d characters.") % {"limit": SUBJECT_MAX})
    if subject.strip():
        errors.setdefault("subject", []).extend(_check_text(subject))
    if not body.strip():
        errors.setdefault("body", []).append(_("Write the message."))
    else:
        limit = SMS_BODY_MAX if channel == "sms" else EMAIL_BODY_MAX
        if len(body) > limit:
            errors.setdefault("body", []).append(
                _("Keep the message under %(limit)d characters (it has %(count)d).") % {"limit": limit, "count": len(body)}
            )
        problems = _check_text(body)
        errors.setdefault("body", []).extend(problems)
        if not problems and purpose in NEEDS_LINK and "link" not in placeholders_in(body):
            errors["body"].append(_("A survey message must contain {link}: without it the client cannot answer."))
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)


# --- Filling a template ----------------------------------------------------------------------------


def fill(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with each known placeholder replaced by ``str(context[name])`` (empty when missing).

    No attribute or index access and no format specs, whatever the text holds: only the names of
    PLACEHOLDERS are looked up, and an unknown one stays as it was written. Braces inside the
    values are kept as they are. A text whose braces do not balance is returned unchanged.
    """
    try:
        parsed = list(string.Formatter().parse(text or ""))
    except ValueError:
        return text or ""
    out = []
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        if field in PLACEHOLDERS and not spec and not conversion:
            value = context.get(field)
            out.append("" if value is None else str(value))
        else:
            out.append("{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}")
    return "".join(out)


def render(template_or_texts: Any, context: Mapping[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` of a message: a MessageTemplate, a ``(subject, body)`` pair or a mapping
    with ``subject`` and ``body``, filled with ``context`` (see ``fill``)."""
    if isinstance(template_or_texts, Mapping):
        subject, body = template_or_texts.get("subject", ""), template_or_texts.get("body", "")
    elif isinstance(template_or_texts, tuple | list):
        subject, body = template_or_texts
    else:
        subject, body = template_or_texts.subject, template_or_texts.body
    return fill(subject, context).strip(), fill(body, context)


# --- SMS length ------------------------------------------------------------------------------------

# GSM 03.38: the basic character set (one septet each) and its extension table (escape + one
# septet: two each). A text with any other character is sent as UCS-2 (UTF-16 code units).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7, UCS2 = "GSM-7", "UCS-2"
# (characters in a single message, characters per part of a longer one): a longer message
# carries a header in each part.
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def sms_encoding(text: str) -> str:
    """ "GSM-7" when every character is in the GSM 03.38 alphabet (with its extension), else "UCS-2"."""
    return GSM7 if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else UCS2


def _units(text: str, encoding: str) -> list[int]:
    """What each character costs: GSM-7 septets (2 for the extension table) or UTF-16 code units."""
    if encoding == GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_segments(text: str) -> tuple[int, str, int]:
    """``(segments, encoding, characters)`` of an SMS: how many messages it is billed as.

    GSM-7 fits 160 characters in one SMS and 153 per part beyond that (the extension characters
    € [ ] { } ^ ~ | \\ count two); any other character makes the whole text UCS-2: 70 in one,
    67 per part. A character never splits across parts. An empty text is zero segments.
    """
    text = text or ""
    encoding = sms_encoding(text)
    units = _units(text, encoding)
    characters = sum(units)
    single, part = LIMITS[encoding]
    if characters == 0:
        return 0, encoding, 0
    if characters <= single:
        return 1, encoding, characters
    segments, used = 1, 0
    for cost in units:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return max(segments, math.ceil(characters / part)), encoding, characters


def sms_summary(text: str) -> str:
    """A sentence for the editor: "1 SMS (GSM-7, 98 of 160 characters)"."""
    segments, encoding, characters = sms_segments(text)
    single, part = LIMITS[encoding]
    if segments <= 1:
        summary = _("1 SMS (%(encoding)s, %(count)d of %(limit)d characters)") % {
            "encoding": encoding,
            "count": characters,
            "limit": single,
        }
    else:
        summary = _("%(segments)d SMS (%(encoding)s, %(count)d characters, %(part)d per part)") % {
            "segments": segments,
            "encoding": encoding,
            "count": characters,
            "part": part,
        }
    if encoding == UCS2:
        summary += " " + _("This message uses characters outside GSM-7, so each SMS holds fewer characters.")
    return summary


# --- Finding an agency's template ------------------------------------------------------------------


def base_language(language: str | None) -> str:
    return (language or "").split("-")[0].lower() or "en"


def default_texts(purpose: str, channel: str, language: str) -> tuple[str, str]:
    """The built-in ``(subject, body)`` for a template, in English when the language has none."""
    language = base_language(language)
    return DEFAULTS.get((purpose, channel, language)) or DEFAULTS[(purpose, channel, "en")]


def template_for(agency, purpose: str, channel: str, language: str | None):
    """The agency's template for a message: in ``language``, else in English, else an unsaved
    MessageTemplate with the built-in wording (``DEFAULTS``)."""
    from caseload.messaging.models import MessageTemplate

    language = base_language(language)
    rows = MessageTemplate.objects.for_agency(agency).filter(purpose=purpose, channel=channel, language__in=[language, "en"])
    by_language = {row.language: row for row in rows}
    found = by_language.get(language) or by_language.get("en")
    if found is not None:
        return found
    in_defaults = language if (purpose, channel, language) in DEFAULTS else "en"
    subject, body = default_texts(purpose, channel, in_defaults)
    return MessageTemplate(agency=agency, purpose=purpose, channel=channel, language=in_defaults, subject=subject, body=body)


EXAMPLE_NAME = "Amina"


def example_context(agency, language: str | None) -> dict[str, str]:
    """Sample values for a preview: a client's name, "3-month follow-up", a date two weeks from
    the agency's today in the language's format, a sample link and the agency's name."""
    from caseload.casework.records import agency_today

    language = base_language(language)
    due = agency_today(agency) + datetime.timedelta(days=14)
    with translation.override(language):
        checkpoint = pgettext("checkpoint example", "3-month follow-up")
        due_date = formats.date_format(due, "DATE_FORMAT")
    return {
        "preferred_name": EXAMPLE_NAME,
        "checkpoint": checkpoint,
        "due_date": due_date,
        "link": f"{settings.SITE_URL}/s/Xk4pQ9rT2mWz/",
        "agency": agency.name,
    }
