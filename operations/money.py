"""An invoice's figures as Xero works them out, so the hub's equal Xero's to the cent.

Xero rounds each line on its own ("Rounding in Xero", developer.xero.com): a line's amount
is its quantity times its unit price, less its discount (%), to the cent; its tax is that
amount at the line's rate, to the cent; the invoice's tax is the sum of its lines' tax,
never the rate applied to the subtotal. With prices that include tax, the tax is the part
of the line's amount that the rate makes up. Halves of a cent round up (away from zero).

Unit prices keep up to four decimal places (Xero's `unitdp=4`); amounts keep two.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")  # Xero's finest unit price, with unitdp=4
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    """An amount to the cent, a half cent rounding up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def unit_price(value: Decimal) -> Decimal:
    """A unit price as the register and Xero keep it: at most four decimal places."""
    return Decimal(value).quantize(UNIT, rounding=ROUND_HALF_UP)


def price_text(value: Decimal) -> str:
    """A unit price as people read it: two decimals, or up to four when it has them."""
    if value == cents(value):
        return f"{value:.2f}"
    return f"{unit_price(value).normalize():f}"


@dataclass(frozen=True)
class Line:
    """What one line's figures need: how many, at what price, at what rate of tax (%), and
    the discount (%) off its price."""

    quantity: Decimal
    unit_price: Decimal
    rate: Decimal
    discount: Decimal = Decimal("0")


@dataclass(frozen=True)
class Figures:
    """An invoice's subtotal (without tax), tax and total, each to the cent."""

    subtotal: Decimal
    tax: Decimal
    total: Decimal

    def text(self) -> str:
        return f"subtotal {self.subtotal:,.2f}, GST {self.tax:,.2f}, total {self.total:,.2f}"


def line_amount(line: Line) -> Decimal:
    """The line's amount as it reads on the invoice: quantity times unit price, less the
    discount, to the cent ("Quantity * UnitAmount * ((100 - DiscountRate)/100)", Xero's spec)."""
    return cents(line.quantity * line.unit_price * (HUNDRED - line.discount) / HUNDRED)


def line_tax(line: Line, *, inclusive: bool) -> Decimal:
    """The line's tax to the cent: the rate on its amount, or (prices including tax) the part
    of its amount the rate makes up."""
    amount = line_amount(line)
    if inclusive:
        return cents(amount * line.rate / (HUNDRED + line.rate))
    return cents(amount * line.rate / HUNDRED)


def figures(lines: Iterable[Line], *, inclusive: bool) -> Figures:
    """The invoice's figures from its lines, each line rounded on its own as Xero does."""
    lines = list(lines)
    amounts = sum((line_amount(line) for line in lines), Decimal("0.00"))
    tax = sum((line_tax(line, inclusive=inclusive) for line in lines), Decimal("0.00"))
    if inclusive:
        return Figures(subtotal=amounts - tax, tax=tax, total=amounts)
    return Figures(subtotal=amounts, tax=tax, total=amounts + tax)
