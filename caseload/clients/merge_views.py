"""Merge pages (administrators, ``clients.merge``): find the other profile, compare the two side
by side, choose which one is kept, confirm; the merge history, where a merge is undone.

Thin views over ``caseload.clients.merging``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import Action, record
from caseload.clients import merging
from caseload.clients.models import Client, Merge
from caseload.clients.profile_forms import language_label
from caseload.clients.queries import likely_duplicates, search_clients
from caseload.clients.views import birth_text, client_frame, display_phone, legal_name
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.web.tables import Column, Table, table_response

CLIENTS_MERGE = "clients.merge"
SEARCH_LIMIT = 20

# The rows of the side-by-side comparison: (key, label, how to show a client's value).
COMPARED = [
    ("client_number", gettext_lazy("Client number"), lambda c: str(c.client_number)),
    ("given_name", gettext_lazy("Given name"), lambda c: c.given_name),
    ("family_name", gettext_lazy("Family name"), lambda c: c.family_name),
    ("preferred_name", gettext_lazy("Preferred name"), lambda c: c.preferred_name),
    ("date_of_birth", gettext_lazy("Date of birth"), birth_text),
    ("gender", gettext_lazy("Gender"), lambda c: c.gender),
    ("email", gettext_lazy("Email"), lambda c: c.email),
    ("phone", gettext_lazy("Phone"), lambda c: display_phone(c.phone)),
    ("preferred_language", gettext_lazy("Preferred language"), lambda c: language_label(c.preferred_language)),
    (
        "address",
        gettext_lazy("Address"),
        lambda c: ", ".join(p for p in (c.street_address, c.city, c.province, c.postal_code) if p),
    ),
    ("cams_number", gettext_lazy("CaMS reference number"), lambda c: c.cams_number),
    ("status", gettext_lazy("Status"), lambda c: c.get_status_display()),
    ("has_safety_flag", gettext_lazy("Safety flag"), lambda c: _("Yes") if c.has_safety_flag else ""),
    ("created_at", gettext_lazy("Registered"), lambda c: c.created_at.date().isoformat() if c.created_at else ""),
]

# Rows that always differ between two profiles: shown, never flagged.
NOT_COMPARED = {"client_number", "created_at"}


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=gettext_lazy("Which profile is kept?"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("Why these are the same person. Kept with the merge in the history."),
    )

    def __init__(self, *args: Any, client: Client, other: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (
                str(client.pk),
                _("Keep %(name)s (number %(number)s)") % {"name": legal_name(client), "number": client.client_number},
            ),
            (str(other.pk), _("Keep %(name)s (number %(number)s)") % {"name": legal_name(other), "number": other.client_number}),
        ]
        self.fields["keep"].initial = str(client.pk)


def _mergeable(request: HttpRequest, pk: Any) -> Client:
    client = get_for_agency(request, Client, pk=pk)
    if client.status == Client.Status.MERGED:
        raise Http404
    return client


def _record_counts(client: Client) -> list[dict[str, Any]]:
    """How many records of each kind point at the client (what a merge moves)."""
    counts = []
    for relation in merging.client_relations():
        n = relation.model._base_manager.filter(**{relation.field.attname: client.pk}).count()
        if n:
            counts.append({"label": relation.model._meta.verbose_name_plural, "count": n})
    return counts


def _result_rows(matches) -> list[dict[str, Any]]:
    return [
        {"client": m.client, "name": legal_name(m.client), "born": birth_text(m.client), "reasons": m.reasons} for m in matches
    ]


@perm_required(CLIENTS_MERGE)
def merge_client(request: HttpRequest, pk: int) -> HttpResponse:
    client = _mergeable(request, pk)
    context: dict[str, Any] = {**client_frame(request, client), "cancel_url": reverse("clients:detail", args=[client.pk])}
    other_pk = request.POST.get("other") or request.GET.get("other")
    if not other_pk:
        search = request.GET.get("q", "").strip()[:200]
        context["search"] = search
        if search:
            base = Client.objects.for_agency(request.agency).exclude(Q(pk=client.pk) | Q(status=Client.Status.MERGED))
            context["results"] = _result_rows(search_clients(request.agency, search, limit=SEARCH_LIMIT, base=base))
        elif not client.is_anonymous:
            probe = {
                name: getattr(client, name)
                for name in ("given_name", "family_name", "preferred_name", "date_of_birth", "email", "phone")
            }
            context["results"] = _result_rows(likely_duplicates(request.agency, probe, exclude_pk=client.pk))
        return render(request, "clients/merge_search.html", context)
    try:
        other = _mergeable(request, other_pk)
    except Http404:
        messages.error(request, _("Choose a profile of your agency."))
        return redirect("clients:merge", pk=client.pk)
    if other.pk == client.pk:
        messages.error(request, _("Choose another profile than this one."))
        return redirect("clients:merge", pk=client.pk)
    form = MergeForm(request.POST or None, client=client, other=other)
    if request.method == "POST" and form.is_valid():
        kept, merged = (client, other) if form.cleaned_data["keep"] == str(client.pk) else (other, client)
        try:
            merging.merge_clients(kept, merged, request.user, form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Profiles merged. You can undo this from the merge history."))
            return redirect("clients:detail", pk=kept.pk)
    # The comparison shows both profiles' details: reading them is audited like opening them.
    for shown in (client, other):
        record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=shown, client_id=shown.pk)
    comparison = []
    for key, label, show in COMPARED:
        left, right = show(client), show(other)
        # Only values both profiles hold can disagree; an empty one is filled from the other.
        differs = bool(left and right and left != right) and key not in NOT_COMPARED
        comparison.append({"label": label, "left": left or "—", "right": right or "—", "differs": differs})
    context.update(
        {
            "other": other,
            "other_name": legal_name(other),
            "comparison": comparison,
            "left_records": _record_counts(client),
            "right_records": _record_counts(other),
            "form": form,
        }
    )
    return render(request, "clients/merge_compare.html", context, status=400 if form.errors else 200)


def _client_link(client: Client) -> str:
    return format_html(
        '<a href="{}">{}</a> <span class="muted">#{}</span>',
        reverse("clients:detail", args=[client.pk]),
        legal_name(client),
        client.client_number,
    )


def _merge_state(merge: Merge) -> str:
    if merge.undone_at:
        return format_html('<span class="badge badge-neutral">{}</span>', _("Undone"))
    return format_html('<a class="btn btn-sm" href="{}">{}</a>', reverse("clients:merge_undo", args=[merge.pk]), _("Undo"))


@perm_required(CLIENTS_MERGE)
def merge_list(request: HttpRequest) -> HttpResponse:
    merges = Merge.objects.for_agency(request.agency).select_related("kept", "merged", "merged_by")
    table = Table(
        request,
        merges,
        columns=[
            Column("merged_at", _("When"), sort="merged_at", value=lambda m: m.merged_at.date().isoformat()),
            Column("kept", _("Kept profile"), value=lambda m: _client_link(m.kept)),
            Column("merged", _("Merged profile"), value=lambda m: _client_link(m.merged)),
            Column("moved", _("Records moved"), numeric=True, value=lambda m: str(merging.moved_count(m))),
            Column("by", _("By"), value=lambda m: m.merged_by.get_full_name() if m.merged_by else None),
            Column("reason", _("Reason"), value=lambda m: m.reason or None),
            Column("state", _("Undo"), value=_merge_state),
        ],
        default_sort="-merged_at",
        caption=_("Merges, most recent first"),
        empty_title=_("No merges yet"),
        empty_text=_("When an administrator merges two profiles of the same person, the merge is listed here and can be undone."),
        empty_icon="layers",
    )
    return table_response(request, "clients/merge_list.html", {"table": table}, table)


@perm_required(CLIENTS_MERGE)
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_for_agency(request, Merge.objects.for_agency(request.agency).select_related("kept", "merged"), pk=pk)
    error = ""
    if merge.undone_at is None and merging.later_merges(merge).exists():
        error = _("A later merge involves these profiles: undo that one first.")
    if request.method == "POST":
        try:
            merging.unmerge(merge, request.user)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, _("Merge undone: both profiles and their records are as they were."))
            return redirect("clients:merge_list")
    context = {
        "merge": merge,
        "kept_name": legal_name(merge.kept),
        "merged_name": legal_name(merge.merged),
        "moved": merging.moved_count(merge),
        "stayed": merging.stayed_rows(merge),
        "error": error,
        "cancel_url": reverse("clients:merge_list"),
    }
    return render(request, "clients/merge_undo.html", context, status=400 if error and request.method == "POST" else 200)
