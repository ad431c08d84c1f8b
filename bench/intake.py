"""Webhook intake under load: verified and stored requests a second, against same-run baselines.

Run: .venv/bin/python bench/intake.py [--short] [--workers N] [--threads T] [--seconds S]
[--rounds R]
(PostgreSQL and Redis on 127.0.0.1, Debian's `wrk` on the PATH). BENCH_SHORT=1 is --short:
one round of 2 s each, under 30 s in all, for CI.

It makes its own database (hub_bench_intake_<pid>, dropped at the end) and uses Redis db 0
for the hub's cache (refused unless empty, its keys deleted at the end); the broker is
in-memory, since a webhook request never talks to it. It starts gunicorn as the Dockerfile
does (gunicorn.conf.py: sync workers, two a core; --workers N sets another count,
--threads T runs gthread) on a free loopback port, then, each round, drives it
with wrk at 10 connections for S seconds:

1. the trivial view (bench/intake_urls.py) under the same server, settings and middleware;
2. single-event deliveries, HubSpot and Xero alternately, each signed beforehand (by the
   bench's own code, as the vendors document it) and distinct, so none is a duplicate;
3. HubSpot's batched deliveries of 100 events.

The baseline for the stores is a bare single-row INSERT+COMMIT loop from Python on the
same database. Then it checks that every accepted event is in the inbox exactly once,
that resent deliveries (and the known half of a half-new batch) store nothing, and that a
bad signature gets 401. It prints a table (figure, target, baseline, ratio; medians of
the rounds), with the CPU milliseconds a request cost gunicorn's workers and PostgreSQL's
backends (read from /proc: PostgreSQL runs on this machine), and exits 1 on a miss.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET, XERO_KEY = "bench-hubspot-secret", "bench-xero-key"
os.environ.update(
    {
        "FIELD_ENCRYPTION_KEYS": "xLGZLUIiOVlM5RLI3zE-w1pJC9mqr5-JUKmQ5VsYIsU=",
        "HUBSPOT_CLIENT_SECRET": SECRET,
        "XERO_WEBHOOK_KEY": XERO_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
)

from benchdb import bench_django, owned  # noqa: E402
from figures import Figure, report  # noqa: E402

CONNECTIONS, THREADS, BATCH = 10, 2, 100
TARGETS = {"single_rps": 1000, "p99_ms": 50, "trivial_ratio": 0.5, "batch_eps": 10000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Signed bodies --------------------------------------------------------------------------------


class Signer:
    """Distinct, correctly signed deliveries, as HubSpot and Xero send them."""

    def __init__(self, base_url: str) -> None:
        self.hubspot_uri = f"{base_url}/webhooks/hubspot/"
        self.n = 0

    def hubspot_event(self) -> dict:
        self.n += 1
        return {
            "eventId": self.n,
            "subscriptionId": 4012,
            "portalId": 62515,
            "appId": 1160452,
            "occurredAt": 1764400000000 + self.n,
            "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0,
            "objectId": 9000000 + self.n,
            "propertyName": "dealstage",
            "propertyValue": "closedwon",
            "changeSource": "CRM",
        }

    def hubspot(self, events: list[dict]) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps(events, separators=(",", ":")).encode()
        stamp = str(int(time.time() * 1000))
        message = b"POST" + self.hubspot_uri.encode() + body + stamp.encode()
        sign = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
        headers = {"X-HubSpot-Signature-v3": sign.decode(), "X-HubSpot-Request-Timestamp": stamp}
        return "/webhooks/hubspot/", headers, body

    def hubspot_batch(self, size: int = 1) -> tuple[str, dict[str, str], bytes]:
        return self.hubspot([self.hubspot_event() for _ in range(size)])

    def xero(self) -> tuple[str, dict[str, str], bytes]:
        self.n += 1
        event = {
            "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{uuid.uuid4()}",
            "resourceId": str(uuid.uuid4()),
            "eventDateUtc": "2026-11-29T10:00:00.000",
            "eventType": "UPDATE",
            "eventCategory": "INVOICE",
            "tenantId": "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f",
            "tenantType": "ORGANISATION",
        }
        body = json.dumps(
            {
                "events": [event],
                "firstEventSequence": self.n,
                "lastEventSequence": self.n,
                "entropy": uuid.uuid4().hex,
            },
            separators=(",", ":"),
        ).encode()
        sign = base64.b64encode(hmac.new(XERO_KEY.encode(), body, hashlib.sha256).digest())
        return "/webhooks/xero/", {"x-xero-signature": sign.decode()}, body


def requests_write(requests: list[tuple[str, dict[str, str], bytes]], folder: Path) -> Path:
    """Write the requests as wrk's script reads them (bench/intake.lua)."""
    file = folder / f"requests-{time.monotonic_ns()}.tsv"
    with file.open("w") as out:
        for path, headers, body in requests:
            fields = [f"POST {path}", *(f"{k}: {v}" for k, v in headers.items()), body.decode()]
            out.write("\t".join(fields) + "\n")
    return file


# Load -----------------------------------------------------------------------------------------


def wrk(base_url: str, requests_file: Path, seconds: float) -> dict:
    """Drive the server at CONNECTIONS connections for `seconds`; return wrk's figures."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(HERE / "intake.lua"),
        base_url,
        "--",
        str(requests_file),
        str(THREADS),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"^RESULT (\{.*\})$", out.stdout, re.M)
    if not match:
        raise SystemExit(f"wrk said nothing usable:\n{out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Return the CPU time (user + system) each process has used so far."""
    tick, used = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def server_processes(server: subprocess.Popen) -> tuple[list[int], list[int]]:
    """Return gunicorn's workers and the PostgreSQL backends serving the bench's database."""
    from django.db import connection

    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return [int(pid) for pid in children], backends


def wrk_measured(server: subprocess.Popen, port: int, requests_file: Path, seconds: float) -> dict:
    """Run wrk (see `wrk`) and add the CPU milliseconds a request cost gunicorn's workers
    and PostgreSQL's backends (the machine's load moves these less than the rates)."""
    web, db = server_processes(server)
    before = cpu_seconds(web + db)
    result = wrk(f"http://127.0.0.1:{port}", requests_file, seconds)
    web, db = server_processes(server)
    after = cpu_seconds(web + db)
    for name, pids in (("web_cpu_ms", web), ("db_cpu_ms", db)):
        spent = sum(after.get(pid, 0) - before.get(pid, 0) for pid in pids)
        result[name] = spent * 1000 / max(result["requests"], 1)
    return result


def inbox_count() -> int:
    from handoffs.models import InboundEvent

    return InboundEvent.objects.count()


def settled_count() -> int:
    """Count the inbox once the requests wrk left in flight have finished."""
    last = inbox_count()
    while True:
        time.sleep(0.5)
        now = inbox_count()
        if now == last:
            return now
        last = now


def insert_baseline(seconds: float) -> float:
    """Bare single-row INSERT+COMMIT from Python on the bench's database: rows a second."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE bench_insert (id bigserial PRIMARY KEY, body jsonb)")
        conn.commit()
        row = json.dumps({"eventId": 1, "subscriptionType": "deal.propertyChange"})
        done, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            conn.execute("INSERT INTO bench_insert (body) VALUES (%s)", (row,))
            conn.commit()
            done += 1
        elapsed = time.monotonic() - started
        conn.execute("DROP TABLE bench_insert")
        conn.commit()
    return done / elapsed


def post(port: int, request: tuple[str, dict[str, str], bytes]) -> tuple[int, bytes]:
    path, headers, body = request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body, {"Content-Type": "application/json", **headers})
    answer = conn.getresponse()
    status, text = answer.status, answer.read()
    conn.close()
    return status, text


# The server -----------------------------------------------------------------------------------


def gunicorn_start(port: int, workers: int | None, threads: int) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "intake_settings",
        "HUBSPOT_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/hubspot/",
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "integration_hub.wsgi", "--pythonpath", str(HERE)]
    command += ["--bind", f"127.0.0.1:{port}", "--threads", str(threads), "--log-level", "warning"]
    command += ["--workers", str(workers)] if workers else []  # else gunicorn.conf.py's
    server = subprocess.Popen(command, env=env, cwd=HERE.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/trivial/")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start (its errors are above), or not within 60 s.")


# The bench ------------------------------------------------------------------------------------


def rounds_run(
    server: subprocess.Popen, port: int, rounds: int, seconds: float, folder: Path
) -> tuple[dict, list, list, "Signer"]:
    """Measure trivial, single and batched in turn, `rounds` times; return the figures and
    some accepted deliveries to send again."""
    signer = Signer(f"http://127.0.0.1:{port}")
    trivial_file = folder / "trivial.tsv"
    trivial_file.write_text("GET /bench/trivial/\n" * THREADS)
    figures: dict[str, list] = {"trivial": [], "single": [], "batch": []}
    problems, resend = [], []
    # Enough distinct deliveries that the fastest plausible server never sends one twice.
    singles_needed, batches_needed = int(seconds * 10000), int(seconds * 600)
    for number in range(1, rounds + 1):
        figures["trivial"].append(wrk_measured(server, port, trivial_file, seconds))
        for kind, made in (
            (
                "single",
                [signer.hubspot_batch() if i % 2 else signer.xero() for i in range(singles_needed)],
            ),
            ("batch", [signer.hubspot_batch(BATCH) for _ in range(batches_needed)]),
        ):
            before = inbox_count()
            result = wrk_measured(server, port, requests_write(made, folder), seconds)
            stored = settled_count() - before
            events = 1 if kind == "single" else BATCH
            in_flight = CONNECTIONS * events
            if result["wrapped"]:
                problems.append(f"round {number} {kind}: ran out of distinct deliveries")
            if result["errors"] or result["non_2xx"] or result["duplicates"]:
                problems.append(f"round {number} {kind}: {result}")
            if not result["stored"] <= stored <= result["stored"] + in_flight:
                problems.append(
                    f"round {number} {kind}: answered as stored {result['stored']} events, "
                    f"the inbox gained {stored}"
                )
            result["events_per_s"] = result["stored"] / result["seconds"]
            figures[kind].append(result)
            resend += made[10:14]  # wrk draws one request to check the script, never sent
        trivial, single, batch = (figures[kind][-1] for kind in ("trivial", "single", "batch"))
        print(
            f"Round {number}: trivial {trivial['rps']:.0f}/s, single {single['rps']:.0f}/s "
            f"(p99 {single['p99_ms']:.1f} ms), batched {batch['events_per_s']:.0f} events/s; "
            f"CPU ms a request (web + db): trivial {cpu(trivial)}, single {cpu(single)}, "
            f"batch {cpu(batch)}",
            flush=True,
        )
    return figures, problems, resend, signer


def cpu(result: dict) -> str:
    return f"{result['web_cpu_ms']:.2f} + {result['db_cpu_ms']:.2f}"


def duplicates_check(port: int, resend: list, signer: Signer) -> list[str]:
    """Resent deliveries and the known half of a half-new batch store nothing; a bad
    signature is refused."""
    problems = []
    before = inbox_count()
    for request in resend:
        status, text = post(port, request)
        if status != 200 or (text and json.loads(text)["stored"]):
            problems.append(f"a resent delivery answered {status} {text[:80]!r}")
    if inbox_count() != before:
        problems.append(f"resent deliveries stored {inbox_count() - before} events")
    known = json.loads(
        next(r for r in resend if r[0].endswith("hubspot/") and r[2].count(b"eventId") == BATCH)[2]
    )
    half = signer.hubspot(known[: BATCH // 2] + [signer.hubspot_event() for _ in range(50)])
    status, text = post(port, half)
    if (status, json.loads(text)) != (200, {"stored": 50, "duplicates": 50}):
        problems.append(f"a half-new batch answered {status} {text[:80]!r}")
    path, headers, body = signer.hubspot_batch()
    status, _ = post(port, (path, headers | {"X-HubSpot-Signature-v3": "forged"}, body))
    if status != 401:
        problems.append(f"a bad signature answered {status}")
    return problems


def main() -> int:
    if shutil.which("wrk") is None:
        print("Debian's wrk is missing: `./hub bench intake` installs it (apt-get install wrk).")
        return 2
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", default=bool(os.environ.get("BENCH_SHORT")))
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    seconds = args.seconds or (2 if args.short else 10)
    rounds = args.rounds or (1 if args.short else 3)
    owned("intake", redis={"REDIS_URL": 0})
    bench_django()
    port = free_port()
    server = gunicorn_start(port, args.workers, args.threads)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-intake-") as folder:
            figures, problems, resend, signer = rounds_run(
                server, port, rounds, seconds, Path(folder)
            )
        problems += duplicates_check(port, resend, signer)
        workers = len(server_processes(server)[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    inserts = insert_baseline(min(seconds, 5))
    med = {
        k: statistics.median(r[f] for r in figures[k])
        for k, f in (("trivial", "rps"), ("single", "rps"), ("batch", "events_per_s"))
    }
    p99 = statistics.median(r["p99_ms"] for r in figures["single"])
    cpu_ms = {
        kind: statistics.median(r["web_cpu_ms"] + r["db_cpu_ms"] for r in figures[kind])
        for kind in figures
    }
    trivial = f"the trivial view: {med['trivial']:.0f} requests/s, {cpu_ms['trivial']:.2f} ms CPU"
    insert = f"a bare single-row INSERT+COMMIT loop from Python: {inserts:.0f}/s"
    print(
        f"\ngunicorn, {workers} {'gthread' if args.threads > 1 else 'sync'} workers, "
        f"wrk -t{THREADS} -c{CONNECTIONS}, {rounds} round(s) of {seconds:g} s each; medians."
    )
    for problem in problems:
        print(f"  problem: {problem}")
    return report(
        [
            Figure(
                "single-event deliveries stored a second",
                med["single"],
                TARGETS["single_rps"],
                inserts,
                "/s",
                at_least=True,
                baseline_is=insert,
            ),
            Figure("p99 latency of a single-event delivery", p99, TARGETS["p99_ms"]),
            Figure(
                "single-event deliveries / trivial view",
                med["single"] / med["trivial"],
                TARGETS["trivial_ratio"],
                unit="",
                at_least=True,
                baseline_is=trivial,
            ),
            # What explains the ratio above; no target of its own.
            Figure(
                "CPU a single-event delivery (web + db)",
                cpu_ms["single"],
                None,
                cpu_ms["trivial"],
                baseline_is=trivial,
            ),
            Figure(
                "HubSpot batches of 100: events stored a second",
                med["batch"],
                TARGETS["batch_eps"],
                inserts,
                "/s",
                at_least=True,
                baseline_is=insert,
            ),
            Figure("accepted events not stored exactly once", len(problems), 0, unit=""),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
