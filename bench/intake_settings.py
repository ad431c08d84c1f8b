"""Settings of the server bench/intake.py measures: the hub's, plus one trivial view
(bench/intake_urls.py) as the same-run baseline."""

from integration_hub.settings import *  # noqa: F403

ROOT_URLCONF = "intake_urls"
