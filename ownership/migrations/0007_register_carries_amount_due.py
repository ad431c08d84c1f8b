from django.db import migrations


def register_carries_amount_due(apps, schema_editor):
    """The job register now keeps the balance due: add it where the default rule was loaded
    before it could (a rule an admin changed is left as it is)."""
    FieldRule = apps.get_model("ownership", "FieldRule")
    rule = FieldRule.objects.filter(record_type="invoice", field="amount_due").first()
    if rule is None or "operations" in rule.carriers or rule.note != "The business's default.":
        return
    rule.carriers = {**rule.carriers, "operations": "amount_due"}
    rule.save(update_fields=["carriers"])


class Migration(migrations.Migration):
    dependencies = [("ownership", "0006_record_claims")]
    operations = [migrations.RunPython(register_carries_amount_due, migrations.RunPython.noop)]
