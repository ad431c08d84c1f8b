"""HubSpot's v3 signature, checked against the vectors in shared/specs/hubspot."""

import pytest

from connectors.hubspot.webhooks import (
    MalformedDelivery,
    SignatureRefused,
    delivery_key,
    events_parse,
    signature_check,
    signature_v3,
    signing_uri,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
BODY = b"{'example_field':'example_value'}"
TIMESTAMP = "1693657560000"
EXPECTED = "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_it_matches_the_published_v3_vector():
    assert signature_v3(secret=SECRET, method="POST", uri=URI, body=BODY, timestamp=TIMESTAMP) == (
        EXPECTED
    )


def vector_check(now_ms: int) -> None:
    signature_check(
        secret=SECRET,
        method="POST",
        uri=URI,
        body=BODY,
        signature=EXPECTED,
        timestamp=TIMESTAMP,
        now_ms=now_ms,
    )


def test_it_accepts_the_vector_within_five_minutes_of_its_timestamp():
    vector_check(now_ms=int(TIMESTAMP) + 299_000)


def test_it_refuses_the_vector_when_it_is_older_than_five_minutes():
    with pytest.raises(SignatureRefused, match="five minutes"):
        vector_check(now_ms=int(TIMESTAMP) + 301_000)


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY + b" "},
        {"uri": URI + "/other"},
        {"method": "PUT"},
        {"secret": "another-secret"},
        {"signature": EXPECTED.replace("K", "L", 1)},
    ],
)
def test_it_refuses_any_change_to_what_was_signed(change):
    args = {"secret": SECRET, "method": "POST", "uri": URI, "body": BODY, "signature": EXPECTED}
    with pytest.raises(SignatureRefused, match="does not match"):
        signature_check(**(args | change), timestamp=TIMESTAMP, now_ms=int(TIMESTAMP))


def test_it_refuses_a_request_without_signature_headers():
    with pytest.raises(SignatureRefused, match="no X-HubSpot-Signature-v3"):
        signature_check(
            secret=SECRET, method="POST", uri=URI, body=BODY, signature=None, timestamp=None
        )


def test_it_signs_the_uri_with_hubspots_escapes_decoded_and_others_kept():
    assert signing_uri("https://h/x?a=%3A%2f%40&b=%20%2B") == "https://h/x?a=:/@&b=%20%2B"


def test_it_gives_a_retried_event_the_same_delivery_key():
    event = {
        "eventId": 1,
        "subscriptionType": "deal.propertyChange",
        "objectId": 5,
        "occurredAt": 10,
        "attemptNumber": 0,
    }
    assert delivery_key(event) == delivery_key(event | {"attemptNumber": 3})
    assert delivery_key(event) != delivery_key(event | {"occurredAt": 11})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"eventId": 1}', "JSON array"),
        (b"[1]", "not a JSON object"),
        (b'[{"eventId": 1}]', "lacks subscriptionType, objectId, occurredAt"),
    ],
)
def test_it_explains_what_is_wrong_with_a_malformed_body(body, message):
    with pytest.raises(MalformedDelivery, match=message):
        events_parse(body)
