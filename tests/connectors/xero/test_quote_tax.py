"""An accepted Xero quote's lines keep their tax treatment, read back through the invoice
settings, and a quote written tax inclusive makes a job whose prices include GST."""

from decimal import Decimal

from xero_python.accounting import Contact, LineItem, Quote

from connectors.xero.mapping import quote_promise

TREATMENTS = {"OUTPUT": "gst", "EXEMPTOUTPUT": "gst_free", "BASEXCLUDED": "none"}


def line(tax_type: str, tax: str) -> LineItem:
    return LineItem(
        description="x", quantity=1.0, unit_amount=10.0, tax_type=tax_type, tax_amount=float(tax)
    )


def test_each_quote_line_keeps_its_tax_treatment():
    quote = Quote(
        quote_id="q-1",
        quote_number="QU-0009",
        line_amount_types="INCLUSIVE",
        line_items=[
            line("OUTPUT", "0.91"),
            line("BASEXCLUDED", "0"),
            line("OUTPUT2", "1.50"),  # not a setting: some tax is GST
            line("ZERORATED", "0"),  # not a setting, no tax: GST-free
        ],
        total=40.0,
    )
    promise = quote_promise(quote, Contact(contact_id="c-1", name="Cafe"), TREATMENTS)
    assert [x.tax for x in promise.lines] == ["gst", "none", "gst", "gst_free"]
    assert promise.prices_include_gst and promise.amount == Decimal("40.00")
