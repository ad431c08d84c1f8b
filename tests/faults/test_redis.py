"""Redis stopped while HubSpot's webhooks arrive, and Redis wiped under load: once a
delivery is stored the answer is 2xx, and nothing queued in Redis is lost for good."""

import random
import time
from concurrent.futures import ThreadPoolExecutor

from operations.models import Job
from tests.helpers import wait_for


def test_redis_stopped_while_hubspot_deliveries_arrive(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(40)
    events = hub.deals_won_quietly(deals)
    # HubSpot delivers at least once: each event, then each again twice, in any order.
    shuffled = random.Random(7)
    firsts, repeats = [[e] for e in events], [[e] for e in events] * 2
    shuffled.shuffle(firsts)
    shuffled.shuffle(repeats)

    def answered() -> int:
        return sum(1 for post in hub.posted if post["statuses"])

    with ThreadPoolExecutor(4) as pool:
        posts = [pool.submit(hub.hubspot_post, d) for d in firsts[:20]]
        wait_for(lambda: answered() >= 20, what="the first deliveries")
        # Redis is down while 20 new events arrive; it is back once each had an answer.
        hub.redis.stop()
        posts += [pool.submit(hub.hubspot_post, d) for d in firsts[20:]]
        wait_for(lambda: answered() >= 40, what="the deliveries while Redis is down")
        hub.redis.start()
        ended = time.monotonic()
        posts += [pool.submit(hub.hubspot_post, d) for d in repeats]
        for post in posts:
            post.result()
    row = hub.score(
        "Redis stopped while 20 of 120 HubSpot deliveries arrive", deals=deals, since=ended
    )
    assert row.clean, row.explain()


def test_redis_wiped_twice_under_load(fault_hub):
    hub = fault_hub.start()
    deals = hub.deals_create(30)
    hub.deals_win(deals)
    hub.until(lambda: Job.objects.count() >= 10, "a third of the jobs")
    hub.redis.wipe()
    hub.jobs_finish(hub.jobs(deals))
    invoiced = Job.objects.exclude(invoice_number="")
    hub.until(lambda: invoiced.count() >= 10, "a third of the invoices")
    hub.redis.wipe()
    ended = time.monotonic()
    row = hub.score(
        "Redis wiped twice under load (30 deals won and invoiced)",
        deals=deals,
        finished=True,
        since=ended,
    )
    assert row.clean, row.explain()
