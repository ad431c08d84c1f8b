"""Due dates from Xero's payment terms types."""

from datetime import date

import pytest

from connectors.xero.terms import due_date


@pytest.mark.parametrize(
    ("day", "kind", "due"),
    [
        (14, "DAYSAFTERBILLDATE", date(2026, 12, 9)),
        (10, "DAYSAFTERBILLMONTH", date(2026, 12, 10)),
        (28, "OFCURRENTMONTH", date(2026, 11, 28)),
        (31, "OFFOLLOWINGMONTH", date(2026, 12, 31)),
        (None, None, date(2026, 12, 25)),  # no terms on the contact: the hub's default
    ],
)
def test_due_dates_follow_the_contacts_terms(day, kind, due):
    assert due_date(issued=date(2026, 11, 25), day=day, kind=kind, default_days=30) == due


def test_a_day_past_the_months_end_is_its_last_day_across_the_year():
    assert due_date(issued=date(2026, 12, 5), day=31, kind="OFFOLLOWINGMONTH", default_days=0) == (
        date(2027, 1, 31)
    )
    assert due_date(issued=date(2027, 1, 5), day=30, kind="OFFOLLOWINGMONTH", default_days=0) == (
        date(2027, 2, 28)
    )
