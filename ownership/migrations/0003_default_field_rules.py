from django.db import migrations
from django.utils import timezone

from ownership.catalogue import DEFAULT_RULES


def load_defaults(apps, schema_editor):
    """Create the business's default rules, each with its first history entry."""
    FieldRule = apps.get_model("ownership", "FieldRule")
    History = apps.get_model("ownership", "HistoricalFieldRule")
    for (record_type, field), (owner, carriers, editable_by, on_disagreement) in DEFAULT_RULES.items():
        values = {
            "owner": owner,
            "carriers": carriers,
            "editable_by": editable_by,
            "on_disagreement": on_disagreement,
            "note": "The business's default.",
        }
        rule, created = FieldRule.objects.get_or_create(
            record_type=record_type, field=field, defaults=values
        )
        if created:
            History.objects.create(
                id=rule.pk, record_type=record_type, field=field, **values,
                history_date=timezone.now(), history_type="+",
            )


class Migration(migrations.Migration):
    dependencies = [("ownership", "0002_fieldrule_historicalfieldrule")]
    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
