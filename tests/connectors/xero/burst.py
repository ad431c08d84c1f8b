"""A worker process for the limit tests: calls Xero through the hub, prints what happened.

python -m tests.connectors.xero.burst <connection id> <calls> <start at (epoch s)>
"""

import json
import sys
import time

import django


def main() -> None:
    django.setup()
    from connectors.errors import RateLimited
    from connectors.models import XeroConnection
    from connectors.xero.accounting import XeroAccounting

    connection_id, calls, start = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    xero = XeroAccounting(XeroConnection.objects.get(pk=connection_id))
    said: dict = {"ok": 0, "paced": [], "rate_limited": [], "failed": []}
    time.sleep(max(0.0, start - time.time()))
    for _ in range(calls):
        try:
            xero.item_codes()
            said["ok"] += 1
        except RateLimited as error:  # the run machinery would try again after retry_after
            said[error.code].append(round(error.retry_after, 1))
        except Exception as error:  # noqa: BLE001 (reported to the test)
            said["failed"].append(repr(error))
    print(json.dumps(said))


if __name__ == "__main__":
    main()
