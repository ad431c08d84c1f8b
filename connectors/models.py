"""The hub's connections to other systems, with their tokens encrypted at rest."""

from django.db import models
from django.utils import timezone

from integration_hub.crypto import EncryptedTextField


class XeroConnection(models.Model):
    """One connected Xero organisation (tenant) and the tokens that reach it."""

    class Kind(models.TextChoices):
        OAUTH = "oauth", "OAuth 2.0 (a person connected it)"
        CUSTOM = "custom", "Custom Connection (client credentials)"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECT = "reconnect_needed", "Reconnect needed"
        DISCONNECTED = "disconnected", "Disconnected"

    tenant_id = models.CharField(max_length=64, unique=True)
    tenant_name = models.CharField(max_length=255)
    # The id of this tenant's entry in Xero's /connections: what disconnecting deletes.
    connection_id = models.CharField(max_length=64, blank=True)
    # Tenants connected by one consent share one token pair: refreshed once for all of them.
    grant = models.CharField(max_length=64, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OAUTH)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    scopes = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Rate-limit headroom, from the X-MinLimit-Remaining and X-DayLimit-Remaining of the last call.
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)
    # How far polling has read each resource: the highest UpdatedDateUTC seen (Xero's clock).
    watermarks = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant_name} ({self.get_status_display()})"
