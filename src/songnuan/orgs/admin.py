from __future__ import annotations

from typing import Any

from django.contrib import admin

from songnuan.orgs.models import Account, Unit, path_segment
from songnuan.orgs.services import units_came, units_moved, units_went
from songnuan.orgs.signals import unit_moved, unit_moving
from songnuan.orgs.throttle import AdminLoginForm

# /admin/login/ is throttled exactly like /login/ (one mechanism, songnuan.orgs.throttle): without this,
# guessing at the admin's form was unlimited.
admin.site.login_form = AdminLoginForm


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("name", "kind", "parent", "contact_name", "contact_phone", "depth")
    list_filter = ("kind", "depth")
    search_fields = ("name", "contact_name")
    readonly_fields = ("path", "depth")

    def save_model(self, request: object, obj: Unit, form: object, change: bool) -> None:
        # Keep the materialised path right, since the permission rules and the roll-up rely on it, and the
        # counts of units below it that the roll-up reads.
        if change and Unit.objects.filter(pk=obj.pk).exclude(parent_id=obj.parent_id).exists():
            unit_moving.send(sender=Unit, unit_id=obj.pk)  # before the row is written (see the signal)
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        expected = (obj.parent.path if obj.parent else "") + path_segment(obj.pk)
        if obj.path != expected:
            old = obj.path
            Unit.objects.filter(pk=obj.pk).update(path=expected, depth=expected.count("/") - 1)
            for below in Unit.objects.filter(path__startswith=old).exclude(pk=obj.pk) if old else []:
                new_path = expected + below.path[len(old) :]
                Unit.objects.filter(pk=below.pk).update(path=new_path, depth=new_path.count("/") - 1)
            if old:
                units_moved(old, expected, 1 + obj.units_below)
                unit_moved.send(sender=Unit, unit_id=obj.pk, old_path=old, new_path=expected)
            else:
                units_came(expected)

    def delete_model(self, request: object, obj: Unit) -> None:
        path = obj.path
        super().delete_model(request, obj)  # type: ignore[arg-type]
        units_went(path)

    def delete_queryset(self, request: object, queryset: Any) -> None:
        paths = list(queryset.values_list("path", flat=True))
        super().delete_queryset(request, queryset)  # type: ignore[arg-type]
        for path in paths:
            units_went(path)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in the stubs
    list_display = ("user", "unit", "role", "phone")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "unit__name")
    autocomplete_fields = ("unit",)
