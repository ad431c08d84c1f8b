"""The outbox announces its new rows on commit (PostgreSQL's NOTIFY), in the inserting
statement itself: a change costs no extra query to wake the forwarder."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION operations_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('operations_outbox', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER operations_jobevent_notify AFTER INSERT ON operations_jobevent
    FOR EACH STATEMENT EXECUTE FUNCTION operations_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS operations_jobevent_notify ON operations_jobevent;
DROP FUNCTION IF EXISTS operations_outbox_notify();
"""


def _run(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":  # SQLite has no NOTIFY
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("operations", "0011_job_line_discount")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
