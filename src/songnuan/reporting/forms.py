from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".xlsx,.xls,.ods,.et"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if not data and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadTablesForm(forms.Form):
    tables = MultipleFileField(label=_("填好的统计表（可多选）"))

    def clean_tables(self) -> Any:
        files = self.cleaned_data["tables"]
        if len(files) > settings.SONGNUAN_MAX_UPLOAD_FILES:
            raise ValidationError(
                _("一次最多上传 %(n)d 个文件"), params={"n": settings.SONGNUAN_MAX_UPLOAD_FILES}
            )
        return files
