from django.db import migrations


class Migration(migrations.Migration):
    """Once loaded the default rules here; they now come from the post_migrate handler in
    ownership/apps.py (the defaults name roles, which only the configured connectors resolve)."""

    dependencies = [("ownership", "0002_fieldrule_historicalfieldrule")]
    operations = []
