"""The OpenAPI 3.1 document of the API, as a Python dict, and a readable form of it for the docs page.

Written by hand, operation by operation: tests/api/test_openapi.py fails when a URL pattern of
`songnuan.api.urls` (or one of its methods) is missing here, and when a documented path has no pattern.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

Json = dict[str, Any]

SESSION = "session"
CSRF = "csrf"
CSRF_HEADER = "X-CSRFToken"

# --- examples (real values of 附件1 and real messages of the rule engine) -----------------------------------

_UNIT = {
    "id": 2,
    "name": "东宝区总工会",
    "kind": "county",
    "kind_label": "县（市、区）总工会",
    "parent_id": 1,
    "depth": 1,
}
_FORM = {"code": "warmth-2018", "attachment": "附件1", "title": "2018年各地工会送温暖统计表"}
_VALUES = {"1A": 48, "1B": 9, "2A": 1260, "3A": "66.92", "3B": "15", "3C": "18.5", "3D": "22.36", "5A": None}
_WARNING = {
    "rule": "warmth-2018.3A.sum.rounding",
    "severity": "warning",
    "items": ["3A", "3B", "3C", "3D", "3E", "3F"],
    "message": "舍位差：3A（筹集慰问款物总额）应等于分项之和"
    "（3A = 66.92，3B + 3C + 3D + 3E + 3F = 66.91，相差 0.01）。差额在每个分项0.01万元的舍位误差以内，请核实",
    "expected": "66.91",
    "actual": "66.92",
    "difference": "0.01",
}
_ERROR = {
    "rule": "warmth-2018.1B.of-which",
    "severity": "error",
    "items": ["1B", "1A"],
    "message": "1B是1A的“其中”项，不能大于1A（1B = 60，1A = 48，相差 12）",
    "expected": 48,
    "actual": 60,
    "difference": 12,
}
_TABLE = {
    "form": _FORM,
    "unit": _UNIT,
    "status": "draft",
    "status_label": "草稿",
    "version": 4,
    "submitted_at": None,
    "late": False,
    "editable": True,
    "values": _VALUES,
    "explanations": {"warmth-2018.3A.sum.rounding": "分项按元四舍五入后相加"},
    "header": {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"},
    "review_comment": "",
    "reviewed_at": None,
    "updated_at": "2018-02-03T10:12:00+08:00",
    "errors": [],
    "warnings": [_WARNING],
    "permissions": {"fill": True, "review": False},
    "items": [
        {"code": "1A", "label": "走访企业（家）", "unit": "家", "kind": "count"},
        {"code": "3A", "label": "筹集慰问款物总额(万元)", "unit": "万元", "kind": "money"},
    ],
}
_CAMPAIGN = {
    "id": 1,
    "title": "关于2018年元旦春节期间全市工会开展送温暖活动的通知",
    "document_number": "荆工办发电〔2017〕18号",
    "owner": {"id": 1, "name": "荆门市总工会"},
    "period_start": "2018-01-01",
    "period_end": "2018-02-15",
    "deadline": "2018-02-05",
    "form_codes": ["warmth-2018", "service-centres-2017"],
}
_STATUS = {
    "status": "submitted",
    "status_label": "已报送",
    "version": 6,
    "submitted_at": "2018-02-04T16:30:00+08:00",
    "late": False,
}


# --- schemas ---------------------------------------------------------------------------------------------


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: Json, required: list[str] | None = None, description: str = "") -> Json:
    schema: Json = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def _string(description: str = "", **more: Any) -> Json:
    return (
        {"type": "string", "description": description, **more} if description else {"type": "string", **more}
    )


def _nullable(kind: str, description: str = "", **more: Any) -> Json:
    return {"type": [kind, "null"], "description": description, **more}


def _schemas() -> Json:
    value = {
        "type": ["integer", "string", "null"],
        "description": _(
            '一个项目的数值：计数为整数；万元为文字（如 "12.35"，精确，不经过浮点数）；是/否项为“是”或“否”；'
            "空白（未填报）为 null，不等于 0；不是有效数值的文字原样返回，并在 errors 中指出。"
        ),
    }
    values = {
        "type": "object",
        "additionalProperties": _ref("Value"),
        "description": _("项目编号（如 3A、2B1）→ 数值"),
    }
    unit = _object(
        {
            "id": {"type": "integer"},
            "name": _string(_("单位名称")),
            "kind": _string(
                _("类别"), enum=["city", "county", "zone", "industry", "enterprise", "institution", "organs"]
            ),
            "kind_label": _string(_("类别（中文）")),
            "parent_id": _nullable("integer", _("上级单位")),
            "depth": {"type": "integer", "description": _("在单位树中的层级，市总为 0")},
        },
        ["id", "name", "kind", "kind_label", "parent_id", "depth"],
    )
    form_ref = _object(
        {"code": _string(_("统计表代码")), "attachment": _string(_("附件号")), "title": _string(_("表名"))},
        ["code", "attachment", "title"],
    )
    violation = _object(
        {
            "rule": _string(_("规则编号")),
            "severity": _string(_("error：强制性审核；warning：核实性审核"), enum=["error", "warning"]),
            "items": {
                "type": "array",
                "items": {"type": "string"},
                "description": _("涉及的项目，第一个为合计"),
            },
            "message": _string(_("说明（中文）")),
            "expected": {"type": ["integer", "string", "null"], "description": _("应为（万元为文字）")},
            "actual": {"type": ["integer", "string", "null"], "description": _("实为（万元为文字）")},
            "difference": {"type": ["integer", "string", "null"], "description": _("相差（万元为文字）")},
        },
        ["rule", "severity", "items", "message", "expected", "actual", "difference"],
    )
    status = _object(
        {
            "status": _string(
                _("not-started 未开始、draft 草稿、submitted 已报送、returned 已退回、accepted 审核通过"),
                enum=["not-started", "draft", "submitted", "returned", "accepted"],
            ),
            "status_label": _string(_("状态（中文）")),
            "version": _nullable("integer", _("版本号；未开始为 null")),
            "submitted_at": _nullable("string", _("报送时间"), format="date-time"),
            "late": {"type": "boolean", "description": _("逾期报送")},
        },
        ["status", "status_label", "version", "submitted_at", "late"],
    )
    permissions = _object(
        {
            "fill": {"type": "boolean", "description": _("当前用户可填报该单位")},
            "review": {"type": "boolean", "description": _("当前用户可审核该单位")},
        },
        ["fill", "review"],
    )
    header = _object(
        {
            "reporter": _nullable("string", _("填报人")),
            "phone": _nullable("string", _("电话")),
            "report_date": _nullable("string", _("填报日期，年-月-日"), format="date"),
        }
    )
    table = _object(
        {
            "form": _ref("FormRef"),
            "unit": _ref("Unit"),
            **status["properties"],
            "version": {
                "type": "integer",
                "description": _("当前版本号，保存时原样带回；尚未开始填报时为 1（新草稿的版本）"),
            },
            "editable": {"type": "boolean", "description": _("草稿或已退回时可修改")},
            "values": _ref("Values"),
            "explanations": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": _("规则编号 → 对警告（核实性审核）的书面说明"),
            },
            "header": _ref("Header"),
            "review_comment": _string(_("审核意见")),
            "reviewed_at": _nullable("string", _("审核时间"), format="date-time"),
            "updated_at": _nullable("string", _("最后保存时间"), format="date-time"),
            "errors": {"type": "array", "items": _ref("Violation"), "description": _("强制性审核的错误")},
            "warnings": {"type": "array", "items": _ref("Violation"), "description": _("核实性审核的警告")},
            "permissions": _ref("Permissions"),
            "items": {
                "type": "array",
                "description": _("表中的项目，按表中顺序"),
                "items": _object(
                    {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        "unit": {"type": "string"},
                        "kind": {"type": "string", "enum": ["count", "money", "yes-no"]},
                    }
                ),
            },
        },
        [
            *status["required"],
            *("form", "unit", "editable", "values", "explanations", "header"),
            *("errors", "warnings", "permissions", "items"),
        ],
    )
    table_save = _object(
        {
            "version": {
                "type": "integer",
                "description": _("开始编辑时读到的版本号；若他人已保存则返回 409"),
            },
            "values": {
                "type": "object",
                "description": _(
                    '只需给出要修改的项目。万元建议写成文字（"0.3"）；数字也按原文精确读取。'
                    "null 表示空白；文字按填表习惯读取（１２、12户、是/否、Y/N、“-”表示空白）。"
                ),
                "additionalProperties": {"type": ["integer", "number", "string", "boolean", "null"]},
            },
            "explanations": {
                "type": "object",
                "additionalProperties": {"type": ["string", "null"]},
                "description": _("规则编号 → 书面说明；空文字或 null 删除说明"),
            },
            "header": _ref("Header"),
        },
        ["version"],
    )
    campaign = _object(
        {
            "id": {"type": "integer"},
            "title": _string(_("标题")),
            "document_number": _string(_("文号")),
            "owner": _object({"id": {"type": "integer"}, "name": {"type": "string"}}, ["id", "name"]),
            "period_start": _string(_("活动开始"), format="date"),
            "period_end": _string(_("活动结束"), format="date"),
            "deadline": _string(_("报送截止日期"), format="date"),
            "form_codes": {
                "type": "array",
                "items": {"type": "string"},
                "description": _("要求报送的统计表"),
            },
        },
        ["id", "title", "document_number", "owner", "period_start", "period_end", "deadline", "form_codes"],
    )
    campaign_detail = {
        "allOf": [
            _ref("CampaignSummary"),
            _object(
                {
                    "period_text": _string(_("活动时间（原文）")),
                    "receiving_department": _string(_("接收部门")),
                    "contact": _object(
                        {"name": {"type": "string"}, "phone": {"type": "string"}, "email": {"type": "string"}}
                    ),
                    "addressees": {
                        "type": "array",
                        "description": _("主送单位"),
                        "items": _object({"id": {"type": "integer"}, "name": {"type": "string"}}),
                    },
                    "forms": {"type": "array", "items": _ref("FormRef")},
                    "notice_text": _string(_("通知全文")),
                },
                ["addressees", "forms"],
            ),
        ]
    }
    unit_progress = {
        "allOf": [
            _ref("Unit"),
            _object(
                {
                    "state": _string(_("各表中最靠后的状态"), enum=status["properties"]["status"]["enum"]),
                    "late": {"type": "boolean"},
                    "forms": {"type": "object", "additionalProperties": _ref("FormStatus")},
                    "permissions": _ref("Permissions"),
                },
                ["state", "late", "forms", "permissions"],
            ),
        ]
    }
    return {
        "Message": _object({"message": _string(_("说明（中文）"))}, ["message"]),
        "CsrfRefusal": _object(
            {"message": _string(_("说明（中文）")), "reason": _string(_("Django 给出的原因"))}, ["message"]
        ),
        "Conflict": _object(
            {
                "message": _string(_("谁在何时保存了第几版")),
                "version": {"type": "integer", "description": _("现在保存的版本号")},
                "theirs": _ref("Values"),
                "yours": _ref("Values"),
            },
            ["message", "version", "theirs", "yours"],
        ),
        "Value": value,
        "Values": values,
        "Unit": unit,
        "FormRef": form_ref,
        "Violation": violation,
        "FormStatus": status,
        "Permissions": permissions,
        "Header": header,
        "Table": table,
        "TableSave": table_save,
        "Comment": _object({"comment": _string(_("审核意见"))}),
        "ReturnBody": _object({"comment": _string(_("退回时必须写明要改什么"))}, ["comment"]),
        "UnlockBody": _object({"reason": _string(_("解锁原因，必填"))}, ["reason"]),
        "Me": _object(
            {
                "user": _object(
                    {"id": {"type": "integer"}, "username": {"type": "string"}, "name": {"type": "string"}}
                ),
                "unit": {"oneOf": [_ref("Unit"), {"type": "null"}]},
                "role": _nullable("string", _("reporter 填报员、reviewer 审核员、admin 管理员")),
                "role_label": _nullable("string"),
                "csrf_token": _string(_("写操作时放在 X-CSRFToken 请求头中")),
            },
            ["user", "unit", "role", "role_label", "csrf_token"],
        ),
        "CampaignSummary": campaign,
        "Campaign": campaign_detail,
        "CampaignList": _object(
            {"campaigns": {"type": "array", "items": _ref("CampaignSummary")}}, ["campaigns"]
        ),
        "UnitProgress": unit_progress,
        "UnitList": _object(
            {
                "campaign_id": {"type": "integer"},
                "form_codes": {"type": "array", "items": {"type": "string"}},
                "units": {"type": "array", "items": _ref("UnitProgress")},
            },
            ["campaign_id", "form_codes", "units"],
        ),
        "Rollup": _object(
            {
                "campaign_id": {"type": "integer"},
                "form": _ref("FormRef"),
                "unit": _ref("Unit"),
                "accepted_units": {"type": "integer", "description": _("计入汇总的审核通过的表的数量")},
                "values": _ref("Values"),
            },
            ["campaign_id", "form", "unit", "accepted_units", "values"],
        ),
        "Index": _object(
            {
                "title": {"type": "string"},
                "links": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            ["title", "links"],
        ),
    }


# --- responses and parameters ----------------------------------------------------------------------------


def _json_content(schema: Json, example: Any) -> Json:
    return {"application/json": {"schema": schema, "example": example}}


def _responses() -> Json:
    def message(description: str, example: str) -> Json:
        return {"description": description, "content": _json_content(_ref("Message"), {"message": example})}

    return {
        "BadRequest": message(
            _("请求被拒绝：请求内容不对，或按报送流程现在不能这样做（说明为中文）"),
            "还有 1 个错误（强制性审核），改正后才能报送："
            "1B是1A的“其中”项，不能大于1A（1B = 60，1A = 48，相差 12）",
        ),
        "Unauthorized": message(_("未登录"), "请先登录"),
        "Forbidden": message(_("无权访问该活动或单位，或无权进行该操作"), "您没有权限进行这项操作"),
        "CsrfForbidden": {
            "description": _("无权进行该操作，或写操作缺少有效的 CSRF 令牌（X-CSRFToken 请求头）"),
            "content": _json_content(
                _ref("CsrfRefusal"),
                {
                    "message": "CSRF 校验失败：写操作须在 X-CSRFToken 请求头中带上 csrftoken Cookie 的值",
                    "reason": "CSRF cookie not set.",
                },
            ),
        },
        "MethodNotAllowed": {
            "description": _("该接口不支持这种请求方法；Allow 响应头列出支持的方法"),
            "headers": {"Allow": {"schema": {"type": "string"}, "example": "GET, PUT"}},
            "content": _json_content(
                _object({"message": _string(), "allowed": {"type": "array", "items": {"type": "string"}}}),
                {"message": "该接口不支持 DELETE 请求", "allowed": ["GET", "PUT"]},
            ),
        },
        "NotFound": message(
            _("没有这个活动、单位或统计表，或本次活动不要求这张表、不涉及这个单位"), "本次活动没有这张表：x"
        ),
        "Conflict": {
            "description": _("他人已保存了更新的版本；什么也没有覆盖。对照两边数值后，用新版本号重新保存"),
            "content": _json_content(
                _ref("Conflict"),
                {
                    "message": "保存被拒绝：county_reporter 已于 10:12:00 修改了这张表（第 5 版）。"
                    "请对照两边的数值，确认后再保存。",
                    "version": 5,
                    "theirs": {**_VALUES, "3A": "66.91"},
                    "yours": {"3A": "66.92"},
                },
            ),
        },
    }


def _parameters() -> Json:
    return {
        "CampaignId": {
            "name": "campaign_id",
            "in": "path",
            "required": True,
            "description": _("活动编号"),
            "schema": {"type": "integer"},
            "example": 1,
        },
        "UnitId": {
            "name": "unit_id",
            "in": "path",
            "required": True,
            "description": _("单位编号"),
            "schema": {"type": "integer"},
            "example": 2,
        },
        "FormCode": {
            "name": "form_code",
            "in": "path",
            "required": True,
            "description": _("统计表代码，须是该活动要求的表"),
            "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
            "example": "warmth-2018",
        },
    }


def _param(name: str) -> Json:
    return {"$ref": f"#/components/parameters/{name}"}


def _response(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _ok(description: str, schema: str, example: Any) -> Json:
    return {"200": {"description": description, "content": _json_content(_ref(schema), example)}}


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    responses: Json,
    *,
    parameters: tuple[str, ...] = (),
    body: tuple[str, Any] | None = None,
    body_required: bool = True,
    write: bool = False,
    public: bool = False,
    errors: tuple[str, ...] = (),
) -> Json:
    operation: Json = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
    }
    if parameters:
        operation["parameters"] = [_param(name) for name in parameters]
    if body is not None:
        schema, example = body
        operation["requestBody"] = {
            "required": body_required,
            "content": _json_content(_ref(schema), example),
        }
    all_responses = {**responses, "405": _response("MethodNotAllowed")}
    if not public:
        all_responses["401"] = _response("Unauthorized")
    for status in errors:
        name = {"400": "BadRequest", "403": "Forbidden", "404": "NotFound", "409": "Conflict"}[status]
        if status == "403" and write:
            name = "CsrfForbidden"
        all_responses[status] = _response(name)
    operation["responses"] = dict(sorted(all_responses.items()))
    if public:
        operation["security"] = []
    elif write:
        operation["security"] = [{SESSION: [], CSRF: []}]
    return operation


def _paths() -> Json:
    table_params = ("CampaignId", "UnitId", "FormCode")
    table_ok = _ok(_("这张表现在的样子（与 GET 相同）"), "Table", _TABLE)
    submitted = {**_TABLE, **_STATUS, "editable": False, "permissions": {"fill": True, "review": False}}
    returned = {**submitted, "status": "returned", "status_label": "已退回", "version": 7, "editable": True}
    returned["review_comment"] = "3A 的分项请按元核对"
    accepted = {**submitted, "status": "accepted", "status_label": "审核通过", "version": 7}
    accepted["permissions"] = {"fill": False, "review": True}
    workflow = _("填报员（或本单位管理员）可以报送；上级单位的审核员和管理员可以退回、审核通过、解锁。")
    return {
        "/": {
            "get": _operation(
                "index",
                "docs",
                _("接口入口"),
                _("各接口的链接。无需登录。"),
                _ok(
                    _("链接"),
                    "Index",
                    {
                        "title": "送温暖 数据接口",
                        "links": {
                            "me": "/api/me",
                            "campaigns": "/api/campaigns",
                            "openapi": "/api/openapi.json",
                            "docs": "/api/docs/",
                        },
                    },
                ),
                public=True,
            )
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "docs",
                _("本 OpenAPI 3.1 文档"),
                _("无需登录。"),
                {
                    "200": {
                        "description": _("OpenAPI 文档"),
                        "content": _json_content(
                            {"type": "object"}, {"openapi": "3.1.0", "info": {"title": "送温暖 数据接口"}}
                        ),
                    }
                },
                public=True,
            )
        },
        "/docs/": {
            "get": _operation(
                "docs",
                "docs",
                _("接口说明（网页）"),
                _("把本文档排成中文网页。无需登录。"),
                {
                    "200": {
                        "description": _("HTML 网页"),
                        "content": {
                            "text/html": {"schema": {"type": "string"}, "example": "<!DOCTYPE html>…"}
                        },
                    }
                },
                public=True,
            )
        },
        "/me": {
            "get": _operation(
                "me",
                "account",
                _("当前用户"),
                _(
                    "用户、所属单位和角色。同时设置 csrftoken Cookie；"
                    "写操作把它的值放在 X-CSRFToken 请求头中。"
                ),
                _ok(
                    _("当前用户"),
                    "Me",
                    {
                        "user": {"id": 4, "username": "county_reporter", "name": "王丽"},
                        "unit": _UNIT,
                        "role": "reporter",
                        "role_label": "填报员",
                        "csrf_token": "0aWeL8…",
                    },
                ),
            )
        },
        "/campaigns": {
            "get": _operation(
                "campaign_list",
                "campaigns",
                _("活动列表"),
                _(
                    "发文单位或某个主送单位是用户可见的单位，或主送单位是用户所在单位或其上级的活动（与网页相同）。"
                ),
                _ok(_("活动"), "CampaignList", {"campaigns": [_CAMPAIGN]}),
            )
        },
        "/campaigns/{campaign_id}": {
            "get": _operation(
                "campaign_detail",
                "campaigns",
                _("活动详情"),
                _("通知的各项信息和要求报送的统计表。"),
                _ok(
                    _("活动"),
                    "Campaign",
                    {
                        **_CAMPAIGN,
                        "period_text": "2018年1月1日至2月15日",
                        "receiving_department": "市总权益保障部",
                        "contact": {"name": "张三", "phone": "0724-2341234", "email": ""},
                        "addressees": [{"id": 2, "name": "东宝区总工会"}],
                        "forms": [_FORM],
                        "notice_text": "",
                    },
                ),
                parameters=("CampaignId",),
                errors=("403", "404"),
            )
        },
        "/campaigns/{campaign_id}/units": {
            "get": _operation(
                "campaign_units",
                "campaigns",
                _("各单位报送进度"),
                _(
                    "本次活动涉及的单位（发文单位、主送单位及其下级）中用户可见的："
                    "审核员和管理员为本单位及下级各单位，填报员为本单位。每张表的状态。"
                ),
                _ok(
                    _("各单位"),
                    "UnitList",
                    {
                        "campaign_id": 1,
                        "form_codes": ["warmth-2018"],
                        "units": [
                            {
                                **_UNIT,
                                "state": "submitted",
                                "late": False,
                                "forms": {"warmth-2018": _STATUS},
                                "permissions": {"fill": False, "review": True},
                            }
                        ],
                    },
                ),
                parameters=("CampaignId",),
                errors=("403", "404"),
            )
        },
        "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}": {
            "get": _operation(
                "form_get",
                "forms",
                _("一个单位的一张表"),
                _(
                    "数值、状态、版本号、书面说明、表头、错误和警告。能看到该单位的用户都可读取"
                    "（填报员：本单位；审核员、管理员：本单位及下级）。"
                    "尚未开始填报时各项为 null，状态为 not-started。"
                ),
                _ok(_("这张表"), "Table", _TABLE),
                parameters=table_params,
                errors=("403", "404"),
            ),
            "put": _operation(
                "form_save",
                "forms",
                _("保存草稿"),
                _(
                    "只有该单位的填报员和管理员可以保存，只能保存草稿或已退回的表。"
                    "version 须是读到的版本号：他人已保存时返回 409，两边的数值都在其中，什么也没有覆盖。"
                ),
                table_ok,
                parameters=table_params,
                body=(
                    "TableSave",
                    {
                        "version": 4,
                        "values": {"3A": "66.92", "5A": None, "1A": 48},
                        "explanations": {"warmth-2018.3A.sum.rounding": "分项按元四舍五入后相加"},
                        "header": {"reporter": "王丽", "phone": "0724-2345678", "report_date": "2018-02-03"},
                    },
                ),
                write=True,
                errors=("400", "403", "404", "409"),
            ),
        },
        "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/submit": {
            "post": _operation(
                "form_submit",
                "workflow",
                _("报送"),
                _("有错误（强制性审核）或有警告（核实性审核）未写说明时不能报送（400）。") + workflow,
                _ok(_("已报送的表"), "Table", submitted),
                parameters=table_params,
                write=True,
                errors=("400", "403", "404"),
            )
        },
        "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/return": {
            "post": _operation(
                "form_return",
                "workflow",
                _("退回"),
                _("把已报送的表退回填报单位，须写明审核意见。") + workflow,
                _ok(_("已退回的表"), "Table", returned),
                parameters=table_params,
                body=("ReturnBody", {"comment": "3A 的分项请按元核对"}),
                write=True,
                errors=("400", "403", "404"),
            )
        },
        "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/accept": {
            "post": _operation(
                "form_accept",
                "workflow",
                _("审核通过"),
                _("已报送且没有错误的表才能审核通过；之后锁定，并计入汇总。") + workflow,
                _ok(_("审核通过的表"), "Table", accepted),
                parameters=table_params,
                body=("Comment", {"comment": ""}),
                body_required=False,
                write=True,
                errors=("400", "403", "404"),
            )
        },
        "/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/unlock": {
            "post": _operation(
                "form_unlock",
                "workflow",
                _("解锁"),
                _("重新打开审核通过的表以便更正（留有记录），状态变为已退回；须写明原因。") + workflow,
                _ok(_("已退回的表"), "Table", {**returned, "review_comment": "解锁：3B 数据有误"}),
                parameters=table_params,
                body=("UnlockBody", {"reason": "3B 数据有误"}),
                write=True,
                errors=("400", "403", "404"),
            )
        },
        "/campaigns/{campaign_id}/rollup/{unit_id}/{form_code}": {
            "get": _operation(
                "rollup",
                "rollup",
                _("汇总"),
                _(
                    "该单位及其下级各单位审核通过的表逐项相加；没有任何表填报的项目为 null（空白，不是 0）。"
                    "审核员、管理员：本单位及下级；填报员：本单位。"
                ),
                _ok(
                    _("汇总"),
                    "Rollup",
                    {
                        "campaign_id": 1,
                        "form": _FORM,
                        "unit": {**_UNIT, "id": 1, "name": "荆门市总工会", "kind": "city", "parent_id": None},
                        "accepted_units": 7,
                        "values": {"1A": 312, "3A": "401.27", "5A": None},
                    },
                ),
                parameters=table_params,
                errors=("403", "404"),
            )
        },
    }


def document() -> Json:
    """The OpenAPI 3.1 document (built per request, in the request's language)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": _("送温暖 数据接口"),
            "version": "1",
            "description": _(
                "与网页相同的数据和权限。登录使用网站的会话（Cookie）；"
                "写操作（PUT、POST）须在 X-CSRFToken 请求头中带上 csrftoken Cookie 的值（GET /me 会设置它）。"
                '金额（万元）一律写成文字，如 "12.35"，不经过浮点数；计数为整数；空白为 null，不等于 0。'
                '出错时返回 JSON：{"message": "…"}，'
                "401 未登录，403 无权限，404 不存在，400 请求被拒绝，409 版本冲突。"
            ),
        },
        "servers": [{"url": reverse("api:index").rstrip("/") or "/"}],
        "security": [{SESSION: []}],
        "tags": [
            {"name": "account", "description": _("当前用户")},
            {"name": "campaigns", "description": _("活动和报送进度")},
            {"name": "forms", "description": _("一个单位的一张统计表")},
            {"name": "workflow", "description": _("报送、退回、审核通过、解锁")},
            {"name": "rollup", "description": _("汇总")},
            {"name": "docs", "description": _("接口文档")},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                SESSION: {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": _("登录网站后浏览器保存的会话 Cookie"),
                },
                CSRF: {
                    "type": "apiKey",
                    "in": "header",
                    "name": CSRF_HEADER,
                    "description": _("写操作必需：{cookie} Cookie 的值").format(
                        cookie=settings.CSRF_COOKIE_NAME
                    ),
                },
            },
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": _responses(),
        },
    }


# --- the readable form, for the docs page ----------------------------------------------------------------


@dataclass
class ReadableParameter:
    name: str
    where: str
    type: str
    description: str


@dataclass
class ReadableResponse:
    status: str
    description: str
    schema: str
    example: str


@dataclass
class ReadableOperation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    access: str
    parameters: list[ReadableParameter] = field(default_factory=list)
    body_schema: str = ""
    body_example: str = ""
    responses: list[ReadableResponse] = field(default_factory=list)


@dataclass
class ReadableProperty:
    name: str
    type: str
    required: bool
    description: str


@dataclass
class ReadableSchema:
    name: str
    description: str
    properties: list[ReadableProperty]


@dataclass
class ReadableSpec:
    title: str
    version: str
    description: str
    operations: list[ReadableOperation]
    schemas: list[ReadableSchema]
    security: list[tuple[str, str]]


def _resolve(spec: Json, node: Json) -> Json:
    while "$ref" in node:
        where: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            where = where[part]
        node = where
    return node


def _schema_name(schema: Json) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "")
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def _pretty(example: Any) -> str:
    return json.dumps(example, ensure_ascii=False, indent=2)


def readable(spec: Json) -> ReadableSpec:
    """The document as lists a template can show without JavaScript."""
    base = spec["servers"][0]["url"].rstrip("/")
    operations: list[ReadableOperation] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            security = op.get("security", spec["security"])
            access = (
                _("公开")
                if not security
                else _("需登录，并带 CSRF 令牌")
                if any(CSRF in s for s in security)
                else _("需登录")
            )
            readable_op = ReadableOperation(
                method=method.upper(),
                path=base + path,
                summary=op["summary"],
                description=op["description"],
                tag=op["tags"][0],
                access=access,
            )
            for parameter in op.get("parameters", []):
                parameter = _resolve(spec, parameter)
                readable_op.parameters.append(
                    ReadableParameter(
                        parameter["name"],
                        parameter["in"],
                        _schema_name(parameter["schema"]),
                        parameter.get("description", ""),
                    )
                )
            if "requestBody" in op:
                body = next(iter(op["requestBody"]["content"].values()))
                readable_op.body_schema = _schema_name(body["schema"])
                readable_op.body_example = _pretty(body["example"])
            for status, response in op["responses"].items():
                response = _resolve(spec, response)
                content: Json = next(iter(response.get("content", {}).values()), {})
                example = content.get("example")
                readable_op.responses.append(
                    ReadableResponse(
                        status,
                        response["description"],
                        _schema_name(content.get("schema", {})),
                        example if isinstance(example, str) else _pretty(example),
                    )
                )
            operations.append(readable_op)
    schemas: list[ReadableSchema] = []
    for name, schema in spec["components"]["schemas"].items():
        parts = schema.get("allOf", [schema])
        properties: list[ReadableProperty] = []
        for part in parts:
            if "$ref" in part:
                properties.append(
                    ReadableProperty(
                        "…",
                        _schema_name(part),
                        True,
                        _("包含 {name} 的各字段").format(name=_schema_name(part)),
                    )
                )
                continue
            required = set(part.get("required", []))
            for prop, prop_schema in part.get("properties", {}).items():
                properties.append(
                    ReadableProperty(
                        prop, _schema_name(prop_schema), prop in required, prop_schema.get("description", "")
                    )
                )
        schemas.append(ReadableSchema(name, schema.get("description", ""), properties))
    security = [
        (scheme["name"], scheme.get("description", ""))
        for scheme in spec["components"]["securitySchemes"].values()
    ]
    info = spec["info"]
    return ReadableSpec(info["title"], info["version"], info["description"], operations, schemas, security)
