from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _defaults_load(sender, **kwargs) -> None:
    from ownership.services import field_rules_defaults_load

    field_rules_defaults_load()


class OwnershipConfig(AppConfig):
    name = "ownership"

    def ready(self) -> None:
        # Every field without a rule gets the business's default after each migrate.
        post_migrate.connect(_defaults_load, sender=self)
