"""The archive in the Django admin: for looking things up, not for changing them.

A file's lifecycle, its ID numbers (which hold the one-household-one-file claim) and its search keys are
written only by `songnuan.archive.services`; here only plain descriptive fields may be corrected. ID, phone
and card numbers are shown masked, as on every other page: the admin has no logged way to show them in full.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from songnuan.archive.idnumbers import mask_card, mask_id_number, mask_phone, shown_birth_year
from songnuan.archive.models import Household, HouseholdEvent, ImportJob, Member, PersonalDataView, Plan
from songnuan.archive.services import as_text

#: What may be corrected in the admin: descriptive text that no rule or key depends on.
HOUSEHOLD_EDITABLE = ("employer", "employer_kind", "difficulty_type", "main_cause", "bank", "bank_branch")


class MemberInline(admin.TabularInline):  # type: ignore[type-arg]  # generic only in the stubs
    model = Member
    extra = 0
    fields = ("name", "relation", "masked_id", "monthly_income", "health", "school_or_employer")
    readonly_fields = fields

    @admin.display(description=_("身份证号"))
    def masked_id(self, member: Member) -> str:
        return mask_id_number(member.id_number) if member.id_number else ""

    def has_add_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        return False


class PlanInline(admin.StackedInline):  # type: ignore[type-arg]  # generic only in the stubs
    model = Plan
    fields = ("contact", "deadline", "measures", "path")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("head_name", "masked_id", "unit", "category", "status", "filed_at")
    list_filter = ("status", "category")
    list_select_related = ("unit",)
    search_fields = ("head_name", "unit__name")
    show_full_result_count = False  # the archive is large; an exact count per page costs a full scan
    inlines = (MemberInline, PlanInline)
    fields = (
        "unit",
        "head_name",
        "masked_id",
        "head_sex",
        "birth_year",
        "masked_phone",
        "category",
        "status",
        *HOUSEHOLD_EDITABLE,
        "monthly_income",
        "household_size",
        "minimum_living_line",
        "card_kind",
        "masked_card",
        "applied_at",
        "filed_at",
        "last_reviewed_at",
        "out_path",
        "ended_on",
        "closed_reason",
    )
    readonly_fields = tuple(name for name in fields if name not in HOUSEHOLD_EDITABLE)

    @admin.display(description=_("户主身份证号"))
    def masked_id(self, household: Household) -> str:
        return mask_id_number(household.head_id_number)

    @admin.display(description=_("出生年份"))
    def birth_year(self, household: Household) -> int | None:
        # The full date beside the masked number would leave only a handful of candidates for it.
        return shown_birth_year(household.head_birth_date)

    @admin.display(description=_("手机号"))
    def masked_phone(self, household: Household) -> str:
        return mask_phone(household.phone) if household.phone else ""

    @admin.display(description=_("卡号"))
    def masked_card(self, household: Household) -> str:
        return mask_card(household.card_number) if household.card_number else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Household | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Household, form: Any, change: bool) -> None:
        """A correction in the admin goes to the file's history like any other change."""
        changed = [name for name in form.changed_data if name in HOUSEHOLD_EDITABLE]
        with transaction.atomic():
            stored = Household.objects.select_for_update().get(pk=obj.pk)
            old = {name: as_text(getattr(stored, name)) for name in changed}
            super().save_model(request, obj, form, change)
            new = {name: as_text(getattr(obj, name)) for name in changed}
            if old != new:
                user = request.user if isinstance(request.user, User) else None
                HouseholdEvent.objects.create(
                    household=obj,
                    user=user,
                    action=HouseholdEvent.Action.EDITED,
                    old=old,
                    new=new,
                    note=str(_("在管理后台修改")),
                )


@admin.register(HouseholdEvent)
class HouseholdEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """The archive's audit trail: read-only, nobody changes or deletes an entry (values not shown here: the
    file's history page masks the personal numbers in them)."""

    list_display = ("at", "user", "household", "action")
    list_filter = ("action",)
    list_select_related = ("user", "household__unit")
    search_fields = ("user__username", "household__head_name")
    ordering = ("-id",)  # newest first by the primary key: "at" has no index (see the model)
    show_full_result_count = False
    fields = ("at", "user", "household", "action", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: HouseholdEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: HouseholdEvent | None = None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """Read-only; an old import may be deleted (its households stay, only the link to the upload goes)."""

    list_display = ("file_name", "user", "unit", "state", "created", "existing", "rejected", "started_at")
    list_filter = ("state",)
    list_select_related = ("user", "unit")
    search_fields = ("file_name", "user__username", "unit__name")
    fields = (
        "file_name",
        "user",
        "unit",
        "state",
        "columns",
        "mapping",
        "rows_done",
        "created",
        "existing",
        "rejected",
        "warnings",
        "error",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    """The access log: read-only, nobody deletes an entry."""

    list_display = ("at", "user", "household", "via")
    list_filter = ("via",)
    list_select_related = ("user", "household__unit")
    search_fields = ("user__username", "household__head_name")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PersonalDataView | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PersonalDataView | None = None) -> bool:
        return False
