"""What the campaign pages accept from the browser: the upload forms, and the signed import preview.

(The entry page's live check and autosave go to the JSON API, which reads their bodies: songnuan.api.schemas.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from songnuan.formkit.engine import Value

#: An official table is 10–50 KB; 2 MB leaves room for odd files.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
HEADER_FIELDS = ("reporter", "phone", "report_date")


class PayloadError(ValueError):
    """What the browser sent back cannot be used as it is (an import preview's token): a Chinese message."""


class ImportUploadForm(forms.Form):
    table = forms.FileField(
        label=gettext_lazy("填好的统计表（Excel 或 WPS 文件）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.et"}),
    )

    def clean_table(self) -> Any:
        upload = self.cleaned_data["table"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                gettext_lazy("统计表文件不能超过 %(mb)d MB"), params={"mb": IMPORT_MAX_BYTES // 1048576}
            )
        return upload


# The preview keeps what it read, not the file: the parsed values and the header fields it showed travel to
# the confirm step inside the page as one signed token (a table has at most ~60 items: a few KB), so the file
# is parsed once, uploaded tables are never stored on the server (see README), the session does not grow,
# and two tabs importing two files cannot mix them up. The salt names the submission and the version the
# preview was made from, so the token is good for this table only; the version travels beside it in clear
# (the salt needs it to verify), and a save by anyone since the preview makes the confirm a conflict.
IMPORT_PREVIEW_MAX_AGE = 60 * 60  # seconds from the preview to the confirm
#: Far under DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB); only a file stuffed with long texts comes near it.
IMPORT_TOKEN_MAX_CHARS = 1024 * 1024


@dataclass(frozen=True)
class PreviewedImport:
    """What the preview showed, to be saved as it is: the file's values and the header fields it fills."""

    version: int
    values: dict[str, Value]
    header: dict[str, str]


def _import_salt(submission_id: int, version: int) -> str:
    return f"songnuan.reporting.import:submission={submission_id}:version={version}"


def _encoded(value: Value) -> int | str | None:
    """A value as JSON that reads back as the same type: int and None as they are, a Decimal or a text
    tagged so that 48, Decimal("48.00") and "48" stay three different things."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, Decimal):
        return f"d:{value}"
    return f"s:{value}"


def _decoded(data: object) -> Value:
    if data is None or (isinstance(data, int) and not isinstance(data, bool)):
        return data
    if isinstance(data, str) and data.startswith("d:"):
        return Decimal(data[2:])
    if isinstance(data, str) and data.startswith("s:"):
        return data[2:]
    raise ValueError(data)


def sign_import(
    submission_id: int, version: int, values: Mapping[str, Value], header: Mapping[str, str]
) -> dict[str, str]:
    """The hidden fields of the confirm form: the version the preview was made from and the signed token."""
    payload = {
        "s": submission_id,
        "v": version,
        "values": {code: _encoded(value) for code, value in values.items()},
        "header": dict(header),
    }
    token = signing.TimestampSigner(salt=_import_salt(submission_id, version)).sign_object(
        payload, compress=True
    )
    if len(token) > IMPORT_TOKEN_MAX_CHARS:
        raise PayloadError(
            _("统计表中的文字太多，无法导入；请检查文字项目和表头（填报人、电话）是否填错了位置")
        )
    return {"version": str(version), "token": token}


def previewed_import(submission_id: int, fields: Any) -> PreviewedImport:
    """What the preview of this submission showed, or PayloadError (nothing is to be written) when the token
    is expired, altered, or was made for another table or another version of it."""
    stale = _("导入确认无效：这份预览不属于这张表，或已被改动；这张表没有任何改动，请重新上传统计表")
    try:
        version = int(str(fields.get("version", "")))
        payload = signing.TimestampSigner(salt=_import_salt(submission_id, version)).unsign_object(
            str(fields.get("token", "")), max_age=IMPORT_PREVIEW_MAX_AGE
        )
    except signing.SignatureExpired:
        raise PayloadError(
            _("导入预览已超过 {minutes} 分钟，已失效；这张表没有任何改动，请重新上传统计表").format(
                minutes=IMPORT_PREVIEW_MAX_AGE // 60
            )
        ) from None
    except (signing.BadSignature, ValueError):
        raise PayloadError(stale) from None
    try:
        if payload["s"] != submission_id or payload["v"] != version:
            raise ValueError(payload)
        values = {str(code): _decoded(data) for code, data in payload["values"].items()}
        header = {str(name): str(text) for name, text in payload["header"].items() if name in HEADER_FIELDS}
    except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError):
        raise PayloadError(stale) from None
    return PreviewedImport(version, values, header)


class ActivityReportForm(forms.Form):
    report = forms.FileField(
        label=gettext_lazy("活动报告（Word、WPS 或 PDF）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".doc,.docx,.wps,.pdf"}),
    )
