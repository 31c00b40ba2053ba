"""The demo city of `make run` carries a few hundred generated households across its units."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from songnuan.archive.models import Household
from songnuan.archive.selectors import due_for_yearly_review, plan_gaps


@pytest.mark.django_db
def test_seed_demo_files_a_few_hundred_households_in_every_state() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "已生成 300 户困难职工档案" in out.getvalue()
    assert Household.objects.count() == 300
    assert Household.objects.values("unit").distinct().count() >= 3
    assert set(Household.objects.values_list("status", flat=True)) == set(Household.Status.values)
    city_reviewer = User.objects.get(username="city_reviewer")
    assert city_reviewer.has_perm("archive.view_personal_data")
    assert not User.objects.get(username="dongbao_reporter").has_perm("archive.view_personal_data")
    assert plan_gaps(city_reviewer) and due_for_yearly_review(city_reviewer).exists()
    call_command("seed_demo", stdout=io.StringIO())
    assert Household.objects.count() == 300  # running it again adds nothing
