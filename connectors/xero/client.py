"""xero-python set up the hub's way: base URLs from settings, and no retries out of sight."""

import certifi
import urllib3
from urllib3.util.retry import Retry
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token


def api_client(*, client_id: str, client_secret: str, token_getter, token_saver) -> ApiClient:
    """Return an ApiClient whose HTTP layer never retries by itself.

    xero-python's urllib3 pool otherwise sleeps through 429s and 503s with Retry-After
    and tries again, so a worker could block for minutes without seeing the limit;
    the hub decides retries itself (handoffs/runs.py).
    """
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=client_id, client_secret=client_secret)),
        pool_threads=1,
    )
    client.rest_client.pool_manager = urllib3.PoolManager(
        num_pools=4,
        maxsize=4,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=Retry(total=0, respect_retry_after_header=False, raise_on_status=False),
    )
    client.oauth2_token_getter(token_getter)
    client.oauth2_token_saver(token_saver)
    return client
