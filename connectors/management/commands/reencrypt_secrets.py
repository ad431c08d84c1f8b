"""manage.py reencrypt_secrets: rewrite every stored secret under the first key."""

from django.core.management.base import BaseCommand
from django.db import transaction

from connectors.models import HubSpotConnection, XeroConnection
from integration_hub.crypto import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token with the first FIELD_ENCRYPTION_KEYS key, so the "
        "older keys can then be removed."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        count = 0
        for model in (XeroConnection, HubSpotConnection):
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            for connection in model.objects.select_for_update():
                # Reading decrypts with any key; saving encrypts with the first one.
                connection.save(update_fields=fields)
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} connection(s).")
