"""manage.py reencrypt_secrets: rewrite every stored secret under the first key."""

from django.core.management.base import BaseCommand
from django.db import transaction

from connectors.models import XeroConnection
from integration_hub.crypto import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token with the first FIELD_ENCRYPTION_KEYS key, so the "
        "older keys can then be removed."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        fields = [f.name for f in XeroConnection._meta.fields if isinstance(f, EncryptedTextField)]
        count = 0
        for connection in XeroConnection.objects.select_for_update():
            # Reading decrypts with any key; saving encrypts with the first one.
            connection.save(update_fields=fields)
            count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} connection(s).")
