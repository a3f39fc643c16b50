from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The workspace store: cities, people, datasets, versions and the audit log."""

    name = "ridp.workspace"
    label = "workspace"
    verbose_name = "ridp workspace"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from ridp.workspace.access import forget
        from ridp.workspace.models import Membership

        def membership_changed(**_: object) -> None:
            forget()  # a role given or taken in this request counts at once

        post_save.connect(membership_changed, sender=Membership, weak=False, dispatch_uid="ridp-roles-forget-save")
        post_delete.connect(membership_changed, sender=Membership, weak=False, dispatch_uid="ridp-roles-forget-delete")
