"""A small form that exercises every kind of rule, independent of the built-in tables."""

from __future__ import annotations

from songnuan.formkit.definitions import Form, form_from_mapping

MINIMAL = {
    "code": "mini",
    "attachment": "附件9",
    "title": "测试统计表",
    "groups": [
        {
            "number": 3,
            "items": [
                {"letter": "A", "label": "筹集总额(万元)", "unit": "万元", "formula": "A=B+C"},
                {"letter": "B", "label": "其中，中央财政(万元)", "unit": "万元", "level": 1, "parent": "3A"},
                {"letter": "C", "label": "其中，其他(万元)", "unit": "万元", "level": 1, "parent": "3A"},
            ],
        },
        {
            "number": 4,
            "items": [
                {"letter": "A", "label": "发放款物(万元)", "unit": "万元", "parts": True},
                {"letter": "B", "label": "其中，向困难职工发放(万元)", "unit": "万元", "parent": "4A"},
                {"letter": "C", "label": "其中，向困难劳模发放(万元)", "unit": "万元", "parent": "4A"},
            ],
        },
        {
            "number": 5,
            "items": [
                {"letter": "A", "label": "慰问户数（户）", "unit": "户"},
                {"letter": "B", "label": "是否设立基金(是/否)", "unit": "是/否"},
            ],
        },
    ],
    "rules": [
        {"id": "3A.sum", "check": "3A = 3B + 3C"},
        {"id": "4A.within-raised", "check": "4A <= 3A", "severity": "warning", "message": "发放超过筹集"},
        {"id": "5A.visited", "check": "5A > 0", "when": "5B = 是", "severity": "warning"},
    ],
}


def minimal_form() -> Form:
    return form_from_mapping(MINIMAL, "<minimal>")
