"""The detector has no finding in log lines: access-log and JSON lines of any status, size and duration, with
decimals, timestamps, UUIDs, trace ids, IP addresses, IBANs and phone numbers (the gateway's own log format,
``%a "%r" %s %b %Tf``, and common JSON log shapes)."""

from __future__ import annotations

import json
import uuid

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import redaction

_SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_PATHS = st.sampled_from(
    [
        "/v1/actions/refunds.create",
        "/v1/actions/payments.lookup",
        "/v1/captures/cap_123/status",
        "/v1/webhooks/stripe/acme",
        "/healthz",
        "/metrics",
        "/v1/actions/refunds.create?limit=10&offset=200",
    ]
)
_IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_IPV6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda xs: ":".join(f"{x:x}" for x in xs))
_DURATION = st.floats(0, 120, allow_nan=False).map(lambda f: f"{f:.6f}")
_STATUS = st.integers(100, 599)
_SIZE = st.integers(0, 10**9)


@_SETTINGS
@given(_IPV4 | _IPV6, st.sampled_from(["GET", "POST", "PUT", "DELETE"]), _PATHS, _STATUS, _SIZE, _DURATION)
def test_no_finding_in_access_log_lines(ip: str, method: str, path: str, status: int, size: int, dur: str) -> None:
    line = f'{ip} "{method} {path} HTTP/1.1" {status} {size} {dur}'
    assert redaction.scan(line) == [], line
    assert redaction.redact(line) == line
    assert not redaction.contains_card_number(line)


_HEX32 = st.integers(0, 2**128 - 1).map(lambda x: f"{x:032x}")
_HEX16 = st.integers(0, 2**64 - 1).map(lambda x: f"{x:016x}")
_TS = st.tuples(
    st.integers(2020, 2030),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999_999),
).map(lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{t[5]:02d}.{t[6]:06d}Z")
_EPOCH = st.integers(1_500_000_000, 1_900_000_000)
_IBAN = st.tuples(st.sampled_from(["DE", "GB", "FR", "NL", "ES", "IT"]), st.integers(10**19, 10**20 - 1)).map(
    lambda t: f"{t[0]}{t[1] % 100:02d}{t[1]}"
)
# Phone numbers as they appear in logs: real ones (libphonenumber calls them valid). A '+' before digits that
# no numbering plan assigns is not a phone, and a card number hidden that way must still be found.
_PHONE = (
    st.tuples(st.sampled_from(["+1", "+44", "+33", "+49", "+61", "+91"]), st.integers(10**8, 10**11 - 1))
    .map(lambda t: f"{t[0]} {t[1]}")
    .filter(lambda p: phonenumbers.is_valid_number(phonenumbers.parse(p)))
)


@_SETTINGS
@given(
    _TS,
    _EPOCH,
    _STATUS,
    _SIZE,
    st.floats(0, 10_000, allow_nan=False),
    st.uuids(),
    _HEX32,
    _HEX16,
    _IPV4,
    _IBAN,
    _PHONE,
    st.integers(0, 10**7),
    st.booleans(),
)
def test_no_finding_in_json_log_lines(
    ts: str,
    epoch: int,
    status: int,
    size: int,
    amount: float,
    rid: uuid.UUID,
    trace: str,
    span: str,
    ip: str,
    iban: str,
    phone: str,
    duration_ms: int,
    compact: bool,
) -> None:
    record = {
        "ts": ts,
        "time": epoch,
        "level": "INFO",
        "logger": "aiohttp.access",
        "status": status,
        "size": size,
        "duration": round(duration_ms / 1e6, 6),
        "duration_ms": duration_ms,
        "amount": round(amount, 2),
        "request_id": str(rid),
        "trace_id": trace,
        "span_id": span,
        "remote": ip,
        "iban": iban,
        "phone": phone,
    }
    line = json.dumps(record, separators=(",", ":") if compact else None)
    assert redaction.scan(line) == [], line
    assert not redaction.contains_card_number(line)
    kv = " ".join(f"{k}={v}" for k, v in record.items())
    assert redaction.scan(kv) == [], kv


def test_the_line_from_the_issue() -> None:
    line = '"POST /v1/actions/refunds.create HTTP/1.1" 422 542 0.005000'
    assert redaction.redact(line) == line
