"""The drift report's pieces: a chart of differences per check, and a check's findings as CSV."""

import csv
import io

from handoffs.models import ReconcileRun
from integration_hub import labels
from integration_hub.spreadsheets import formula_neutralise

COLUMNS = ["found", "record type", "record", "system", "field", "detail", "review item"]
BAR, GAP, HEIGHT = 18, 6, 120


def drift_chart(runs: list[ReconcileRun]) -> dict:
    """Bars for the checks (not dry runs), oldest first: the differences each found."""
    runs = [r for r in reversed(runs) if not r.dry_run]
    top = max([r.differences for r in runs] + [1])
    bars = []
    for n, run in enumerate(runs):
        # A check that found nothing still shows, as a sliver.
        height = max(round(HEIGHT * run.differences / top), 3)
        bars.append(
            {
                "run": run,
                "x": n * (BAR + GAP),
                "y": HEIGHT - height,
                "height": height,
                "failed": run.state == ReconcileRun.State.FAILED,
            }
        )
    return {"bars": bars, "width": max(len(bars) * (BAR + GAP), 1), "height": HEIGHT}


def findings_csv(run: ReconcileRun) -> bytes:
    """The check's findings, one row each (UTF-8 with a BOM, so Excel reads it right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for finding in run.findings.select_related("review_item"):
        item = finding.review_item
        row = [
            finding.get_kind_display(),
            labels.label("record_type", finding.record_type),
            finding.record_label,
            labels.system_label(finding.system),
            labels.field_label(finding.record_type, finding.field),
            finding.detail,
            f"#{item.pk} {item.get_status_display()}" if item else "",
        ]
        writer.writerow([formula_neutralise(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode()
