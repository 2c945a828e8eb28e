"""Pieces the casework API modules share."""

from __future__ import annotations

from collections.abc import Iterable

from drf_standardized_errors.openapi_validation_errors import extend_validation_errors

from caseload.api.viewsets import WRITES

# The largest id a filter accepts (a bigint primary key).
MAX_ID = 2**63 - 1
# The errors an id filter of a list names.
ID_FILTER_ERRORS = ["invalid", "min_value", "max_value", "max_string_length"]


def declare_errors(viewset, names: Iterable[str], codes: Iterable[str] = ("invalid",), actions: Iterable[str] = WRITES):
    """Declare in the schema (drf-standardized-errors) the ``codes`` each field of ``names`` may name."""
    for name in names:
        viewset = extend_validation_errors(list(codes), field_name=name, actions=list(actions))(viewset)
    return viewset
