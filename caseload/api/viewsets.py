"""The pieces every agency endpoint shares: scoped querysets, and writes that go through actions.

A viewset names its ``model``; its queryset is ``model.objects.for_agency(request.agency)``, so
another agency's object is a 404 and lists never show another agency's rows. A serializer
validates and shapes data, then calls an action (``caseload.<app>.actions``) through
``run_action``, which turns the model's own validation into a 400 naming the field and a
protected delete into a 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.fields import get_error_detail
from rest_framework.settings import api_settings

T = TypeVar("T")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This object is still in use and cannot be deleted.")
    default_code = "protected"


def run_action(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call an action; its validation errors become API validation errors naming the field."""
    try:
        return function(*args, **kwargs)
    except DjangoValidationError as error:
        detail = get_error_detail(error)
        if isinstance(detail, dict):
            detail = {(api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): value for key, value in detail.items()}
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        raise serializers.ValidationError(detail)
    except (ProtectedError, RestrictedError):
        raise Conflict


class ActionSerializer(serializers.ModelSerializer):
    """A model serializer whose writes are an action's, not ``Model.save``.

    ``unique_in_agency = {"name": _("message")}``: no other row of the request's agency may have
    the same value (checked once every field is valid; the database constraint stays the lock).
    """

    unique_in_agency: dict[str, str] = {}

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        for name, message in self.unique_in_agency.items():
            if name not in attrs:
                continue
            queryset = model.objects.for_agency(self.agency).filter(**{name: attrs[name]})
            if self.instance is not None:
                queryset = queryset.exclude(pk=self.instance.pk)
            if queryset.exists():
                raise serializers.ValidationError({name: [message]}, code="unique")
        return attrs

    @property
    def agency(self):
        return self.context["request"].agency

    @property
    def actor(self):
        return self.context["request"].user


class AgencyScopedMixin:
    # The queryset is the model's rows in the request's agency (404 for any other agency's row).
    # (Comments, not docstrings, in these bases: a docstring would become every operation's
    # description in the OpenAPI schema.)

    model: type[models.Model]
    lookup_value_converter = "int"
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self) -> models.QuerySet:
        queryset = self.model.objects.for_agency(self.request.agency)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset


class AgencyReadOnlyViewSet(AgencyScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


WRITES = ["create", "update", "partial_update"]


@extend_validation_errors(["invalid"], field_name="non_field_errors", actions=["destroy", *WRITES])
class AgencyModelViewSet(AgencyScopedMixin, viewsets.ModelViewSet):
    # Create and change through the serializer's actions; delete through ``delete_action``
    # (set it with ``staticmethod``: ``delete_action = staticmethod(actions.delete_object)``).

    delete_action: Callable[..., None]

    def perform_destroy(self, instance: models.Model) -> None:
        run_action(self.delete_action, instance, actor=self.request.user)


@extend_validation_errors(["invalid"], field_name="non_field_errors", actions=WRITES)
class AgencyCreateUpdateViewSet(
    AgencyScopedMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    # Like AgencyModelViewSet, without delete (rows that are deactivated, not deleted).
    pass
