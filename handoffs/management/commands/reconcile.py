"""manage.py reconcile [--dry-run] [--since DATE]: check now that the systems agree."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from handoffs.reconcile import CheckBusy, reconcile


def _moment(text: str) -> datetime:
    """A date (midnight, local time) or a date and time, as typed."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--since wants a date like 2026-11-01, not {text!r}.") from error
    if len(text) <= 10:
        moment = datetime.combine(moment.date(), time())
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Compare every linked record across the systems by the ownership rules and find what "
        "events missed (as the nightly check does); print what was found."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Compare and report; change nothing."
        )
        parser.add_argument(
            "--since",
            type=_moment,
            help="List customers and invoices changed after this date (default: since the "
            "last finished check; everything the first time).",
        )

    def handle(self, *args, dry_run: bool, since, **options):
        def progress(step: str, count: int) -> None:
            self.stdout.write(f"  {step}: {count} read")

        try:
            run = reconcile(
                since=since, dry_run=dry_run, asked_by="manage.py reconcile", progress=progress
            )
        except CheckBusy as busy:
            raise CommandError(str(busy)) from busy
        said = "Dry run: nothing was changed. " if dry_run else ""
        self.stdout.write(
            f"{said}Compared {run.records} records ({run.fields} copies of fields): "
            f"{run.carried} carried, {run.restored} restored, {run.flagged} flagged; "
            f"{run.missed} missed by events; {run.unlinked} customers in one system only; "
            f"{run.retried} left to their own run."
        )
        for finding in run.findings.exclude(kind="unlinked")[:50]:
            self.stdout.write(
                f"  {finding.get_kind_display()}: {finding.record_label} "
                f"{finding.system} {finding.field} {finding.detail}".rstrip()
            )
        if run.problem:
            raise CommandError(f"The check did not finish: {run.problem}")
