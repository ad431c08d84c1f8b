"""manage.py ownership export [--output FILE] | import FILE [--check] | table"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ownership.rules_yaml import rules_from_yaml, rules_table, rules_to_yaml
from ownership.services import RuleInvalid, field_rules_replace


class Command(BaseCommand):
    help = "Export the field-ownership rules as YAML, or validate and load them from YAML."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write the rules as YAML.")
        export.add_argument("--output", "-o", help="File to write (default: standard output).")
        actions.add_parser("table", help="Print the rules as a Markdown table: who owns what.")
        load = actions.add_parser("import", help="Validate and load rules from a YAML file.")
        load.add_argument("file")
        load.add_argument("--check", action="store_true", help="Validate only; change nothing.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "table":
            sys.stdout.write(rules_table())
            return
        if action == "export":
            text = rules_to_yaml()
            if options.get("output"):
                with open(options["output"], "w", encoding="utf-8") as f:
                    f.write(text)
            else:
                sys.stdout.write(text)
            return
        try:
            with open(options["file"], encoding="utf-8") as f:
                rules = rules_from_yaml(f.read())
            with transaction.atomic():
                counts = field_rules_replace(rules=rules)
                if options["check"]:
                    transaction.set_rollback(True)
        except (OSError, RuleInvalid) as problem:
            raise CommandError(str(problem)) from problem
        if options["check"]:
            self.stdout.write(f"{len(rules)} rules are valid; nothing was changed (--check).")
        else:
            self.stdout.write(f"Loaded {counts['saved']} rules; removed {counts['removed']}.")
