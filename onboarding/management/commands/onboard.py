"""manage.py onboard [--status]: the setup steps, then the first match with a progress bar."""

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from onboarding.first_match import MatchBusy, first_match
from onboarding.models import FirstMatch
from onboarding.steps import setup_steps


class Command(BaseCommand):
    help = (
        "Show each setup step's state, then run the first match of the customers (going on "
        "where a stopped one got to) with a progress bar, and import the work in flight."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--status", action="store_true", help="Only show the steps; run nothing."
        )

    def handle(self, *args, status: bool, **options):
        console = Console(file=self.stdout, highlight=False)
        for n, step in enumerate(setup_steps(), start=1):
            mark = "[green]done[/green]" if step.done else "[yellow]to do[/yellow]"
            console.print(f"{n}. {step.title}: {mark}\n   {step.state}")
        if status:
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[said]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("First match", total=100, said="")

            def progress(match: FirstMatch) -> None:
                said = f"{match.read} read, {match.matched} linked, {match.proposed} proposed"
                bar.update(task, completed=match.percent, description=match.step, said=said)

            try:
                match = first_match(asked_by="manage.py onboard", progress=progress)
            except MatchBusy as busy:
                raise CommandError(str(busy)) from busy
        console.print(
            f"First match: {match.matched} linked, {match.proposed} proposed (decide them at "
            f"/setup/proposals/), {match.alone} in one system only."
        )
        if match.in_flight:
            console.print(
                "Work in flight: " + ", ".join(f"{k} {v}" for k, v in match.in_flight.items())
            )
        if match.problem:
            raise CommandError(f"The first match did not finish: {match.problem}")
