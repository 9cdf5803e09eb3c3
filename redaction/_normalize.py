"""One normalisation for detection, shared by ``scan``, ``redact``, ``redact_json``, the gate and the stream.

Detection runs on a normalised copy of the text; findings are mapped back to spans of the caller's original
text, and the original span is what gets redacted. The normalisation:

* percent-decoding (``%34%32``, ``%E2%80%8B``: UTF-8 sequences are decoded as one character);
* HTML character references (``&nbsp;``, ``&#52;``, ``&#x34;``);
* JSON / C string escapes (``\\n``, ``\\t``, ``\\u0034``): a log line often holds an escaped body;
* every Unicode decimal digit (full-width, Arabic-Indic, Devanagari, mathematical, ...) to its ASCII digit, and
  the other digits too: circled and dingbat digits (❹, ➃), superscripts, the CJK digits 〇一二三四五六七八九 (零)
  and their financial forms (壹贰叁...); tag characters (U+E0020-E007E, invisible ASCII) to the ASCII they hide;
* middle dots, bullets, Arabic and ideographic separators and C1 controls (NEL) to a space;
* zero-width spaces and joiners, the word joiner and the BOM to a space; the other format characters (Unicode
  category Cf: soft hyphen, bidi marks) and combining marks (keycaps "4️⃣", underlines, accents) removed;
* every other non-ASCII character through NFKC; what is then a space (NBSP, thin space, U+2028, ...) becomes
  " ", a dash (U+2010, U+2013, U+2212, ...) becomes "-", and a line or paragraph separator a newline.

* markup tags (``<span class="grp-1">``, ``</td>``, ``<br/>``, ``<!-- -->``) to one space, followed by the values
  of the tag's attributes that hold digits and text (``value="4242"``, ``href="...?pan=..."``; not class names,
  field names or sizes), each between spaces: digit groups in sibling elements or in a row of inputs are one
  number. WebVTT voice tags (``<v Caller>``) and tags named by a speaker label (``<Caller>``) stay as written:
  they are speaker turns.

ASCII text without ``%``, ``&``, ``<`` or a backslash is returned as is, without a map (the common case for log
lines).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Final

from redaction._spoken import LABELS as SPEAKER_LABELS

_ZERO_WIDTH_BREAKS: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
_PERCENT_RUN: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_ENTITY: Final = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
# What a markup tag reads as: a separator of its own (U+001E, record separator), so a number may start or end
# at a tag ("<td>1</td><td>4242 4242 4242 4242</td>") as well as run on across tags ("<td>4242</td><td>4242").
TAG_BREAK: Final = "\x1e"
_TAG: Final = re.compile(
    r"<(?:!--.{0,500}?-->|/?[A-Za-z][A-Za-z0-9:-]{0,30}(?P<attrs>[ \t\r\n/][^<>]{0,500})?>)", re.S
)
_ATTR: Final = re.compile(r"""([^\s=<>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s<>"']+)))?""")
# Attributes that name, size or style an element: never card data, often digits ("cc1", maxlength="4").
_NOISE_ATTRS: Final = frozenset(
    ["class", "id", "name", "style", "width", "height", "maxlength", "minlength", "size", "tabindex", "type", "for",
     "rel", "colspan", "rowspan", "cellpadding", "cellspacing", "border", "align", "valign", "autocomplete", "role",
     "method", "target", "lang", "dir", "xmlns", "charset", "pattern", "step", "min", "max", "inputmode", "cols",
     "rows", "span", "start", "tabindex", "data-testid", "aria-hidden", "version",
     # (an element's place in a list: "<Part seq="1">4242</Part><Part seq="2">...")
     "seq", "sequence", "index", "idx", "order", "position", "pos", "part", "num", "n", "key", "ordinal"]
)  # fmt: skip
_DIGIT: Final = re.compile(r"[0-9]")
# CJK digits as written in Chinese and Japanese text (numeric, not decimal, in Unicode).
_CJK_DIGITS: Final = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
                      "八": "8", "九": "9", "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "肆": "4", "伍": "5",
                      "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9"}  # fmt: skip
# Marks written between digit groups: middle dots, bullets, Arabic and ideographic separators.
# (and blank letters that show as space: Hangul fillers, the Braille blank)
_GROUP_MARKS: Final = frozenset(
    "\u00b7\u2022\u2027\u2219\u30fb\uff65\u066b\u066c\u060c\u3001\u2981\u3164\u115f\u1160\uffa0\u2800"
)
# (and the katakana long-vowel mark, written as a dash between digit groups in Japanese text)
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043\u30fc\uff70")


class OffsetMap:
    """For each character of the normalised text, the span ``[start, end)`` of the original it came from.

    ``breaks``: normalised positions that stand for markup (a tag read as a space); findings are cut there.
    """

    __slots__ = ("breaks", "ends", "starts")

    def __init__(self, starts: list[int], ends: list[int], breaks: frozenset[int] = frozenset()) -> None:
        self.starts = starts
        self.ends = ends
        self.breaks = breaks

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that normalised ``[start, end)`` came from (an empty span maps to a point)."""
        n = len(self.starts)
        if n == 0:
            return 0, 0
        if end <= start:
            pos = self.starts[start] if start < n else self.ends[n - 1]
            return pos, pos
        s = self.starts[min(start, n - 1)]
        e = self.ends[min(end, n) - 1]
        return s, e


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    """The detection form of one non-ASCII character ("" to drop it)."""
    dec = unicodedata.decimal(ch, None)
    if dec is not None:
        return str(dec)
    if ch in _CJK_DIGITS:
        return _CJK_DIGITS[ch]
    if "\U000e0020" <= ch <= "\U000e007e":
        return chr(ord(ch) - 0xE0000)  # tag characters: invisible ASCII ("ASCII smuggling"), read as the ASCII
    dig = unicodedata.digit(ch, None)
    if dig is not None:
        return str(dig)  # digits that are not decimal: dingbat and circled digits (❹, ➃), superscripts
    if ch in _GROUP_MARKS:
        return " "
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return " "  # NEL and other C1 controls between groups
    if cat in ("Mn", "Me", "Mc"):
        return ""  # combining marks: keycaps ("4\ufe0f\u20e3"), underlines ("4\u0332"), accents on digits
    if cat == "Cf":
        # zero-width spaces and joiners separate what they sit between ("J Smith\u200b4242...\u200b08/26"); the
        # other format characters (soft hyphen, bidi marks) glue it
        return " " if ch in _ZERO_WIDTH_BREAKS else ""
    if ch in _DASHES or cat == "Pd":
        return "-"
    if cat in ("Zl", "Zp"):
        return "\n"
    if cat == "Zs":
        return " "
    out = unicodedata.normalize("NFKC", ch)
    if out.isascii():
        return out
    # Digits produced by NFKC (superscripts, circled digits are "No", not decimal: kept out on purpose; a
    # decomposition may still hold a decimal digit of another script).
    return "".join(str(d) if (d := unicodedata.decimal(c, None)) is not None else c for c in out)


def _decode_percent(run: str) -> list[tuple[str, int, int]]:
    """(character, start, end) for a run of %XX escapes; offsets relative to the run."""
    raw = bytes(int(run[i + 1 : i + 3], 16) for i in range(0, len(run), 3))
    out: list[tuple[str, int, int]] = []
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        size = 1 if b < 0x80 else 2 if 0xC0 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF8 else 0
        if size and i + size <= n:
            try:
                ch = raw[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                ch = ""
            if ch:
                out.append((ch, 3 * i, 3 * (i + size)))
                i += size
                continue
        out.append((run[3 * i : 3 * i + 3], 3 * i, 3 * i + 3))  # not UTF-8: kept as written
        i += 1
    return out


# JSON / C string escapes, as a log line holding an escaped body shows them: "\n", "\t", "\u0034".
# JSON and Python string escapes: "\u00a0", "\xa0" (a repr), "\n", ...
_ESCAPE: Final = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|[nrtbf\"/\\ PL_N\n])")
# (and Java properties' escaped space "\ ", YAML's "\P", "\L", "\_", "\N": paragraph and line separators, NBSP, NEL;
# a backslash before a line break: a line continued, in properties files and shell commands)
_SIMPLE_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t", "b": " ", "f": " ", '"': '"', "/": "/", "\\": "\\",
                          " ": " ", "P": "\n", "L": "\n", "_": " ", "N": "\n", "\n": " "}  # fmt: skip


_MAX_PASSES: Final = 3  # text encoded more times than this is read as the third decoding leaves it


def normalize_for_detection(text: str, _passes: int = 1) -> tuple[str, OffsetMap | None]:
    """``(normalised text, offset map)``; the map is None when the text is unchanged.

    ``offset_map.span(s, e)`` gives the span of ``text`` that the normalised ``[s, e)`` came from.
    """
    if text.isascii() and "%" not in text and "&" not in text and "\\" not in text and "<" not in text:
        return text, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    breaks: list[int] = []
    changed = False
    # an escape decoded to "&" or "<" (HTML inside a JSON string: "\u0026nbsp;", "\u003cbr\u003e"), or an encoding
    # decoded to "%" or "&" (text encoded twice): the result is read again
    markup = False
    pos = 0
    n = len(text)

    def emit(piece: str, s: int, e: int) -> None:
        for ch in piece:
            out.append(ch)
            starts.append(s)
            ends.append(e)

    while pos < n:
        ch = text[pos]
        if ch == "%":
            m = _PERCENT_RUN.match(text, pos)
            if m is not None:
                for piece, s, e in _decode_percent(m.group()):
                    piece2 = piece if piece.isascii() else _char_str(piece)
                    emit(piece2, pos + s, pos + e)
                    markup = markup or piece in ("%", "&")  # encoded twice: "%250A", "%26nbsp%3B"
                changed = True
                pos = m.end()
                continue
        elif ch == "&":
            m = _ENTITY.match(text, pos)
            if m is not None:
                decoded = html.unescape(m.group())
                if decoded != m.group():
                    emit(decoded if decoded.isascii() else _char_str(decoded), pos, m.end())
                    markup = markup or decoded in ("&", "%")  # escaped twice: "&amp;nbsp;", "&amp;#8203;"
                    changed = True
                    pos = m.end()
                    continue
        elif ch == "<":
            m = _TAG.match(text, pos)
            if m is not None and m.group().startswith("<!--") and any(c.isdigit() for c in m.group()):
                # a comment with digits: its text is text (a card noted in a comment is still a card); one
                # without ("<!-- grp -->") is markup
                inner, imap = normalize_for_detection(m.group()[4:-3])
                breaks.append(len(out))
                emit(TAG_BREAK, pos, pos + 4)
                for i, ich in enumerate(inner):
                    out.append(ich)
                    starts.append(pos + 4 + (imap.starts[i] if imap is not None else i))
                    ends.append(pos + 4 + (imap.ends[i] if imap is not None else i + 1))
                breaks.append(len(out))
                emit(TAG_BREAK, m.end() - 3, m.end())
                changed = True
                pos = m.end()
                continue
            if m is not None and not m.group().startswith(("<v ", "<v.")) and not _label_tag(m.group()):
                # the tag reads as a space, then the values of its attributes that hold text (each between
                # spaces): class names, sizes and field names go; value="4242", href="...?pan=..." stay
                breaks.append(len(out))
                emit(TAG_BREAK, pos, pos + 1)
                attrs = m.group("attrs")
                if attrs and _DIGIT.search(attrs):
                    base = m.start("attrs")
                    # words with digits and no value, in a row: not markup but text between "<" and ">"
                    # ("<QueryDict: 4111 1111 1111 1111>", "if a<b then card 4111... and c>d"), read as written
                    bare: tuple[int, int] | None = None
                    texts: list[tuple[int, int]] = []  # (start, end) in attrs, in order
                    for a in _ATTR.finditer(attrs):
                        name = a.group(1).lower()
                        vg = 2 if a.group(2) is not None else 3 if a.group(3) is not None else 4
                        if a.group(vg) is None:
                            if _DIGIT.search(name):
                                bare = (bare[0] if bare else a.start(1), a.end(1))
                            continue
                        if bare:
                            texts.append(bare)
                            bare = None
                        if not _DIGIT.search(a.group(vg)):
                            continue
                        if name in _NOISE_ATTRS and len(_DIGIT.findall(a.group(vg))) < 12:
                            continue  # (a name or size; but 12+ digits in any attribute are read)
                        texts.append((a.start(vg), a.end(vg)))
                    if bare:
                        texts.append(bare)
                    for t0, t1 in texts:
                        value, vmap = normalize_for_detection(attrs[t0:t1])  # value="&#52;&#50;..."
                        v0 = base + t0
                        for i, vch in enumerate(value):
                            out.append(vch)
                            starts.append(v0 + (vmap.starts[i] if vmap is not None else i))
                            ends.append(v0 + (vmap.ends[i] if vmap is not None else i + 1))
                        breaks.append(len(out))
                        emit(TAG_BREAK, base + t1, base + t1)
                changed = True
                pos = m.end()
                continue
        elif ch == "\\":
            m = _ESCAPE.match(text, pos)
            if m is not None:
                esc = m.group()
                end = m.end()
                if len(esc) == 2:
                    decoded = _SIMPLE_ESCAPES[esc[1]]
                else:
                    code = int(esc[2:], 16)  # (\uXXXX or \xXX)
                    low = _ESCAPE.match(text, end) if 0xD800 <= code < 0xDC00 else None
                    if low is not None and len(low.group()) == 6 and 0xDC00 <= int(low.group()[2:], 16) < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (int(low.group()[2:], 16) - 0xDC00)
                        end = low.end()
                    decoded = chr(code)
                emit(decoded if decoded.isascii() else _char_str(decoded), pos, end)
                changed = True
                markup = markup or decoded in ("&", "<", "\\")  # (or an escaped backslash: JSON inside JSON)
                pos = end
                continue
        elif not ch.isascii():
            piece = _char(ch)
            if piece != ch:
                changed = True
            emit(piece, pos, pos + 1)
            pos += 1
            continue
        out.append(ch)
        starts.append(pos)
        ends.append(pos + 1)
        pos += 1
    if not changed:
        return text, None
    norm = "".join(out)
    if markup and _passes < _MAX_PASSES:
        # the markup the escapes spelt is read in a second pass, mapped through the first
        again, amap = normalize_for_detection(norm, _passes + 1)
        if amap is not None:
            return again, OffsetMap(
                [starts[i] for i in amap.starts],
                [ends[i - 1] for i in amap.ends],
                frozenset(i for i, c in enumerate(again) if c == TAG_BREAK),
            )
    return norm, OffsetMap(starts, ends, frozenset(breaks))


def _label_tag(tag: str) -> bool:
    """``<Caller>``, ``</Agent>``: a transcript's speaker turn, kept as written (a label, not markup)."""
    name = tag.strip("</>").split()[0].lower() if tag.strip("</>").strip() else ""
    return name in SPEAKER_LABELS


def _char_str(s: str) -> str:
    return "".join(c if c.isascii() else _char(c) for c in s)


def fold_digits(text: str) -> str:
    """Only the ASCII digits of the normalised text (for tests and sinks that compare digit strings)."""
    norm, _ = normalize_for_detection(text)
    return "".join(c for c in norm if "0" <= c <= "9")
