"""API for referrals (``clients.refer``) and merges (``clients.merge``).

- ``POST /api/v1/clients/<id>/refer/`` and ``POST /api/v1/clients/<id>/merge/``: actions of the
  clients endpoint (``ReferMergeActions``, mixed into ClientViewSet);
- ``/api/v1/referrals/``: the agency's referrals out, ``POST .../<id>/withdraw/``;
- ``/api/v1/incoming-referrals/``: referrals other agencies sent, ``.../<id>/accept/`` and ``.../decline/``;
- ``/api/v1/merges/``: the merge history, ``POST .../<id>/undo/``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyReadOnlyViewSet, run_action
from caseload.clients import merging, referrals
from caseload.clients.models import Client, IncomingReferral, Merge, Referral
from caseload.tenancy.models import Agency

REFER = HasAgencyPerm(view="clients.view", manage="clients.refer")
MERGE = HasAgencyPerm(view="clients.merge", manage="clients.merge")


class ReferralSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "kind",
            "to_agency",
            "organisation",
            "contact",
            "service",
            "reason",
            "client_consent",
            "consent_recorded_at",
            "status",
            "response_note",
            "responded_at",
            "created_at",
        ]
        read_only_fields = fields


class ReferRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Referral.Kind.choices,
        help_text="agency: another agency on Caseload (to_agency); external: an outside organisation.",
    )
    to_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True, help_text="The agency (kind agency)."
    )
    organisation = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="The organisation (kind external)."
    )
    contact = serializers.CharField(required=False, allow_blank=True, max_length=200)
    service = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reason = serializers.CharField(max_length=4000)
    client_consent = serializers.BooleanField(
        required=False, default=False, help_text="The client agrees to share their information; required."
    )


class IncomingReferralSerializer(serializers.ModelSerializer):
    from_agency_name = serializers.CharField(source="from_agency.name", read_only=True)

    class Meta:
        model = IncomingReferral
        fields = [
            "id",
            "from_agency",
            "from_agency_name",
            "client_summary",
            "service",
            "reason",
            "status",
            "response_note",
            "responded_at",
            "received_at",
            "client",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="Seen by the referring agency; required to decline."
    )


class MergeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merge
        fields = ["id", "kept", "merged", "reason", "moved", "merged_by", "merged_at", "undone_by", "undone_at"]
        read_only_fields = fields


class MergeRequestSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The profile merged into this one (this one is kept).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def refer_merge_errors(viewset):
    """Document on the clients viewset the errors the refer and merge actions name (for the schema)."""
    for field in ("client_consent", "reason", "to_agency", "organisation", "non_field_errors"):
        viewset = extend_validation_errors(["invalid"], field_name=field, actions=["refer"])(viewset)
    for field in ("other", "non_field_errors"):
        viewset = extend_validation_errors(["invalid"], field_name=field, actions=["merge"])(viewset)
    return viewset


class ReferMergeActions:
    """The clients endpoint's refer and merge actions (mixed into ClientViewSet)."""

    @extend_schema(
        summary="Refer the client to another agency or record an outside referral (clients.refer)",
        request=ReferRequestSerializer,
        responses={201: ReferralSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[REFER])
    def refer(self, request, pk=None):
        client = self.get_object()
        body = ReferRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        common = {"service": data.get("service", ""), "reason": data["reason"], "client_consent": data["client_consent"]}
        if data["kind"] == Referral.Kind.AGENCY:
            referral = run_action(referrals.refer_to_agency, client, request.user, to_agency=data.get("to_agency"), **common)
        else:
            referral = run_action(
                referrals.record_external_referral,
                client,
                request.user,
                organisation=data.get("organisation", ""),
                contact=data.get("contact", ""),
                **common,
            )
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Merge another profile into this one (clients.merge); undo with POST /merges/<id>/undo/",
        request=MergeRequestSerializer,
        responses={201: MergeSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[HasAgencyPerm(view="clients.merge", manage="clients.merge")])
    def merge(self, request, pk=None):
        kept = self.get_object()
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        other = Client.objects.for_agency(request.agency).filter(pk=body.validated_data["other"]).first()
        if other is None:
            raise serializers.ValidationError({"other": [_("Choose a profile of your agency.")]}, code="invalid")
        merge = run_action(merging.merge_clients, kept, other, request.user, body.validated_data.get("reason", ""))
        return Response(MergeSerializer(merge).data, status=status.HTTP_201_CREATED)


@extend_validation_errors(["invalid"], field_name="non_field_errors", actions=["withdraw"])
@extend_schema_view(
    list=extend_schema(summary="The agency's referrals out (clients.view)"),
    retrieve=extend_schema(summary="One referral out (clients.view)"),
    withdraw=extend_schema(
        summary="Withdraw a pending referral to another agency (clients.refer)", request=None, responses={200: ReferralSerializer}
    ),
)
class ReferralViewSet(AgencyReadOnlyViewSet):
    """Referrals the agency made: to other agencies on Caseload (with their answer) and to outside organisations."""

    model = Referral
    serializer_class = ReferralSerializer
    permission_classes = [REFER]

    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        referral = run_action(referrals.withdraw_referral, self.get_object(), request.user)
        return Response(ReferralSerializer(referral).data)


@extend_validation_errors(["invalid"], field_name="non_field_errors", actions=["accept", "decline"])
@extend_validation_errors(["invalid"], field_name="note", actions=["decline"])
@extend_schema_view(
    list=extend_schema(summary="Referrals other agencies sent to this one (clients.refer)"),
    retrieve=extend_schema(summary="One incoming referral (clients.refer)"),
    accept=extend_schema(
        summary="Accept: the client's profile is copied into this agency (clients.refer)",
        request=AnswerSerializer,
        responses={200: IncomingReferralSerializer},
    ),
    decline=extend_schema(
        summary="Decline, with a note (clients.refer)", request=AnswerSerializer, responses={200: IncomingReferralSerializer}
    ),
)
class IncomingReferralViewSet(AgencyReadOnlyViewSet):
    """Referrals from other agencies. Before accepting, only a first name and initial, the service
    and the reason are visible; `client` is this agency's copy of the profile once accepted."""

    model = IncomingReferral
    serializer_class = IncomingReferralSerializer
    permission_classes = [HasAgencyPerm(view="clients.refer", manage="clients.refer")]
    select_related = ("from_agency",)

    def _answer(self, request, function):
        incoming = self.get_object()
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run_action(function, incoming, request.user, body.validated_data.get("note", ""))
        incoming = self.get_queryset().get(pk=incoming.pk)
        return Response(IncomingReferralSerializer(incoming).data)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(request, referrals.accept_referral)

    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._answer(request, referrals.decline_referral)


@extend_validation_errors(["invalid"], field_name="non_field_errors", actions=["undo"])
@extend_schema_view(
    list=extend_schema(summary="The merge history (clients.merge)"),
    retrieve=extend_schema(summary="One merge, with what it moved (clients.merge)"),
    undo=extend_schema(
        summary="Undo a merge: every moved record goes back and both profiles are restored (clients.merge)",
        request=None,
        responses={200: MergeSerializer},
    ),
)
class MergeViewSet(AgencyReadOnlyViewSet):
    """Merges of two profiles of the same person, most recent first; a merge can be undone."""

    model = Merge
    serializer_class = MergeSerializer
    permission_classes = [MERGE]

    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        merge = run_action(merging.unmerge, self.get_object(), request.user)
        return Response(MergeSerializer(merge).data)
