"""The demo seed: logins, jobs made by the real handoff, and one review item of each kind."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from operations.models import Job
from review_queue.models import ReviewItem


@pytest.mark.django_db
def test_the_seed_makes_a_believable_business_with_problems_to_review(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Login (office staff): staff / staff-demo-pass" in out
    assert get_user_model().objects.get(username="admin").is_superuser
    assert Job.objects.filter(origin_system="hubspot").count() == 2
    assert Job.objects.filter(status="in_progress").count() == 2
    # The hall's call-out is finished, and its invoice waits for Xero to be connected.
    assert Job.objects.get(title__startswith="Emergency call-out").status == "done"
    kinds = set(ReviewItem.objects.filter(status="open").values_list("kind", flat=True))
    assert kinds == {
        "missing_data",
        "possible_duplicate",
        "quote_changed",
        "active_job_affected",
        "connection",
    }
    assert ReviewItem.objects.get(kind="connection").title == "Reconnect Xero"
    assert (tmp_path / "hubspot-sandbox.json").exists()
    call_command("seed_demo")
    assert "already seeded" in capsys.readouterr().out
    assert Job.objects.count() == 3
