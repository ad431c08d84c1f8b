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


def test_terms_are_read_once_per_contact_with_the_next_ones_read_ahead():
    import uuid
    from types import SimpleNamespace

    from connectors.xero.terms import contacts_terms

    class Xero:
        calls: list[list[str]] = []

        def contacts_by_id(self, ids):
            self.calls.append(ids)
            sales = SimpleNamespace(day=20, type="OFFOLLOWINGMONTH")
            return [
                SimpleNamespace(contact_id=i, payment_terms=SimpleNamespace(sales=sales))
                for i in ids
            ]

    ids = [str(uuid.uuid4()) for _ in range(200)]
    xero = Xero()
    assert contacts_terms(xero, ids[:50], soon=ids[50:])[ids[0]] == (20, "OFFOLLOWINGMONTH")
    assert [len(c) for c in xero.calls] == [100]  # 50 needed now, 50 of the next read ahead
    contacts_terms(xero, ids[50:100], soon=ids[100:])
    assert len(xero.calls) == 1  # all cached
    contacts_terms(xero, ids[100:150], soon=ids[150:])
    assert [len(c) for c in xero.calls] == [100, 100]
