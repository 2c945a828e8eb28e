"""Serializer fields that only ever reach rows of the request's agency."""

from __future__ import annotations

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.INT)
class AgencyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key of ``model`` in the request's agency; another agency's pk "does not exist".

    ``AgencyRelatedField(Program, many=True)`` for a list of programs. The queryset is built per
    request through ``for_agency``, so a cross-agency link cannot be written even by mistake.
    """

    def __init__(self, model: type[models.Model] | None = None, **kwargs) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        request = self.context["request"]
        return self.model.objects.for_agency(request.agency)

