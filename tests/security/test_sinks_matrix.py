"""Card data against every sink: brand x encoding x injection point, on the real gateway and the Stripe sandbox.

Each cell sends one card number (a synthetic Luhn-valid number of its own, so a trace names its cell) in one
encoding into one injection point, then the response, the whole log, every text column of the database, the
raw SQLite file and its WAL, and the Stripe sandbox's stored objects are scanned for its digits after folding
every digit form back to ASCII (JSON and percent escapes decoded, NFKC, decimal digits of any script, format
characters dropped). A trace is more than the last four digits.

The matrix is covered pairwise rather than as a full product (that would be ~4,000 requests): every brand
with every encoding (in an escalation summary), every encoding at every injection point (brand rotating),
every brand at every injection point (encoding rotating). All cells are sent first, the background queue
drained, and the database and log scanned once; each cell is then its own test item.

A cell that leaks is a failure, whether the boundary let it through or the detector did not recognise it:
the failure message says which (a plumbing gap, or a detector gap in ``redaction``).
"""

from __future__ import annotations

import itertools
import json
import random
import re
import string
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
import requests

from adapters.pcipal.callbacks import sign_callback
from adapters.stripe.signing import sign_header
from gateway.sandbox import SANDBOX_STRIPE_KEY
from redaction import contains_card_number
from tests.security.cards import luhn_check_digit
from tests.security.conftest import LiveStack, LogCapture, database_files_text, database_text
from tests.security.test_fuzz_card_data import drain

# --- brands ---------------------------------------------------------------------------------------------

#: (name, prefix, length). Maestro and Laser ranges included (5600, 5641, 6771, 6799).
BRANDS: tuple[tuple[str, str, int], ...] = (
    ("visa16", "4", 16),
    ("visa19", "4", 19),
    ("mastercard", "51", 16),
    ("mastercard2", "2720", 16),
    ("amex", "37", 15),
    ("discover", "6011", 16),
    ("diners", "36", 14),
    ("jcb", "3528", 16),
    ("unionpay", "62", 16),
    ("maestro5600", "5600", 16),
    ("maestro5641", "5641", 19),
    ("laser6771", "6771", 16),
    ("laser6799", "6799", 18),
)


def make_pan(prefix: str, length: int, seed: str) -> str:
    rng = random.Random(seed)
    partial = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return partial + luhn_check_digit(partial)


# --- encodings ------------------------------------------------------------------------------------------


def _fours(pan: str) -> list[str]:
    return [pan[i : i + 4] for i in range(0, len(pan), 4)]


def _joined(sep: str) -> Callable[[str], str]:
    return lambda pan: sep.join(_fours(pan))


def _digits(zero: int) -> Callable[[str], str]:
    return lambda pan: "".join(chr(zero + int(d)) for d in pan)


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda pan: pan,
    "spaced": _joined(" "),
    "dashed": _joined("-"),
    "newline": _joined("\n"),
    "crlf": _joined("\r\n"),
    "comma_space": _joined(", "),
    "four_spaces": _joined("    "),
    "six_spaces": _joined("      "),
    "zero_width_space": _joined("\u200b"),
    "soft_hyphen": _joined("\u00ad"),
    "thin_space": _joined("\u2009"),
    "narrow_nbsp": _joined("\u202f"),
    "hyphen_u2010": _joined("\u2010"),
    "minus_u2212": _joined("\u2212"),
    "fullwidth": _digits(0xFF10),
    "arabic_indic": _digits(0x0660),
    "devanagari": _digits(0x0966),
    "math_bold": _digits(0x1D7CE),
    "plus_prefix": lambda pan: "+" + pan,
    "letters_prefix": lambda pan: "ref" + pan,
    "percent_every_digit": lambda pan: "".join(f"%{ord(d):02X}" for d in pan),
    "split_two_fields": lambda pan: pan,  # split by the injection point (see ``_split``)
}

#: Encodings a header can carry (no line breaks; latin-1 after the client's encoding, so non-ASCII is sent as
#: UTF-8 bytes). ``split_two_fields`` only means something where there are two fields.
_NOT_IN_HEADERS = {"newline", "crlf", "split_two_fields"}


def _split(pan: str, encode: Callable[[str], str]) -> tuple[str, str]:
    half = len(pan) // 2
    return encode(pan[:half]), encode(pan[half:])


# --- injection points -----------------------------------------------------------------------------------


@dataclass
class Cell:
    brand: str
    encoding: str
    sink: str
    pan: str
    injected: str = ""  # the text as it was put in (what the detector is asked about)
    response: str = ""
    status: int = 0
    provider: bool = False  # the card is in the Stripe sandbox on purpose (provider-text paths)
    fragments: list[str] = field(default_factory=list)  # halves of a split number, each a trace on its own

    @property
    def id(self) -> str:
        return f"{self.sink}-{self.brand}-{self.encoding}"


class Sender:
    """Sends one cell's request(s) to the live stack."""

    def __init__(self, live: LiveStack) -> None:
        self.live = live
        self.http = requests.Session()
        self.n = 0
        state = live.stack.stripe.state
        self.ada = next(c["id"] for c in state.store["customer"].values() if c.get("email") == "ada@example.com")
        assert state.store["subscription"], "the sandbox seed has subscriptions"
        self.capture_id = ""
        self.run = "".join(random.choice(string.ascii_letters) for _ in range(12))

    def _key(self) -> str:
        self.n += 1
        # No long digit run: a chance Luhn-valid run would be refused by the header gate, not reach the sink.
        return f"sinks-{self.n}-{self.run}"

    def action(self, name: str, body: Any, **headers: str | bytes) -> requests.Response:
        hdrs: dict[str, str | bytes] = {**self.live.auth(), "Content-Type": "application/json"}
        hdrs.setdefault("Idempotency-Key", self._key())
        hdrs.setdefault("X-Call-Id", f"call-sinks-{self.n}")  # one call per cell: no per-call limit between cells
        hdrs.update(headers)
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.http.post(f"{self.live.base_url}/v1/actions/{name}", data=data, headers=hdrs, timeout=30)

    def send(self, cell: Cell) -> None:
        encode = ENCODINGS[cell.encoding]
        text = encode(cell.pan)
        split = cell.encoding == "split_two_fields"
        a, b = _split(cell.pan, ENCODINGS["spaced"]) if split else ("", "")
        cell.injected = text if not split else f"{a} {b}"
        if split:
            cell.fragments = [cell.pan[: len(cell.pan) // 2], cell.pan[len(cell.pan) // 2 :]]
        sink = cell.sink
        if sink == "escalation_summary":
            if split:
                resp = self.action("escalations.create", {"reason": "other", "summary": f"card {a}",
                                                          "payment_ids": [b]})
            else:
                resp = self.action("escalations.create", {"reason": "other", "summary": f"card {text} please"})
        elif sink == "escalation_payment_ids":
            ids = [a, b] if split else ["pi_123", text]
            resp = self.action("escalations.create", {"reason": "other", "summary": "see ids", "payment_ids": ids})
        elif sink == "capture_description":
            desc = f"Order {a} {b}" if split else f"Order {text}"
            resp = self.action("capture.start", {"amount": 1500, "description": desc})
        elif sink == "unknown_key":
            body = {"email": "ada@example.com", (f"{a}" if split else text): 1}
            if split:
                body[b] = 2
            resp = self.action("payments.lookup", body)
        elif sink == "call_id":
            value = text if not split else f"{a}-{b}"
            resp = self.action("payments.lookup", {"email": "ada@example.com"}, **{"X-Call-Id": _header(value)})
        elif sink == "idempotency_key":
            value = text if not split else f"{a}-{b}"
            resp = self.action("payments.lookup", {"email": "ada@example.com"},
                               **{"Idempotency-Key": _header(value)})
        elif sink == "webhook_payload":
            resp = self._webhook(cell, text, split, a, b)
        elif sink == "callback_fields":
            resp = self._callback(text if not split else a, b if split else None)
        elif sink == "provider_pi_description":
            cell.provider = True
            desc = f"Phone order, card {a} {b} exp 12/29" if split else f"Phone order, card {text} exp 12/29"
            # A new payment (newest first in the lookup), as a merchant's phone order would be recorded.
            self._stripe_post("/v1/payment_intents", {"amount": "1999", "currency": "gbp", "customer": self.ada,
                                                      "payment_method": "pm_card_visa", "confirm": "true",
                                                      "description": desc})
            resp = self.action("payments.lookup", {"email": "ada@example.com", "limit": 1})
        elif sink == "provider_product_name":
            cell.provider = True
            name = f"Plan {a} {b}" if split else f"Plan {text}"
            # The sandbox has no product update endpoint: the name is changed in its store, as a merchant
            # would in the dashboard.
            for product in self.live.stack.stripe.state.store["product"].values():
                product["name"] = name
            resp = self.action("subscriptions.lookup", {"email": "grace@example.com"})
        else:  # pragma: no cover - a typo in SINKS
            raise AssertionError(sink)
        cell.status = resp.status_code
        cell.response = resp.text + "\n" + json.dumps(dict(resp.headers))

    def _stripe_post(self, path: str, form: dict[str, str]) -> None:
        resp = self.http.post(
            f"{self.live.stack.stripe.base_url}{path}",
            data=form,
            headers={"Authorization": f"Bearer {SANDBOX_STRIPE_KEY}"},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text

    def _webhook(self, cell: Cell, text: str, split: bool, a: str, b: str) -> requests.Response:
        obj: dict[str, Any] = {
            "id": f"pi_sinks{self.n}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 1299,
            "currency": "gbp",
            "description": f"card {a}" if split else f"card {text}",
            "metadata": {"note": b} if split else {"note": text},
        }
        self.n += 1
        event = {"id": f"evt_sinks_{self.n}_{self.run}", "object": "event",
                 "type": "payment_intent.succeeded", "created": int(time.time()), "livemode": False,
                 "data": {"object": obj}}
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "Stripe-Signature": sign_header(body, [self.live.stack.webhook_secret], int(time.time()))}
        return self.http.post(f"{self.live.base_url}/v1/webhooks/stripe/{self.live.stack.tenant}", data=body,
                              headers=headers, timeout=30)

    def _callback(self, text: str, second: str | None) -> requests.Response:
        if not self.capture_id:
            resp = self.action("capture.start", {"amount": 1200, "description": "Sinks matrix"})
            assert resp.status_code == 200, resp.text
            self.capture_id = resp.json()["result"]["capture_id"]
        fields = {"OrderReference": self.capture_id, "Result": "hangup", "CardType": "visa",
                  "Message": f"caller said {text}"}
        if second is not None:
            fields["CustomData1"] = second
        body = json.dumps(fields, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   "X-PCIPal-Signature": sign_callback(body, self.live.stack.callback_secret, int(time.time()))}
        return self.http.post(f"{self.live.base_url}/v1/callbacks/pcipal/{self.live.stack.tenant}", data=body,
                              headers=headers, timeout=30)


def _header(value: str) -> str | bytes:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
    return value


SINKS = (
    "escalation_summary",
    "escalation_payment_ids",
    "capture_description",
    "unknown_key",
    "call_id",
    "idempotency_key",
    "webhook_payload",
    "callback_fields",
    "provider_pi_description",
    "provider_product_name",
)
_HEADER_SINKS = {"call_id", "idempotency_key"}


def cells() -> list[tuple[str, str, str]]:
    """The pairwise cover: (brand, encoding, sink) triples."""
    brands = [b[0] for b in BRANDS]
    encodings = list(ENCODINGS)
    out: dict[tuple[str, str, str], None] = {}

    def add(brand: str, encoding: str, sink: str) -> None:
        if sink in _HEADER_SINKS and encoding in _NOT_IN_HEADERS:
            return
        out[(brand, encoding, sink)] = None

    for brand, encoding in itertools.product(brands, encodings):
        add(brand, encoding, "escalation_summary")
    for n, (encoding, sink) in enumerate(itertools.product(encodings, SINKS)):
        add(brands[n % len(brands)], encoding, sink)
    for n, (brand, sink) in enumerate(itertools.product(brands, SINKS)):
        add(brand, encodings[(n * 7) % len(encodings)], sink)
    return list(out)


CELLS = cells()
_BRAND = {name: (prefix, length) for name, prefix, length in BRANDS}


# --- folding and scanning -------------------------------------------------------------------------------

_JSON_U = re.compile(r"\\u([0-9a-fA-F]{4})")
_JSON_WS = re.compile(r"\\[nrt]")
_SEP = r"[\s,\-_/\u2010-\u2015\u2212]{0,8}"
_GROUP = re.compile(rf"[0-9](?:{_SEP}[0-9])*")


def fold(text: str) -> str:
    """Every digit form back to ASCII; separators kept (the grouping reads them)."""
    text = _JSON_U.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # rejoin surrogate pairs
    text = _JSON_WS.sub(" ", text)
    for _ in range(2):
        text = unquote(text)
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        if ch.isdigit() and not "0" <= ch <= "9":
            d = unicodedata.digit(ch, None)
            out.append(str(d) if d is not None else ch)
        elif unicodedata.category(ch) == "Cf":
            continue
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class DigitIndex:
    """The digit groups of a (folded) text: every 10-digit window, and the groups themselves."""

    grams: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> DigitIndex:
        idx = cls()
        text = fold(text)
        for m in _GROUP.finditer(text):
            before = text[m.start() - 1] if m.start() else " "
            after = text[m.end()] if m.end() < len(text) else " "
            if before.isalnum() and after.isalnum():
                continue  # inside a token (a hex hash, a request id): digits there are chance
            digits = re.sub(r"[^0-9]", "", m.group())
            idx.groups.add(digits)
            idx.grams.update(digits[i : i + 10] for i in range(len(digits) - 9))
        return idx

    def trace(self, cell: Cell) -> bool:
        pan = cell.pan
        if any(pan[i : i + 10] in self.grams for i in range(len(pan) - 9)):
            return True
        return any(f in self.groups for f in cell.fragments)


def response_trace(cell: Cell) -> bool:
    """The cell's own response, with the stricter rule of a single-card scan: 6+ consecutive digits."""
    text = fold(cell.response)
    pan = cell.pan
    for m in _GROUP.finditer(text):
        digits = re.sub(r"[^0-9]", "", m.group())
        if len(digits) >= 6 and any(pan[i : i + 6] in digits for i in range(len(pan) - 5)):
            before = text[m.start() - 1] if m.start() else " "
            after = text[m.end()] if m.end() < len(text) else " "
            if not (before.isalnum() and after.isalnum()):
                return True
    return False


@dataclass
class Outcome:
    cells: dict[str, Cell]
    places: dict[str, list[str]]  # cell id -> where a trace was found


@pytest.fixture(scope="module")
def outcome(live: LiveStack, captured_logs: LogCapture) -> Outcome:
    return run_matrix(live, captured_logs, CELLS)


def run_matrix(live: LiveStack, captured_logs: LogCapture, triples: list[tuple[str, str, str]]) -> Outcome:
    """Send every cell, drain the queue, scan everything once; where each cell left a trace."""
    sender = Sender(live)
    done: dict[str, Cell] = {}
    for brand, encoding, sink in triples:
        prefix, length = _BRAND[brand]
        cell = Cell(brand, encoding, sink, make_pan(prefix, length, f"{brand}|{encoding}|{sink}"))
        sender.send(cell)
        done[cell.id] = cell
    drain(live)
    time.sleep(0.3)  # the access log line of the last request
    drain(live)
    log_idx = DigitIndex.of(captured_logs.text())
    db_idx = DigitIndex.of(database_text(live.db_path))
    file_idx = DigitIndex.of(database_files_text(live.db_path))
    stripe_idx = DigitIndex.of(json.dumps(live.stack.stripe.state.store, default=str, ensure_ascii=False))
    places: dict[str, list[str]] = {}
    for cid, cell in done.items():
        where = [name for name, idx in (("log", log_idx), ("database", db_idx), ("database file", file_idx))
                 if idx.trace(cell)]
        if response_trace(cell):
            where.append("response")
        if not cell.provider and stripe_idx.trace(cell):
            where.append("stripe")
        if cell.status >= 500 and cell.status != 503:
            where.append(f"status {cell.status}")
        places[cid] = where
    return Outcome(done, places)


@pytest.mark.parametrize(("brand", "encoding", "sink"), CELLS, ids=[f"{s}-{b}-{e}" for b, e, s in CELLS])
def test_no_trace(outcome: Outcome, brand: str, encoding: str, sink: str) -> None:
    cell = outcome.cells[f"{sink}-{brand}-{encoding}"]
    where = outcome.places[cell.id]
    gap = "" if contains_card_number(cell.injected) else f" (detector gap: {encoding!r} is not recognised)"
    assert not where, f"{cell.id}: card digits in {', '.join(where)} (status {cell.status}){gap}"


def test_matrix_covers_every_pair() -> None:
    brands = {b[0] for b in BRANDS}
    triples = set(CELLS)
    assert {(b, e) for b, e, s in triples if s == "escalation_summary"} == set(itertools.product(brands, ENCODINGS))
    for sink in SINKS:
        encs = {e for _, e, s in triples if s == sink}
        expected = set(ENCODINGS) - (_NOT_IN_HEADERS if sink in _HEADER_SINKS else set())
        assert encs == expected, sink
        assert {b for b, _, s in triples if s == sink} == brands, sink


def test_the_folding_scan_finds_every_encoding() -> None:
    """The scan itself: each encoding of a number, left in a text, is found (else a 0 would mean nothing)."""
    for brand, prefix, length in BRANDS:
        pan = make_pan(prefix, length, brand)
        for name, encode in ENCODINGS.items():
            cell = Cell(brand, name, "x", pan)
            if name == "split_two_fields":
                a, b = _split(pan, ENCODINGS["spaced"])
                cell.fragments = [pan[: len(pan) // 2], pan[len(pan) // 2 :]]
                text = json.dumps({"summary": f"card {a}", "ids": [b]})
            else:
                text = json.dumps({"summary": f"my card {encode(pan)} ok"})
            assert DigitIndex.of(text).trace(cell), (brand, name, text)
            cell.response = text
            assert response_trace(cell), (brand, name)
