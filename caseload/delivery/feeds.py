"""Where service records show outside their session: the client's history feed and the dashboard's drafts.

Both read through ``visibility.restrict_records`` (programs rule, private rule). Registered when
the app is ready (``DeliveryConfig.ready``).
"""

from __future__ import annotations

from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.casework import history
from caseload.delivery.models import ServiceRecord
from caseload.delivery.visibility import restrict_records
from caseload.tenancy.models import Membership
from caseload.web.queries import Draft, DraftSource, counted, register_draft_source


def render_record(row: ServiceRecord) -> history.Shown:
    badges = []
    if row.status == ServiceRecord.Status.DRAFT:
        badges.append((_("Draft"), "warning"))
    if row.is_private:
        badges.append((_("Private"), "outline"))
    return history.Shown(
        title=row.definition.name,
        summary=row.session.get_session_type_display(),
        url=reverse("delivery:record_detail", args=[row.pk]),
        badges=tuple(badges),
    )


def draft_records(membership: Membership, limit: int) -> tuple[int, list[Draft]]:
    """The member's service forms still in draft, newest first."""
    rows = restrict_records(
        ServiceRecord.objects.for_agency(membership.agency).filter(author=membership, status=ServiceRecord.Status.DRAFT),
        membership,
    )
    counts, found = counted(
        rows.select_related("client", "definition").order_by(Coalesce("updated_at", "created_at").desc(), "-pk"), limit
    )
    return counts["total_rows"], [
        Draft(
            kind=str(gettext_lazy("Service form")),
            title=row.definition.name,
            client=row.client,
            when=row.updated_at or row.created_at,
            url=reverse("delivery:record_edit", args=[row.pk]),
        )
        for row in found
    ]


def register() -> None:
    history.register_kind("service_forms", gettext_lazy("Service forms"), "calendar-check")
    history.register(
        history.Source(
            key="service_record",
            kind="service_forms",
            model="delivery.ServiceRecord",
            date_field="created_at",
            render=render_record,
            related=("definition", "session"),
            permission="delivery.view",
            restrict=restrict_records,
        )
    )
    register_draft_source(DraftSource("forms", draft_records))
