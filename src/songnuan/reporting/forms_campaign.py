"""What the campaign pages accept from the browser: the JSON of the entry page and the upload forms."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: An official table is 10–50 KB; 2 MB leaves room for odd files and keeps the base64 copy carried to the
#: confirm step (≈ 2.7 MB) under DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB).
IMPORT_MAX_BYTES = 2 * 1024 * 1024
HEADER_FIELDS = ("reporter", "phone", "report_date")


class PayloadError(ValueError):
    """The JSON of a check or save request is not what the entry page sends (a Chinese message)."""


@dataclass
class SavePayload:
    version: int
    values: dict[str, str | None]
    explanations: dict[str, str]
    header: dict[str, str | None]


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError(_("请求内容不是有效的 JSON")) from None
    if not isinstance(data, dict):
        raise PayloadError(_("请求内容应为 JSON 对象"))
    return data


def _raw_values(data: dict[str, Any]) -> dict[str, str | None]:
    """Item code → what was typed, always as text (or None): the services parse it by the item's kind."""
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise PayloadError(_("values 应为“项目编号: 数值”的对象"))
    raw: dict[str, str | None] = {}
    for code, value in values.items():
        if value is None:
            raw[str(code)] = None
        elif isinstance(value, str | int | Decimal | bool):
            raw[str(code)] = str(value)
        else:
            raise PayloadError(_("项目 {code} 的值应为文字或数字").format(code=code))
    return raw


def parse_check_payload(body: bytes) -> dict[str, str | None]:
    return _raw_values(_json_object(body))


def parse_save_payload(body: bytes) -> SavePayload:
    data = _json_object(body)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PayloadError(_("缺少版本号（version）"))
    explanations = data.get("explanations", {})
    if not isinstance(explanations, dict) or not all(isinstance(v, str) for v in explanations.values()):
        raise PayloadError(_("explanations 应为“规则编号: 说明”的对象"))
    header = data.get("header", {})
    if not isinstance(header, dict) or not all(v is None or isinstance(v, str) for v in header.values()):
        raise PayloadError(_("header 应为表头字段的对象"))
    return SavePayload(
        version=version,
        values=_raw_values(data),
        explanations={str(rule): text for rule, text in explanations.items()},
        header={name: header[name] for name in HEADER_FIELDS if name in header},
    )


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


# The file travels from the preview to the confirm step inside the page (a hidden base64 field), not in the
# session: uploaded tables are never stored on the server (see README), the session table does not grow by
# megabytes, and two tabs importing two files cannot mix them up. The signature binds the bytes, the file
# name and the version shown in the preview to this submission, so the confirm step applies exactly what the
# person saw — and the version makes it a conflict if someone saved in between.
_IMPORT_SALT = "songnuan.reporting.import"


@dataclass
class CarriedFile:
    data: bytes
    filename: str
    version: int


def carry_file(submission_id: int, data: bytes, filename: str, version: int) -> dict[str, str]:
    """The hidden fields of the confirm form."""
    encoded = base64.b64encode(data).decode("ascii")
    token = signing.dumps(
        {"s": submission_id, "f": filename, "v": version, "h": _digest(data)}, salt=_IMPORT_SALT
    )
    return {"data": encoded, "token": token}


def carried_file(submission_id: int, fields: Any) -> CarriedFile:
    """The file of a confirm form, or PayloadError when it was not the one previewed for this submission."""
    encoded = fields.get("data", "")
    if len(encoded) > IMPORT_MAX_BYTES * 4 // 3 + 4:
        raise PayloadError(_("统计表文件不能超过 {mb} MB").format(mb=IMPORT_MAX_BYTES // 1048576))
    try:
        data = base64.b64decode(encoded, validate=True)
        token = signing.loads(fields.get("token", ""), salt=_IMPORT_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except (binascii.Error, ValueError, signing.BadSignature):
        raise PayloadError(_("导入的文件已失效，请重新上传")) from None
    if token.get("s") != submission_id or token.get("h") != _digest(data):
        raise PayloadError(_("导入的文件已失效，请重新上传"))
    return CarriedFile(data, str(token.get("f", "")), int(token.get("v", 0)))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ActivityReportForm(forms.Form):
    report = forms.FileField(
        label=gettext_lazy("活动报告（Word、WPS 或 PDF）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".doc,.docx,.wps,.pdf"}),
    )
