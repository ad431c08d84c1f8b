"""Seed data: a small Australian trades business's CRM."""

from connectors.sandbox.hubspot.store import Store, now_iso


def _stage(stage_id: str, label: str, order: int, probability: float, closed: bool) -> dict:
    stamp = now_iso()
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": {"isClosed": "true" if closed else "false", "probability": str(probability)},
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def _pipeline(pipeline_id: str, label: str, order: int, stages: list[dict]) -> dict:
    stamp = now_iso()
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": order,
        "stages": stages,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def empty_seed(store: Store) -> None:
    """Only the deal pipelines: the default one and a custom one with numeric stage ids."""
    store.pipelines["deals"] = [
        _pipeline(
            "default",
            "Sales Pipeline",
            0,
            [
                _stage("appointmentscheduled", "Appointment scheduled", 0, 0.2, False),
                _stage("qualifiedtobuy", "Qualified to buy", 1, 0.4, False),
                _stage("presentationscheduled", "Quote presented", 2, 0.6, False),
                _stage("decisionmakerboughtin", "Decision maker bought in", 3, 0.8, False),
                _stage("contractsent", "Contract sent", 4, 0.9, False),
                _stage("closedwon", "Closed won", 5, 1.0, True),
                _stage("closedlost", "Closed lost", 6, 0.0, True),
            ],
        ),
        _pipeline(
            "2001",
            "Maintenance contracts",
            1,
            [
                _stage("2001001", "Enquiry", 0, 0.3, False),
                _stage("2001002", "Site visit", 1, 0.6, False),
                _stage("2001003", "Contract signed", 2, 1.0, True),
                _stage("2001004", "Lost", 3, 0.0, True),
            ],
        ),
    ]


COMPANIES = [
    (
        "Harbour View Cafe",
        "harbourviewcafe.com.au",
        "02 9555 0101",
        "12 Wharf St",
        "Balmain",
        "NSW",
        "2041",
        "51 824 753 556",
    ),
    (
        "Kestrel Property Group",
        "kestrelproperty.com.au",
        "02 9555 0188",
        "Level 3, 80 George St",
        "Parramatta",
        "NSW",
        "2150",
        "33 051 775 556",
    ),
    (
        "Bondi Physio & Pilates",
        "bondiphysio.com.au",
        "02 9555 0142",
        "4/210 Campbell Pde",
        "Bondi Beach",
        "NSW",
        "2026",
        "12 004 044 937",
    ),
    (
        "Greenway Childcare Centre",
        "greenwaychildcare.org.au",
        "02 9555 0177",
        "9 Greenway Dr",
        "Penrith",
        "NSW",
        "2750",
        "86 630 222 419",
    ),
    (
        "Moss & Finch Architects",
        "mossfinch.com.au",
        "02 9555 0166",
        "22 Foster St",
        "Surry Hills",
        "NSW",
        "2010",
        "47 112 908 663",
    ),
    (
        "Tran Family Bakery",
        "tranbakery.com.au",
        "02 9555 0123",
        "301 Illawarra Rd",
        "Marrickville",
        "NSW",
        "2204",
        "29 775 146 330",
    ),
]
CONTACTS = [
    (0, "Sophie", "Walsh", "sophie@harbourviewcafe.com.au", "0412 555 101", "Owner"),
    (1, "Daniel", "Okafor", "d.okafor@kestrelproperty.com.au", "0412 555 188", "Property manager"),
    (1, "Mei", "Lin", "mei.lin@kestrelproperty.com.au", "0412 555 189", "Facilities coordinator"),
    (2, "Jack", "Murray", "jack@bondiphysio.com.au", "0412 555 142", "Practice manager"),
    (3, "Aroha", "Ngata", "director@greenwaychildcare.org.au", "0412 555 177", "Centre director"),
    (4, "Priya", "Sharma", "priya@mossfinch.com.au", "0412 555 166", "Project architect"),
    (5, "Linh", "Tran", "linh@tranbakery.com.au", "0412 555 123", "Owner"),
]
# (company index or None, name, stage, pipeline, amount, site address, notes, lines)
DEALS = [
    (
        0,
        "Harbour View Cafe - kitchen rewire",
        "closedwon",
        "default",
        "4950.00",
        "",
        "Cafe closed Mondays: work Monday only. Keys with Sophie.",
        [
            ("Labour - electrician (hours)", "24", "110.00", "LABOUR-HR"),
            ("Switchboard upgrade kit", "1", "1800.00", "SWB-UPG"),
            ("Call-out fee", "1", "510.00", "CALLOUT"),
        ],
    ),
    (
        1,
        "Kestrel - 14 Church St common-area lighting",
        "contractsent",
        "default",
        "7500.00",
        "14 Church St, Parramatta NSW 2150",
        "Access via building manager, 7am start.",
        [
            ("LED panel light 600x600", "32", "145.00", "LED-600"),
            ("Labour - electrician (hours)", "26", "110.00", "LABOUR-HR"),
        ],
    ),
    (
        1,
        "Kestrel - 80 George St emergency lighting test",
        "decisionmakerboughtin",
        "default",
        "1320.00",
        "",
        "Annual AS 2293 test and logbook.",
        [("Emergency lighting test (per fitting)", "44", "30.00", "EM-TEST")],
    ),
    (
        2,
        "Bondi Physio - hot water system replacement",
        "presentationscheduled",
        "default",
        "3650.00",
        "",
        "Existing 250L unit leaking. Patient rooms stay open.",
        [
            ("Hot water system 250L", "1", "2450.00", "HWS-250L"),
            ("Labour - plumber (hours)", "8", "120.00", "LABOUR-PL"),
            ("Disposal of old unit", "1", "240.00", "DISPOSAL"),
        ],
    ),
    (
        3,
        "Greenway Childcare - safety switch upgrade",
        "contractsent",
        "default",
        "2856.00",
        "",
        "Work only outside 7:00-18:00 opening hours.",
        [
            ("RCBO safety switch", "12", "95.00", "RCBO"),
            ("Labour - electrician (hours)", "15.6", "110.00", "LABOUR-HR"),
        ],
    ),
    (
        4,
        "Moss & Finch - studio fit-out",
        "qualifiedtobuy",
        "default",
        "18400.00",
        "22 Foster St, Surry Hills NSW 2010",
        "Design drawings rev C.",
        [("Fit-out electrical package", "1", "18400.00", "FITOUT-EL")],
    ),
    (
        5,
        "Tran Bakery - oven circuit",
        "appointmentscheduled",
        "default",
        "1180.00",
        "",
        "Three-phase circuit for new deck oven.",
        [
            ("Three-phase circuit", "1", "850.00", "3PH-CCT"),
            ("Labour - electrician (hours)", "3", "110.00", "LABOUR-HR"),
        ],
    ),
    (
        0,
        "Harbour View Cafe - quarterly maintenance",
        "2001002",
        "2001",
        "990.00",
        "",
        "Test and tag, RCD testing, exhaust fan service.",
        [("Quarterly maintenance visit", "1", "990.00", "MAINT-Q")],
    ),
    (
        3,
        "Greenway Childcare - annual maintenance contract",
        "2001003",
        "2001",
        "3960.00",
        "",
        "Four visits a year.",
        [("Quarterly maintenance visit", "4", "990.00", "MAINT-Q")],
    ),
    (
        None,
        "Walk-in quote - no company yet",
        "contractsent",
        "default",
        "638.00",
        "7 Smith Lane, Newtown NSW 2042",
        "Customer walked in; details on paper at the front desk.",
        [
            ("Call-out fee", "1", "165.00", "CALLOUT"),
            ("Labour - electrician (hours)", "4.3", "110.00", "LABOUR-HR"),
        ],
    ),
]


def demo_seed(store: Store) -> None:
    """The pipelines, six customers, their people, and ten deals at different stages."""
    empty_seed(store)
    companies = []
    for name, domain, phone, address, city, state, postcode, abn in COMPANIES:
        companies.append(
            store.create(
                "companies",
                {
                    "name": name,
                    "domain": domain,
                    "phone": phone,
                    "address": address,
                    "city": city,
                    "state": state,
                    "zip": postcode,
                    "country": "Australia",
                    "abn": abn,
                },
            )
        )
    people: dict[int, list[dict]] = {}
    for index, first, last, email, phone, title in CONTACTS:
        contact = store.create(
            "contacts",
            {
                "firstname": first,
                "lastname": last,
                "email": email,
                "phone": phone,
                "jobtitle": title,
            },
            associations=[("companies", companies[index]["id"])],
        )
        people.setdefault(index, []).append(contact)
    for index, name, stage, pipeline, amount, site, notes, lines in DEALS:
        links = []
        if index is not None:
            links = [("companies", companies[index]["id"])]
            links += [("contacts", person["id"]) for person in people.get(index, [])[:1]]
        deal = store.create(
            "deals",
            {
                "dealname": name,
                "dealstage": stage,
                "pipeline": pipeline,
                "amount": amount,
                "closedate": "2026-12-15",
                "description": notes,
                "site_address": site or None,
                "deal_currency_code": "AUD",
            },
            associations=links,
        )
        for title, quantity, price, sku in lines:
            store.create(
                "line_items",
                {
                    "name": title,
                    "quantity": quantity,
                    "price": price,
                    "hs_sku": sku,
                    "amount": f"{float(quantity) * float(price):.2f}",
                },
                associations=[("deals", deal["id"])],
            )


SEEDS = {"demo": demo_seed, "empty": empty_seed}
