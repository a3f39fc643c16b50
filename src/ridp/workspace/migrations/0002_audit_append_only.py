"""Make the audit log append-only in the database itself, not only in Python."""

from typing import Any

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS workspace_auditentry_no_update
       BEFORE UPDATE ON workspace_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION workspace_audit_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS workspace_auditentry_no_update ON workspace_auditentry""",
    """CREATE TRIGGER workspace_auditentry_no_update BEFORE UPDATE ON workspace_auditentry
       FOR EACH ROW EXECUTE FUNCTION workspace_audit_append_only()""",
]


def forwards(apps: Any, schema_editor: Any) -> None:
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS workspace_auditentry_no_update ON workspace_auditentry")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS workspace_auditentry_no_update")


class Migration(migrations.Migration):
    dependencies = [("workspace", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
