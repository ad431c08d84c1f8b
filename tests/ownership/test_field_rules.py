"""Field-ownership rules: validated, edited by admins with history, round-tripped through YAML."""

import pytest
from django.core.management import CommandError, call_command

from ownership.catalogue import DEFAULT_RULES
from ownership.models import FieldRule
from ownership.rules_yaml import rules_to_yaml
from ownership.services import RuleInvalid, field_rule_save

pytestmark = pytest.mark.django_db
ADDRESS = {
    "record_type": "customer",
    "field": "billing_address",
    "owner": "xero",
    "carriers": {"hubspot": "address"},
    "editable_by": "staff",
    "on_disagreement": "flag",
}


def test_the_business_defaults_are_loaded():
    assert FieldRule.objects.count() == len(DEFAULT_RULES)
    rule = FieldRule.objects.get(record_type="job", field="status")
    assert (rule.owner, rule.carriers) == ("operations", {"hubspot": "job_status"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"field": "colour"}, "unknown field. Fields of a customer"),
        ({"record_type": "spaceship"}, "unknown record type"),
        ({"owner": "myob"}, "the owner must be exactly one of"),
        ({"owner": ["xero", "hubspot"]}, "the owner must be exactly one of"),
        ({"carriers": {"xero": "Address"}}, "a field never flows into its owner"),
        ({"carriers": {"slack": "x"}}, "unknown carrier system"),
        ({"carriers": {"hubspot": "street"}}, "HubSpot holds this field as 'address', not"),
        ({"on_disagreement": "shout"}, "on_disagreement must be one of"),
        # Only what a connector can read and write can be owned or carried.
        (
            {"field": "account_notes", "owner": "hubspot", "carriers": {"xero": "Notes"}},
            "The customer's account notes: Xero holds no account notes",
        ),
        (
            {
                "record_type": "invoice",
                "field": "status",
                "carriers": {"hubspot": "payment_status"},
                "editable_by": "staff",
            },
            "The invoice's payment status: the hub cannot write the payment status in Xero",
        ),
        (
            {
                "record_type": "job",
                "field": "number",
                "owner": "hubspot",
                "carriers": {"operations": "number"},
            },
            "The job's job number: the hub cannot write the job number in the job register",
        ),
    ],
)
def test_a_broken_rule_is_refused_with_a_clear_message(change, message):
    with pytest.raises(RuleInvalid, match=message):
        field_rule_save(**(ADDRESS | change))


def test_each_change_is_in_the_history_with_who(django_user_model):
    admin = django_user_model.objects.create_user("boss", is_staff=True)
    field_rule_save(
        **(ADDRESS | {"owner": "hubspot", "carriers": {"xero": "Addresses (POBOX)"}}),
        note="The CRM is kept more current.",
        by=admin,
    )
    rule = FieldRule.objects.get(record_type="customer", field="billing_address")
    latest, before = rule.history.all()[:2]
    assert (latest.owner, latest.history_user, before.owner) == ("hubspot", admin, "xero")


def test_every_default_rule_is_one_its_systems_can_keep():
    from ownership.catalogue import FIELDS
    from ownership.services import field_rule_validate

    assert set(DEFAULT_RULES) == {(t, f) for t, fields in FIELDS.items() for f in fields}
    for rule in FieldRule.objects.all():
        field_rule_validate(
            record_type=rule.record_type,
            field=rule.field,
            owner=rule.owner,
            carriers=rule.carriers,
            editable_by=rule.editable_by,
            on_disagreement=rule.on_disagreement,
        )


def test_the_yaml_round_trip_is_lossless(tmp_path):
    field_rule_save(**(ADDRESS | {"note": "Wie gehts — ünïcode kept"}))
    exported = rules_to_yaml()
    path = tmp_path / "ownership.yaml"
    call_command("ownership", "export", "--output", str(path))
    assert path.read_text() == exported
    FieldRule.objects.all().delete()
    call_command("ownership", "import", str(path))
    assert rules_to_yaml() == exported


def test_import_check_refuses_a_broken_file_and_changes_nothing(tmp_path):
    before = rules_to_yaml()
    broken = tmp_path / "broken.yaml"
    broken.write_text("customer:\n  billing_address:\n    owner: xero\n    carriers: {xero: a}\n")
    with pytest.raises(CommandError, match="never flows into its owner"):
        call_command("ownership", "import", str(broken), "--check")
    assert rules_to_yaml() == before


def test_import_check_accepts_a_good_file_without_loading_it(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("job:\n  status:\n    owner: operations\n    carriers: {hubspot: job_status}\n")
    call_command("ownership", "import", str(good), "--check")
    assert "1 rules are valid; nothing was changed" in capsys.readouterr().out
    assert FieldRule.objects.count() == len(DEFAULT_RULES)
    call_command("ownership", "import", str(good))
    assert FieldRule.objects.count() == 1


def test_only_admins_edit_rules(client, django_user_model, office_staff):
    rule = FieldRule.objects.get(record_type="customer", field="billing_address")
    client.force_login(office_staff)
    assert client.get("/ownership/").status_code == 200
    assert client.post(f"/ownership/{rule.pk}/", {"owner": "hubspot"}).status_code == 403
    assert FieldRule.objects.get(pk=rule.pk).owner == "xero"
    client.force_login(django_user_model.objects.create_user("boss", is_staff=True))
    response = client.post(
        f"/ownership/{rule.pk}/",
        {
            "owner": "hubspot",
            "carriers": ["xero", "operations"],
            "editable_by": "staff",
            "on_disagreement": "restore",
            "note": "CRM is current",
        },
        follow=True,
    )
    assert "is saved" in response.content.decode()
    assert "boss" in response.content.decode()  # the history shows who
    refused = client.post(
        f"/ownership/{rule.pk}/",
        {"owner": "xero", "carriers": ["xero"], "editable_by": "staff", "on_disagreement": "flag"},
    )
    assert "never flows into its owner" in refused.content.decode()
    assert FieldRule.objects.get(pk=rule.pk).owner == "hubspot"
