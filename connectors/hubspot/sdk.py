"""hubspot-api-client set up the hub's way: the base URL from settings, no retries out of sight."""

from django.conf import settings
from hubspot import HubSpot
from urllib3.util.retry import Retry


def sdk(*, base_url: str | None = None, access_token: str | None = None) -> HubSpot:
    """Return the SDK pointed at HubSpot (or the sandbox), with urllib3's retries off.

    urllib3 would otherwise sleep through 429s and retry on its own, out of sight; the
    hub decides retries itself (handoffs/runs.py).
    """
    return HubSpot(
        access_token=access_token,
        host=(base_url or settings.HUBSPOT_API_BASE_URL).rstrip("/"),
        retry=Retry(total=0, respect_retry_after_header=False, raise_on_status=False),
    )
