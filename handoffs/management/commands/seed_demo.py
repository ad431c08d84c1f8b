"""Seed the demo: logins, the HubSpot sandbox's CRM, and jobs for the deals already won."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.utils import timezone

from connectors.base import BusinessEvent
from handoffs.inbox import inbox_drain
from handoffs.models import HandoffRun
from handoffs.registry import handoff_get
from handoffs.runs import handoff_run_execute, handoff_run_start
from operations.models import Crew, Job
from operations.services import (
    customer_create,
    job_complete,
    job_create,
    job_reschedule,
    job_transition,
)
from review_queue.models import ReviewItem

LOGINS = (("admin", "admin-demo-pass", True), ("staff", "staff-demo-pass", False))
WON_STAGES = ("closedwon", "2001003")


class Command(BaseCommand):
    help = "Seed a believable small business for the demo (does nothing if already seeded)."

    def handle(self, *args, **options) -> None:
        self._logins()
        if Job.objects.exists():
            self.stdout.write("Demo data already seeded; delete var/ to start again.")
            return
        from connectors.sandbox.hubspot.server import start_in_thread

        # The CRM's seed lives in the HubSpot sandbox's state file; the hub reaches it
        # through the real SDK and handoffs, as it will when the demo runs.
        sandbox = start_in_thread(
            port=0,
            access_token=settings.HUBSPOT_ACCESS_TOKEN,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            seed="demo",
            state_file=str(settings.VAR_DIR / "hubspot-sandbox.json"),
        )
        try:
            with override_settings(HUBSPOT_API_BASE_URL=sandbox.url):
                self._won_deals_to_jobs(sandbox.store)
                self._jobs_entered_in_the_register()
                self._book_the_week()
                inbox_drain()
                self._problems(sandbox.store)
                self._finished_before_xero()
            for item in ReviewItem.objects.filter(status=ReviewItem.Status.OPEN):
                self.stdout.write(f"Seeded a problem to review: {item.title}")
        finally:
            sandbox.stop()

    def _run(self, name: str, happened: BusinessEvent) -> HandoffRun:
        """Run a handoff now, in this process, exactly as a worker would, then everything it
        set going (the register's events, the engine's runs)."""
        run, _ = handoff_run_start(handoff=handoff_get(name), happened=happened)
        run = handoff_run_execute(run_id=run.pk) or run
        inbox_drain()
        return run

    def _logins(self) -> None:
        staff_group, _ = Group.objects.get_or_create(name="Office staff")
        users = get_user_model()
        for username, password, is_admin in LOGINS:
            if not users.objects.filter(username=username).exists():
                user = users.objects.create_user(
                    username,
                    f"{username}@demo.example",
                    password,
                    is_staff=is_admin,
                    is_superuser=is_admin,
                )
                user.groups.add(staff_group)
            role = "admin" if is_admin else "office staff"
            self.stdout.write(f"Login ({role}): {username} / {password}")

    def _won_deals_to_jobs(self, store) -> None:
        """Run the real handoff for each deal the seed CRM has at a won stage."""
        for deal in store.list("deals"):
            stage = deal["properties"].get("dealstage")
            if stage in WON_STAGES:
                happened = BusinessEvent(
                    "deal.stage_changed", "hubspot", deal["id"], {"stage": stage}
                )
                self.stdout.write(
                    f"Seeded from HubSpot: {self._run('deal_won_to_job', happened).summary}"
                )

    def _problems(self, store) -> None:
        """Leave one review item of each kind the hub raises, made the real way."""
        deals = {d["properties"]["dealname"]: d for d in store.list("deals")}
        walk_in = deals["Walk-in quote - no company yet"]
        store.update("deals", walk_in["id"], {"dealstage": "closedwon"}, notify=False)
        bondi = deals["Bondi Physio - hot water system replacement"]
        customer_create(
            name="Bondi Physio and Pilates Pty Ltd", email="bondiphysio.reception@gmail.com"
        )
        store.update("deals", bondi["id"], {"dealstage": "closedwon"}, notify=False)
        for deal in (walk_in, bondi):
            self._run(
                "deal_won_to_job",
                BusinessEvent("deal.stage_changed", "hubspot", deal["id"], {"stage": "closedwon"}),
            )
        # Sales changes a job already under way, and the cafe's phone number, in HubSpot.
        greenway = deals["Greenway Childcare - annual maintenance contract"]
        line = store.associated_ids("deals", greenway["id"], "line_items")[0]
        store.update("line_items", line, {"quantity": "5"}, notify=False)
        store.update("deals", greenway["id"], {"amount": "4950.00"}, notify=False)
        cafe = store.associated_ids(
            "deals", deals["Harbour View Cafe - kitchen rewire"]["id"], "companies"
        )[0]
        store.update("companies", cafe, {"phone": "02 9555 0199"}, notify=False)
        # Sales typed the lighting deal's amount by hand, 20.00 short of its lines: its
        # invoice asks which is right once the job is done.
        lighting = deals["Kestrel - 14 Church St common-area lighting"]
        store.update("deals", lighting["id"], {"amount": "7480.00"}, notify=False)
        for noun, object_id in (("deal", greenway["id"]), ("customer", cafe)):
            self._run(
                "shared_fields",
                BusinessEvent(f"{noun}.changed", "hubspot", object_id, {"event": "seed"}),
            )

    def _finished_before_xero(self) -> None:
        """Finish the hall's call-out: with no Xero connected yet, its invoice waits on an item."""
        job = Job.objects.get(title="Emergency call-out: tripped RCD in kitchen")
        if job.status == Job.Status.SCHEDULED:
            job_transition(job=job, to=Job.Status.IN_PROGRESS)
        tech = get_user_model().objects.get(username="staff")
        job_complete(job=job, by=tech, note="RCD reset; faulty kettle lead found and tagged out.")
        inbox_drain()
        self.stdout.write(f"Job {job.number} is done and waits for Xero to be connected")

    def _jobs_entered_in_the_register(self) -> None:
        """Add work that never went through the CRM, as a spreadsheet business has."""
        customer = customer_create(
            name="Marrickville Community Hall",
            email="bookings@mch.example",
            phone="02 9550 1200",
            street="14 Petersham Rd",
            city="Marrickville",
            region="NSW",
            postcode="2204",
        )
        job, _ = job_create(
            customer=customer,
            title="Emergency call-out: tripped RCD in kitchen",
            amount=Decimal("385.00"),
            site_address=customer.address,
            site_contact="Priya Nair (0412 555 019)",
            notes="Key in lockbox 4821. Hall booked from 6 pm.",
            lines=[
                {
                    "description": "Call-out fee",
                    "quantity": Decimal("1"),
                    "unit_price": Decimal("165.00"),
                    "item_code": "CALLOUT",
                },
                {
                    "description": "Labour",
                    "quantity": Decimal("2"),
                    "unit_price": Decimal("110.00"),
                    "item_code": "LABOUR-HR",
                },
            ],
        )
        self.stdout.write(f"Seeded in the register: job {job.number} for {customer.name}")

    def _book_the_week(self) -> None:
        """Give crews and times to the jobs, so today's jobs and the week show something."""
        blue, _ = Crew.objects.get_or_create(name="Blue crew (Sam, Ava)")
        green, _ = Crew.objects.get_or_create(name="Green crew (Noah)")
        today = timezone.localdate()
        plan = [(0, 8, blue, True), (0, 13, green, True), (1, 9, blue, False), (3, 7, green, False)]
        for job, (days, hour, crew, started) in zip(Job.objects.order_by("pk"), plan, strict=False):
            start = timezone.make_aware(datetime.combine(today + timedelta(days=days), time(hour)))
            job_reschedule(job=job, start=start, end=start + timedelta(hours=4), crew=crew)
            if started and job.status == Job.Status.SCHEDULED:
                job_transition(job=job, to=Job.Status.IN_PROGRESS)
            self.stdout.write(f"Booked job {job.number} for {start:%a %d %b %H:%M} ({crew.name})")
