"""The hub's invoice figures are Xero's: tax per line to the cent, halves up, unit prices to
four places. The cases are Xero's own ("Rounding in Xero", developer.xero.com), and half
cents that per-line and per-invoice rounding settle differently."""

from decimal import Decimal as D

from operations.money import Figures, Line, cents, figures, line_tax, price_text, unit_price


def test_xeros_published_example_rounds_tax_per_line_not_on_the_subtotal():
    # Xero's guide: three lines at 15%: tax 3.76 + 3.84 + 3.84; "another system" that
    # taxes the subtotal gets 11.45.
    lines = [Line(D("1"), D(price), D("15")) for price in ("25.06", "25.61", "25.63")]
    assert [line_tax(x, inclusive=False) for x in lines] == [D("3.76"), D("3.84"), D("3.84")]
    assert figures(lines, inclusive=False) == Figures(D("76.30"), D("11.44"), D("87.74"))
    assert cents(D("76.30") * D("0.15")) == D("11.45")  # the other system's


def test_half_cents_round_up_on_each_line_so_two_lines_carry_a_cent_the_total_would_not():
    two = [Line(D("1"), D("10.05"), D("10"))] * 2  # 1.005 of GST each
    assert figures(two, inclusive=False) == Figures(D("20.10"), D("2.02"), D("22.12"))
    one = [Line(D("1"), D("20.10"), D("10"))]  # the same money on one line: 2.01
    assert figures(one, inclusive=False) == Figures(D("20.10"), D("2.01"), D("22.11"))


def test_prices_including_gst_keep_their_total_and_the_tax_is_the_part_the_rate_makes_up():
    lines = [Line(D("1"), D("10.74"), D("10")), Line(D("2"), D("5.50"), D("0"))]
    # 10.74 x 10/110 = 0.976..., to the cent 0.98; the GST-free line has none.
    assert figures(lines, inclusive=True) == Figures(D("20.76"), D("0.98"), D("21.74"))


def test_four_decimal_unit_prices_make_the_line_amount_the_two_decimal_price_would_not():
    # Xero's guide: 1000 x 0.061171 is 61.17; with unitdp=4 the price is 0.0612.
    assert unit_price(D("0.061171")) == D("0.0612")
    assert figures([Line(D("1000"), D("0.0612"), D("10"))], inclusive=False) == Figures(
        D("61.20"), D("6.12"), D("67.32")
    )
    assert figures([Line(D("1000"), D("0.06"), D("10"))], inclusive=False).subtotal == D("60.00")
    assert (price_text(D("110.0000")), price_text(D("0.0612"))) == ("110.00", "0.0612")


def test_a_discount_comes_off_the_line_before_it_is_rounded_and_taxed():
    # Xero's spec: LineAmount = Quantity * UnitAmount * ((100 - DiscountRate)/100).
    line = Line(D("3"), D("33.3333"), D("10"), D("12.5"))  # 87.4999125 -> 87.50
    assert figures([line], inclusive=False) == Figures(D("87.50"), D("8.75"), D("96.25"))
    assert figures([line], inclusive=True) == Figures(D("79.55"), D("7.95"), D("87.50"))
