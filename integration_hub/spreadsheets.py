"""Formula injection: what the exports write so a spreadsheet never runs a cell, and undoing it.

Excel, LibreOffice and Google Sheets run a cell that begins with = + - @ (and, through
DDE, a tab or carriage return) as a formula: `=HYPERLINK(...)` in a job title becomes a
link to anywhere, `+cmd|...` a command. The exports put a single quote before such text
(OWASP's advice); the import takes it off again, so an export still imports back.
"""

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number (a negative amount) is not a formula; it stays a number.
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def formula_neutralise(value: str) -> str:
    """Return the text with a quote in front when a spreadsheet would read it as a formula."""
    if value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def formula_restore(value):
    """Return a cell read from a spreadsheet without the quote the export put in front."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
