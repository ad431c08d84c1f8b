"""manage.py hubspot_properties: create the custom HubSpot properties the hub writes."""

from django.core.management.base import BaseCommand, CommandError

from connectors.errors import ConnectorError
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.properties import properties_ensure


class Command(BaseCommand):
    help = (
        "Create the custom properties the hub writes that HubSpot does not have yet (in the "
        "hub's own property group); name any that exist with another type."
    )

    def handle(self, *args, **options) -> None:
        try:
            report = properties_ensure(HubSpotClient())
        except ConnectorError as error:
            raise CommandError(
                f"{error.message} Run it again: it makes only what is missing."
            ) from error
        self.stdout.write(report.summary())
        for problem in report.mismatched:
            self.stderr.write(problem)
        if report.mismatched:
            raise CommandError(f"{len(report.mismatched)} property(ies) have another type.")
