"""A file handed to the browser as a download, spelt once for every app's exports."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def attachment(data: bytes, content_type: str, filename: str, *, private: bool = False) -> HttpResponse:
    """`data` for the browser to save as `filename` (a Chinese name kept whole), never shown in place.
    `private`: the file holds full personal numbers, so no cache keeps a copy."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    if private:
        response["Cache-Control"] = "no-store"
    return response
