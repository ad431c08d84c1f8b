"""gunicorn's settings for the hub's web process. gunicorn reads this file from its working
directory: the Dockerfile's CMD and bench/intake.py both start it there, so the bench
measures the server users run."""

import multiprocessing
import os

# Sync workers, two a core: a worker waits idle through each webhook's commit (the disk
# flush), and one a core would leave the cores idle then (docs/performance.md has the pairs
# measured). WEB_CONCURRENCY, gunicorn's own variable, sets another count.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())
timeout = 30
