"""Serving a stored file to a reader who may see it: always as a download, never rendered inline."""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def attachment_response(file: FieldFile, filename: str, content_type: str) -> FileResponse:
    """``file`` as an attachment named ``filename``, not sniffed, not cached, sandboxed; 404 when it is missing."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
