"""The OpenAPI 3.1 document of the API, as a Python dict, and a readable form of it for the docs page.

Written by hand, operation by operation: tests/api/test_openapi.py fails when a URL pattern of
`songnuan.api.urls` (or one of its methods) is missing here, and when a documented path has no pattern.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import TextChoices
from django.urls import reverse
from django.utils.translation import gettext as _

from songnuan.registry.models import Household

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


# A file of the archive as the list shows it: numbers masked, money (元) as exact text, blank income null.
_HOUSEHOLD_SUMMARY = {
    "id": 17,
    "unit": {"id": 2, "name": "东宝区总工会"},
    "head_name": "王建国",
    "head_id_number": "1101**********002X",
    "head_sex": "女",
    "head_birth_year": 1949,
    "head_birth_date": None,
    "phone": "138****1234",
    "category": "worker",
    "category_label": "困难职工",
    "difficulty_type": "深度困难",
    "status": "filed",
    "status_label": "已建档",
    "household_size": 3,
    "monthly_income": "2400",
    "income_per_person": "800",
    "filed_at": "2018-01-12T09:30:00+08:00",
    "last_reviewed_at": "2018-01-12T09:30:00+08:00",
    "plan_missing": ["期限", "路径"],
}
_HOUSEHOLD = {
    **_HOUSEHOLD_SUMMARY,
    "full_numbers": False,
    "employer": "东宝区恒力水泥有限公司",
    "employer_kind": "民营企业",
    "main_cause": "本人患大病",
    "secondary_causes": ["子女教育"],
    "minimum_living_line": "560",
    "card_kind": "bank-card",
    "card_kind_label": "银行卡",
    "bank": "中国工商银行",
    "bank_branch": "荆门东宝支行",
    "card_number": "6222***********0123",
    "applied_at": "2018-01-08T15:02:00+08:00",
    "out_path": "",
    "out_path_label": "",
    "ended_on": None,
    "closed_reason": "",
    "members": [
        {
            "id": 31,
            "name": "李秀英",
            "relation": "配偶",
            "id_number": "4405**********0014",
            "monthly_income": None,
            "health": "患病",
            "school_or_employer": "",
        }
    ],
    "plan": {
        "contact": "东宝区总工会 李红",
        "deadline": None,
        "measures": "介绍就业，申请医疗互助",
        "path": "",
        "path_label": "",
        "missing": ["期限", "路径"],
    },
    "permissions": {"view_personal_data": False},
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
        **_household_schemas(),
        "Index": _object(
            {
                "title": {"type": "string"},
                "links": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            ["title", "links"],
        ),
    }


def _choice_codes(choices: type[TextChoices]) -> str:
    return "、".join(f"{code} {label}" for code, label in choices.choices)


def _household_schemas() -> Json:
    money = _("金额（元）为文字，精确，不经过浮点数；空白（未填写）为 null，不等于 0")
    masked = _("掩码显示（如 4208**********1234）；带 full=1 且有权限时为完整号码")
    summary = _object(
        {
            "id": {"type": "integer", "description": _("档案编号")},
            "unit": _object(
                {"id": {"type": "integer"}, "name": {"type": "string"}}, ["id", "name"], _("建档单位")
            ),
            "head_name": _string(_("户主姓名")),
            "head_id_number": _string(_("户主身份证号，") + masked),
            "head_sex": _string(
                _("性别（由身份证号第17位的奇偶得出；掩码号码已显示这一位）"), enum=["男", "女"]
            ),
            "head_birth_year": {"type": "integer", "description": _("出生年份（由身份证号得出）")},
            "head_birth_date": _nullable(
                "string",
                _(
                    "出生日期（由身份证号得出）：只在 full=1 且有权限时给出，否则为 null——"
                    "完整的出生日期加上掩码号码几乎可以还原身份证号"
                ),
                format="date",
            ),
            "phone": _string(_("手机号，掩码显示（如 138****1234）；未填写为空文字")),
            "category": _string(_choice_codes(Household.Category), enum=list(Household.Category.values)),
            "category_label": _string(_("类别（中文）")),
            "difficulty_type": _string(_("困难类型（深度困难、相对困难、意外致困 …），可为空文字")),
            "status": _string(_choice_codes(Household.Status), enum=list(Household.Status.values)),
            "status_label": _string(_("状态（中文）")),
            "household_size": {"type": "integer", "description": _("家庭人口")},
            "monthly_income": _nullable("string", _("家庭月收入（元）。") + money),
            "income_per_person": _nullable("string", _("人均月收入（元），月收入为空白时为 null")),
            "filed_at": _nullable("string", _("建档时间；尚未建档为 null"), format="date-time"),
            "last_reviewed_at": _nullable("string", _("最近年审时间"), format="date-time"),
            "plan_missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": _(
                    "四明确帮扶计划尚未写明的部分：联系人（单位）、期限、措施、路径；写全时为空列表"
                ),
            },
        },
        [
            *("id", "unit", "head_name", "head_id_number", "head_sex", "head_birth_year", "head_birth_date"),
            "phone",
            *("category", "category_label", "difficulty_type", "status", "status_label"),
            *("household_size", "monthly_income", "income_per_person", "filed_at", "last_reviewed_at"),
            "plan_missing",
        ],
        _("档案列表中的一户"),
    )
    member = _object(
        {
            "id": {"type": "integer"},
            "name": _string(_("姓名")),
            "relation": _string(_("与户主关系")),
            "id_number": _string(_("身份证号，") + masked + _("；未登记为空文字")),
            "monthly_income": _nullable("string", _("月收入（元）。") + money),
            "health": _string(_("健康状况")),
            "school_or_employer": _string(_("就读学校或工作单位")),
        },
        ["id", "name", "relation", "id_number", "monthly_income", "health", "school_or_employer"],
        _("家庭成员"),
    )
    out_paths = ["", *Household.OutPath.values]
    plan = _object(
        {
            "contact": _string(_("帮扶联系人（单位）")),
            "deadline": _nullable("string", _("脱困期限"), format="date"),
            "measures": _string(_("帮扶措施")),
            "path": _string(
                _("脱困路径：") + _choice_codes(Household.OutPath) + _("；未写为空文字"), enum=out_paths
            ),
            "path_label": _string(_("脱困路径（中文）")),
            "missing": {"type": "array", "items": {"type": "string"}, "description": _("尚未写明的部分")},
        },
        ["contact", "deadline", "measures", "path", "path_label", "missing"],
        _("四明确帮扶计划：联系人（单位）、期限、措施、路径"),
    )
    detail = {
        "allOf": [
            _ref("HouseholdSummary"),
            _object(
                {
                    "full_numbers": {
                        "type": "boolean",
                        "description": _("身份证号、手机号和卡号是否为完整号码（full=1，且已记录本次查看）"),
                    },
                    "employer": _string(_("工作单位")),
                    "employer_kind": _string(_("单位性质")),
                    "main_cause": _string(_("主要致困原因")),
                    "secondary_causes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": _("其他致困原因，最多三项"),
                    },
                    "minimum_living_line": _nullable("string", _("当地低保标准（元/人·月）。") + money),
                    "card_kind": _string(
                        _choice_codes(Household.CardKind) + _("；未填写为空文字"),
                        enum=["", *Household.CardKind.values],
                    ),
                    "card_kind_label": _string(_("发放卡类型（中文）")),
                    "bank": _string(_("开户银行")),
                    "bank_branch": _string(_("开户网点")),
                    "card_number": _string(
                        _("卡号，掩码显示（如 6222***********3456）；带 full=1 且有权限时为完整号码")
                    ),
                    "applied_at": _string(_("申请时间"), format="date-time"),
                    "out_path": _string(_("解困脱困的路径；未脱困为空文字"), enum=out_paths),
                    "out_path_label": _string(_("脱困路径（中文）")),
                    "ended_on": _nullable("string", _("脱困或注销日期"), format="date"),
                    "closed_reason": _string(_("注销原因")),
                    "members": {"type": "array", "items": _ref("Member"), "description": _("家庭成员")},
                    "plan": _ref("Plan"),
                    "permissions": _object(
                        {
                            "view_personal_data": {
                                "type": "boolean",
                                "description": _("当前用户可用 full=1 查看完整号码（每次查看都留记录）"),
                            }
                        },
                        ["view_personal_data"],
                    ),
                },
                [
                    *("full_numbers", "employer", "employer_kind", "main_cause", "secondary_causes"),
                    *("minimum_living_line", "card_kind", "card_kind_label", "bank", "bank_branch"),
                    *("card_number", "applied_at", "out_path", "out_path_label", "ended_on"),
                    *("closed_reason", "members", "plan", "permissions"),
                ],
            ),
        ],
        "description": _("一份档案的全部内容"),
    }
    page = _object(
        {
            "count": {"type": "integer", "description": _("符合条件的档案总数")},
            "next": _nullable("string", _("下一页的地址；最后一页为 null")),
            "previous": _nullable("string", _("上一页的地址；第一页为 null")),
            "results": {"type": "array", "items": _ref("HouseholdSummary"), "description": _("本页的档案")},
        },
        ["count", "next", "previous", "results"],
    )
    return {
        "HouseholdSummary": summary,
        "HouseholdList": page,
        "Member": member,
        "Plan": plan,
        "Household": detail,
    }


# --- responses and parameters ----------------------------------------------------------------------------


def _json_content(schema: Json, example: Any) -> Json:
    return {"application/json": {"schema": schema, "example": example}}


def _message_response(description: str, example: str) -> Json:
    return {"description": description, "content": _json_content(_ref("Message"), {"message": example})}


def _responses() -> Json:
    message = _message_response

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
        "HouseholdId": {
            "name": "household_id",
            "in": "path",
            "required": True,
            "description": _("档案编号"),
            "schema": {"type": "integer"},
            "example": 17,
        },
        "SearchText": {
            "name": "q",
            "in": "query",
            "required": False,
            "description": _(
                "查找（最多 50 个字），按样子理解：身份证号（户主或家庭成员，18 位或 15 位）、"
                "身份证号的后几位、手机号或其开头、姓名的拼音首字母（zs 为张三）、姓名的开头"
            ),
            "schema": {"type": "string", "maxLength": 50},
            "example": "zs",
        },
        "UnitFilter": {
            "name": "unit",
            "in": "query",
            "required": False,
            "description": _(
                "单位编号：只看该单位及其下级单位的档案；须是当前用户可见的单位"
                "（没有这个单位 404，不可见 403）"
            ),
            "schema": {"type": "integer"},
            "example": 2,
        },
        "CategoryFilter": {
            "name": "category",
            "in": "query",
            "required": False,
            "description": _("类别：") + _choice_codes(Household.Category) + _("；其他值返回 400"),
            "schema": {"type": "string", "enum": list(Household.Category.values)},
            "example": "worker",
        },
        "StatusFilter": {
            "name": "status",
            "in": "query",
            "required": False,
            "description": _("状态：") + _choice_codes(Household.Status) + _("；其他值返回 400"),
            "schema": {"type": "string", "enum": list(Household.Status.values)},
            "example": "filed",
        },
        "Page": {
            "name": "page",
            "in": "query",
            "required": False,
            "description": _("页码，从 1 开始；超过最后一页返回 404"),
            "schema": {"type": "integer", "minimum": 1, "default": 1},
            "example": 1,
        },
        "PageSize": {
            "name": "page_size",
            "in": "query",
            "required": False,
            "description": _("每页档案数，默认 50，最多 200"),
            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            "example": 50,
        },
        "FullNumbers": {
            "name": "full",
            "in": "query",
            "required": False,
            "description": _(
                "1：显示完整的身份证号、手机号和卡号。须有“可查看完整号码”权限（否则 403），每次查看都留记录"
            ),
            "schema": {"type": "string", "enum": ["0", "1"]},
            "example": "1",
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
                            "households": "/api/households",
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
        "/households": {
            "get": _operation(
                "household_list",
                "households",
                _("困难职工档案列表"),
                _(
                    "当前用户可见的档案（填报员：本单位；审核员、管理员：本单位及下级各单位），可按文字查找、"
                    "按单位、类别、状态筛选，分页。身份证号和手机号一律掩码显示，出生日期只给年份。"
                    "按文字查找时按所查的键排序，否则新建的在前。"
                ),
                {
                    **_ok(
                        _("一页档案"),
                        "HouseholdList",
                        {
                            "count": 123,
                            "next": "/api/households?q=wjg&page=2",
                            "previous": None,
                            "results": [_HOUSEHOLD_SUMMARY],
                        },
                    ),
                    "400": _message_response(
                        _("参数不对：类别、状态不是可用的值，页码、每页数、单位编号不是正整数")
                        + _("，或每页超过 200"),
                        "参数 category 没有“poor”这个值；可用的值：worker（困难职工）、"
                        "migrant（困难农民工）、model-worker（困难劳模）",
                    ),
                    "403": _message_response(_("无权查看 unit 所指的单位"), "您无权查看这个单位"),
                    "404": _message_response(_("没有 unit 所指的单位，或没有这一页"), "没有第 5 页：共 3 页"),
                },
                parameters=(
                    "SearchText",
                    "UnitFilter",
                    "CategoryFilter",
                    "StatusFilter",
                    "Page",
                    "PageSize",
                ),
            )
        },
        "/households/{household_id}": {
            "get": _operation(
                "household_detail",
                "households",
                _("一份困难职工档案"),
                _(
                    "档案的全部内容、家庭成员和四明确帮扶计划。身份证号、手机号和卡号掩码显示，出生日期只给年份；"
                    "带 full=1 时显示完整号码和出生日期，须有“可查看完整号码”权限且能看到这份档案，"
                    "每次查看都记录（途径：接口）。看不到的档案与不存在的档案一样返回 404。"
                ),
                {
                    **_ok(_("这份档案"), "Household", _HOUSEHOLD),
                    "400": _message_response(
                        _("参数 full 不是 1 或 0"), "参数 full 只能是 1 或 0，这里是“yes”"
                    ),
                    "403": _message_response(
                        _("带 full=1 但没有查看完整号码的权限；什么也没有记录"),
                        "您无权查看完整的身份证号、手机号和卡号",
                    ),
                    "404": _message_response(_("没有这份档案，或当前用户看不到它"), "没有这份档案"),
                },
                parameters=("HouseholdId", "FullNumbers"),
            )
        },
        "/campaigns/{campaign_id}/rollup/{unit_id}/{form_code}": {
            "get": _operation(
                "rollup",
                "rollup",
                _("汇总"),
                _(
                    "该单位及其下级各单位审核通过的表逐项相加；没有任何表填报的项目为 null（空白，不是 0）。"
                    "只对审核员、管理员开放：本单位及下级；填报员（包括本单位的）得到 403。"
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
            {"name": "households", "description": _("困难职工档案（只读）")},
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
