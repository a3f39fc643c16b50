from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The workspace store: cities, people, datasets, versions and the audit log."""

    name = "ridp.workspace"
    label = "workspace"
    verbose_name = "ridp workspace"
