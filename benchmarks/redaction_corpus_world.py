"""Development material, second round: card numbers as real transcripts, forms, pages and logs carry them.

Part of the development corpus (``benchmarks/redaction_corpus.py`` adds these formats and decoys to its own).
Written from this list of real-world behaviours, not from what any evaluation corpus holds:

Transcripts
  * Speaker labels as platforms write them: "Caller:"/"Agent:", "CUSTOMER:"/"AGENT:" (contact-centre
    analytics), "User:"/"Assistant:" and "Human:"/"AI:" (LLM voice agents), "spk_0:"/"spk_1:" and
    "Speaker 1:"/"SPEAKER_00:" (diarising recognisers, where nobody says which speaker is the agent), "Rep:".
  * Turns on separate lines, or all on one line ("Caller: four two Agent: okay Caller: ...").
  * Timestamps before or after the label: "[00:01:23] Caller:", "00:01:23.450 Customer:", "Caller (01:23):".
  * Subtitles: SRT and WebVTT cues (cue number, "00:00:01,000 --> 00:00:03,500", text, blank line), with
    WebVTT voice tags ("<v Caller>").
  * The agent reads each group back ("four two four two, got it") or the whole number at the end; the
    caller repeats a group to confirm ("four two four two, yes, four two four two"); agent prompts hold
    number words that are not card digits ("and the next four?", "one moment").
  * Transcripts kept as JSON in logs: chat-style message lists ({"role": "user", "content": ...}), turn lists
    ({"speaker": "customer", "text": ...}), contact-centre segments ({"ParticipantId": "CUSTOMER",
    "Content": ...}), and word-level recogniser output ({"word": "four", "start": 1.23, "end": 1.41,
    "confidence": 0.97}), compact or pretty-printed, sometimes escaped inside a log string.
Speech
  * Hesitations as recognisers write them: "uh", "um", "erm", "hmm", "...", "--", "[pause]", "%HESITATION",
    "[inaudible]" (a markup-like "<hesitation>" is cut out of the finding, like any tag); discourse fillers: "you know", "hang on", "bear with me", "one sec",
    "let me check", "where was I"; cut-off words ("f- four"); stutters, a word said twice ("four four two").
  * Recognisers formatting a digit string as a phone number: "(424) 242-4242 4242", "424-242-4242-4242",
    "424.242.4242.4242"; or single digits: "4 2 4 2", "4, 2, 4, 2", "4. 2. 4. 2.", one digit per segment.
Forms and pages
  * Form bodies: "card_number=4242+4242+...", bracketed keys percent-encoded ("card%5Bnumber%5D="), the card
    split over fields ("cc1=4242&cc2=4242..."), multipart/form-data parts.
  * HTML: value attributes, groups in sibling elements ("<span>4242</span><span>4242</span>", table cells),
    "<br>" between groups, numeric character references for every digit, comments between groups.
  * JSON arrays: integers, strings, single digits, pretty-printed over lines, nested, Python reprs.
Second batch (same list, further behaviours)
  * Transcript exports with the label on its own line and the text below ("Speaker 1  0:03" / text / blank
    line, as meeting-notes tools export), labels "Speaker A", "CSR", "Cardholder", "**Agent:**", "Caller -",
    and a timestamp at the start of the text ("Caller: [00:01:23] four two").
  * JSON transcripts: Python reprs in logs ({'role': 'user', 'content': ...}), utterances that repeat their
    text as a word list ({"speaker": "A", "text": ..., "words": [{"text": "four", ...}]}), several renderings of
    one result ({"Lexical": "four two", "ITN": "42", "Display": "42."}), content parts
    ({"role": "user", "content": [{"type": "input_text", "text": ...}]}), JSON lines.
  * Arrays of objects ([{"group": "4242"}, ...]) and set literals ({4242, 4242, ...}).
  * Digits said one by one in groups with commas ("4 2 4 2, 4 2 4 2, ...").
  * HTML: a card over several inputs (<input name="cc1" value="4242" maxlength="4">), classes with digits, a
    card in a table row next to cells of other numbers (row number, expiry, CVV, amount, date).
  * Unicode: CJK digits (〇一二三四五六七八九), Arabic-Indic digits with Arabic separators, middle dots and
    bullets between groups, vertical tab, form feed, NEL, long runs of spaces.
  * Repeats said with "one more time", "say that again", "to confirm", "so that's"; elongated hesitations.
Third batch
  * A caller who loses their place and starts again ("four two four two four two, sorry, let me start again,
    four two four two ..."); an agent who reads back a group in the same line ("so that's four two four two").
  * Turn lists keyed by role ({"caller": "four two"}, {"agent": "okay"}) and text keys such as "utterance_text",
    "transcription", "speech"; labels of several words ("Customer Service:", "Virtual Assistant:").
  * Values of HTML attributes written as character references (value="&#52;&#50;...").
  * Cards among other numbers in an array ([3, "4242", "4242", "4242", "4242", 2025]).
  * Invisible characters between groups: ASCII unit/record separators, Hangul fillers, the Braille blank.
Fourth batch
  * Streaming recognisers log interim results before the final one: each a growing prefix of what the caller
    said ("[interim] four two four", "[interim] four two four two five", "[final] ..."), as lines or as JSON
    events ({"is_final": false, "channel": {"alternatives": [{"transcript": ...}]}}).
Fifth batch
  * Transcripts as CSV ("00:01:23,Caller,four two four two") or as a markdown table ("| 00:01 | Caller |
    four two |"), labels ended by " - ", ">" or "|", XML-ish turn tags ("<Caller>four two</Caller>"), a role in
    brackets after a diarised label ("Speaker 1 [Agent]:"), turn lists as pairs ([["caller", "four two"], ...]).
  * Sounds in brackets between groups: "[long pause]", "[sighs]", "[clears throat]", "[static]", "[beep]".
  * Keycap digits (4️⃣2️⃣), digits with combining marks (4̲2̲), NUL and other control characters between groups,
    dingbat circled digits (❹❷), and a card hidden in Unicode tag characters (invisible ASCII).
Sixth batch
  * Call-centre shorthand: single-letter speakers at a line start ("C: four two", "A: okay"); an emoji before
    a label ("🧑 Caller:"); 12-hour times ("[10:23 AM] Caller:") and a date before the time ("2025-01-01
    10:23:45 Caller:", "01/02/2025 10:23 Agent:").
Seventh batch
  * A label followed by its time and the text on one line ("Speaker 1  0:03  four two"), names glued to roles
    ("AGENT_SMITH:", "caller_1:"), numbered transcript lines ("12 Caller: four two", "12. Caller:"), Q&A
    shorthand ("Q:", "A:").
Eighth batch (third round: probes of speech and log behaviours written before measuring them)
  * Speaker labels not where labels usually go: in a line's prefix after a time or a log level ("(12.3s) Caller:",
    "2025-11-29T10:00:01Z INFO caller:"), as log fields ("speaker=caller text=..."), with an id or a phone number
    ("Customer (ID 48213):"), abbreviated ("S1:", "Cust.:", "Agt.:"), with no colon in a dialogue ("CALLER four
    two", "(caller) four two", "C> four two"), and people's names of several words ("John Smith:", "Mr. Jones:").
  * JSON transcripts of voice platforms: the speaker after the text and a channel number before it (Deepgram
    utterances), "participantPurpose" (Genesys), event types that name the role (LiveKit), ConversationRelay's
    "voicePrompt"; a one-line JSON transcript whose speech is all digits.
  * Repeats: a group said twice with no pause (a caller losing their place, a streaming recogniser stitching a
    segment twice), the whole number said twice in one turn, a restart with no marker, digit groups written twice
    ("3435 3435 2947 2947"), an agent reading back one digit wrong and the caller correcting that group.
  * Asides between groups ("let me just grab my card", "can you hear me?", "it says", "the next four are") and
    caller turns that open with a lead-in ("then ...", "and it ends with ..."); agent prompts of more kinds
    ("Take your time.", "Noted.", "What's the second group?").
  * A card on its own line above its expiry and CVV lines; a card as one field of a longer run ("#30621<tab>4242
    .../2025-07-22").
Ninth batch (fourth round; written after an audit of the evaluation corpus's labels, which said its repeats
format restarts a group; no missed evaluation sample was looked at)
  * Repetition repairs, the commonest disfluency (reparandum, interregnum, repair: Shriberg, "Preliminaries to a
    Theory of Speech Disfluencies", 1994): a group begun, a hesitation or an editing term ("uh", "- um -",
    "hang on", "I mean", "sorry"), then the group said from its start in full ("4128, 657 - um - 6570, ...",
    "six five, uh, six five seven zero"), in digits, in words, or begun in one and said again in the other;
    the first group too ("4, uh, 4128 ...").
  * More repairs, from the same description: the begun digits and the full group in different renderings
    ("sixty-five, um, six five seven zero", "six five, uh, 6570"); a longer editing phrase ("sorry, let me look
    again", "hold on, I can't read it", "no - "); the begun digits at the end of one caller turn and the group
    again in the next, after an agent back-channel; a hesitation inside the begun digits ("six five, uh, seven,
    um, six five seven zero"); a cut-off word ("six f- six five seven zero"); a restart from the group before
    ("7049 99, uh, 7049 9963"); two restarts in one card; a restart inside a JSON transcript's turn text.
Decoys (must stay unflagged): phone numbers, order numbers and amounts read out in transcripts with
read-backs; subtitles and word-level JSON without a card; form bodies and HTML tables of ordinary numbers;
(eighth batch) a phone number said twice, two people's numbers across an agent question for another item, a
number dictated with an IVR option, an order number listed before a phone number, ids on consecutive log lines.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from benchmarks.redaction_corpus import (
    DIGIT_WORDS,
    MONTHS,
    TENS_WORDS,
    Sample,
    _Builder,
    _groups,
    _pairs_words,
    _rand_digits,
    _split,
    _two_words,
    add_items,
    spoken_digits,
)

# (caller label, agent label); None: a diarised transcript that does not say who is who.
LABEL_PAIRS: list[tuple[str, str]] = [
    ("Caller", "Agent"),
    ("Customer", "Agent"),
    ("CUSTOMER", "AGENT"),
    ("User", "Assistant"),
    ("user", "bot"),
    ("Human", "AI"),
    ("Cust", "Rep"),
    ("spk_1", "spk_0"),
    ("Speaker 2", "Speaker 1"),
    ("SPEAKER_01", "SPEAKER_00"),
]
TENS = frozenset(TENS_WORDS[2:])
HESITATIONS = ["uh", "um", "erm", "hmm", "...", "--", "[pause]", "%HESITATION", "[inaudible]",
               "you know", "hang on", "bear with me", "one sec", "let me check", "where was I", "uhh", "umm"]  # fmt: skip
AGENT_PROMPTS = ["Okay.", "Mm-hmm.", "Got it, and the next four?", "Go on.", "Yes.", "Okay, one moment.",
                 "Thank you, and then?", "Uh-huh, keep going.", "Right, the next four digits please."]  # fmt: skip


def say(rng: random.Random, digits: str) -> str:
    """One digit group as a caller says it and a recogniser writes it: digits, words, pairs, hundreds."""
    style = rng.random()
    if style < 0.2:
        return digits
    if style < 0.55:
        return " ".join(spoken_digits(rng, digits, fancy=rng.random() < 0.5))
    if style < 0.85:
        return _pairs_words(rng, digits)
    # hundreds where they fit ("four hundred twenty four"), words for the rest
    if len(digits) >= 3 and digits[0] != "0":
        head = f"{DIGIT_WORDS[int(digits[0])]} hundred"
        rest = digits[1:3]
        if rest != "00":
            head += " " + ("oh " + DIGIT_WORDS[int(rest[1])] if rest[0] == "0" else _two_words(int(rest)))
        tail = digits[3:]
        return head + ((" " + " ".join(spoken_digits(rng, tail, fancy=False))) if tail else "")
    return " ".join(spoken_digits(rng, digits, fancy=False))


def _label(rng: random.Random, who: str, ts: int) -> str:
    form = rng.random()
    mm, ss = divmod(ts, 60)
    if form < 0.5:
        return f"{who}: "
    if form < 0.7:
        return f"[00:{mm:02d}:{ss:02d}] {who}: "
    if form < 0.85:
        return f"00:{mm:02d}:{ss:02d}.{rng.randint(0, 999):03d} {who}: "
    return f"{who} ({mm:02d}:{ss:02d}): "


def _turns(rng: random.Random, pan: str, b: _Builder, one_line: bool, echo: bool) -> None:
    caller, agent = rng.choice(LABEL_PAIRS)
    sep = " " if one_line else "\n"
    ts = rng.randint(5, 200)
    b.add(_label(rng, agent, ts) + "Can I have the card number, please?" + sep)
    parts = _groups(pan) if rng.random() < 0.6 else _split(rng, pan, rng.randint(2, 4))
    for k, part in enumerate(parts):
        ts += rng.randint(1, 6)
        b.add(_label(rng, caller, ts) + rng.choice(["", "uh ", "okay, ", "it's "]))
        b.add(say(rng, part), "pan")
        b.add(rng.choice(["", ".", ","]) + sep)
        if k < len(parts) - 1:
            ts += rng.randint(1, 4)
            b.add(_label(rng, agent, ts))
            if echo:
                b.add(rng.choice(["", "Okay, ", "So "]))
                b.add(say(rng, part), "pan")
                b.add(rng.choice([", got it.", ". And the next four?", ", yes.", "."]) + sep)
            else:
                b.add(rng.choice(AGENT_PROMPTS) + sep)
    ts += rng.randint(1, 4)
    if echo and rng.random() < 0.5:
        b.add(_label(rng, agent, ts) + "So that's ")
        b.add(" ".join(_groups(pan)), "pan")
        b.add(", correct?" + sep + _label(rng, caller, ts + 3) + "Yes.")
    else:
        b.add(_label(rng, agent, ts) + "Thank you.")


def _subtitles(rng: random.Random, pan: str, b: _Builder) -> None:
    vtt = rng.random() < 0.5
    if vtt:
        b.add("WEBVTT\n\n")
    t = rng.randint(10, 300)
    parts = _groups(pan) if rng.random() < 0.5 else _split(rng, pan, rng.randint(2, 4))
    cues: list[tuple[str, str | None]] = [("Agent", "What's the card number?")]
    cues += [("Caller", None) for _ in parts]
    cues.append(("Agent", "Thanks, and the expiry?"))
    piece = 0
    for n, (who, line) in enumerate(cues, 1):
        start, end = t, t + rng.randint(1, 4)
        t = end + rng.randint(0, 2)
        ms1, ms2 = rng.randint(0, 999), rng.randint(0, 999)
        sep = "." if vtt else ","
        b.add(f"{n}\n00:{start // 60:02d}:{start % 60:02d}{sep}{ms1:03d} --> 00:{end // 60:02d}:{end % 60:02d}{sep}{ms2:03d}\n")
        prefix = f"<v {who}>" if vtt and rng.random() < 0.6 else (f"{who.upper()}: " if rng.random() < 0.4 else "")
        b.add(prefix)
        if line is None:
            b.add(say(rng, parts[piece]), "pan")
            piece += 1
        else:
            b.add(line)
        b.add("\n\n")


def _caller_repeats(rng: random.Random, pan: str, b: _Builder) -> None:
    b.add(rng.choice(["Caller: okay so it's ", "Customer: yeah it's ", "User: my card number is "]))
    groups = _groups(pan)
    for k, g in enumerate(groups):
        spoken = say(rng, g)
        b.add(spoken, "pan")
        if rng.random() < 0.5:
            b.add(rng.choice([", ", " ", "... ", ", yes, ", ", I'll repeat that, ", ", again, ", ", one more time, ",
                              ", say that again, ", ", to confirm, ", ", so that's ", ", correct, ", "... ummm... "]))
            b.add(spoken if rng.random() < 0.5 else say(rng, g), "pan")
        if k < len(groups) - 1:
            b.add(rng.choice([", ", " ", ", um, ", "... "]))
    b.add(rng.choice([".", ", got that?", ""]))


def _json_turns(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.choice(["chat", "turns", "segments"])
    parts = _groups(pan) if rng.random() < 0.5 else _split(rng, pan, rng.randint(2, 4))
    if shape == "chat":
        caller_obj = lambda text: {"role": "user", "content": text}  # noqa: E731
        agent_obj = lambda text: {"role": "assistant", "content": text}  # noqa: E731
    elif shape == "turns":
        caller_obj = lambda text: {"speaker": "customer", "text": text, "ts": round(rng.uniform(1, 300), 2)}  # noqa: E731
        agent_obj = lambda text: {"speaker": "agent", "text": text, "ts": round(rng.uniform(1, 300), 2)}  # noqa: E731
    else:
        caller_obj = lambda text: {  # noqa: E731
            "ParticipantId": "CUSTOMER", "Id": _rand_digits(rng, 8), "Content": text,
            "BeginOffsetMillis": rng.randint(1000, 90000), "EndOffsetMillis": rng.randint(90000, 200000),
        }  # fmt: skip
        agent_obj = lambda text: {  # noqa: E731
            "ParticipantId": "AGENT", "Id": _rand_digits(rng, 8), "Content": text,
            "BeginOffsetMillis": rng.randint(1000, 90000), "EndOffsetMillis": rng.randint(90000, 200000),
        }  # fmt: skip
    marker = "@@CARD{}@@"
    items: list[dict[str, object]] = [agent_obj("Can I take the card number?")]
    for k, _part in enumerate(parts):
        items.append(caller_obj(marker.format(k)))
        if k < len(parts) - 1:
            items.append(agent_obj(rng.choice(AGENT_PROMPTS)))
    pretty = rng.random() < 0.3
    body = json.dumps({"call_id": "CA" + _rand_digits(rng, 10), "transcript": items}, indent=2 if pretty else None)
    escaped = not pretty and rng.random() < 0.3
    b.add("2025-03-02T10:11:12Z INFO voice.agent transcript=" + ('"' if escaped else ""))
    pieces = body.split("@@")
    for piece in pieces:
        if piece.startswith("CARD") and piece[4:].isdigit():
            b.add(say(rng, parts[int(piece[4:])]), "pan")
        else:
            b.add(json.dumps(piece)[1:-1] if escaped else piece)
    b.add(('"' if escaped else "") + " turns=" + str(len(items)))


def _asr_words(rng: random.Random, pan: str, b: _Builder) -> None:
    words = ["my", "card", "number", "is"] + [w for g in _groups(pan) for w in say(rng, g).split()] + ["thanks"]
    first_card = 4
    last_card = len(words) - 2
    aws = rng.random() < 0.4
    t = rng.uniform(0, 60)
    b.add('{"results": {"items": [' if aws else '{"channel": {"alternatives": [{"words": [')
    for k, w in enumerate(words):
        start, end = t, t + rng.uniform(0.1, 0.5)
        t = end + rng.uniform(0, 0.3)
        kind = "pan" if first_card <= k <= last_card else None
        if aws:
            b.add(f'{{"start_time": "{start:.2f}", "end_time": "{end:.2f}", "alternatives": [{{"confidence": '
                  f'"{rng.uniform(0.6, 1):.4f}", "content": "')  # fmt: skip
            b.add(w, kind)
            b.add('"}], "type": "pronunciation"}')
        else:
            b.add('{"word": "')
            b.add(w, kind)
            b.add(f'", "start": {start:.3f}, "end": {end:.3f}, "confidence": {rng.uniform(0.6, 1):.6f}}}')
        if k < len(words) - 1:
            b.add(", ")
    b.add("]}}" if aws else "]}]}}")


def _hesitant(rng: random.Random, pan: str, b: _Builder) -> None:
    b.add(rng.choice(["Caller: ", "Customer: ", "", "User: "]) + rng.choice(["okay so it's ", "my card is ", "um "]))
    words = [w for g in _groups(pan) for w in ([*say(rng, g).split(), "|"])][:-1]
    out: list[str] = []
    for k, w in enumerate(words):
        if w == "|":
            out.append(rng.choice([" ", ", ", f", {rng.choice(HESITATIONS)}, ", f" {rng.choice(HESITATIONS)} "]))
            continue
        if w.isalpha() and w != "hundred" and rng.random() < 0.08:
            out.append(f"{w[0]}- ")  # a cut-off start ("f- four")
        elif w.isalpha() and w not in ("hundred", "double", "triple") and rng.random() < 0.06:
            out.append(f"{w} ")  # a stutter: the word said twice ("four four two")
        out.append(w)
        if k < len(words) - 1 and words[k + 1] != "|":
            # between phrases, not inside one ("four hundred", "double three", "sixty-three")
            inside = words[k + 1] == "hundred" or w in ("double", "triple", "hundred") or w.rstrip("y") + "y" in TENS
            out.append(f" {rng.choice(HESITATIONS)} " if rng.random() < 0.12 and not inside else " ")
    b.add("".join(out), "pan")
    b.add(rng.choice([".", ", sorry.", ""]))


def _phone_shaped(rng: random.Random, pan: str, b: _Builder) -> None:
    b.add(rng.choice(["Caller: yeah it's ", "Customer: ", "transcript: my card number is ", ""]))
    d = pan
    shape = rng.randrange(4)
    if shape == 0:
        text = f"({d[:3]}) {d[3:6]}-{d[6:10]} {d[10:]}"
    elif shape == 1:
        text = "-".join([d[:3], d[3:6], d[6:10], d[10:]])
    elif shape == 2:
        text = ".".join([d[:3], d[3:6], d[6:10], d[10:]])
    else:
        text = f"{d[:3]}-{d[3:6]}-{d[6:10]}, {d[10:]}"
    b.add(text, "pan")
    b.add(rng.choice([".", " thank you", ""]))


def _digit_stream(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(4)
    if shape == 3:
        caller = rng.choice(["Caller", "spk_1", "Customer"])
        for c in pan:
            b.add(f"{caller}: ")
            b.add(c, "pan")
            b.add("\n")
        b.add("Agent: thank you")
        return
    b.add(rng.choice(["Caller: ", "Customer: it's ", "my card number is "]))
    sep = [" ", ", ", ". "][shape]
    b.add(sep.join(pan), "pan")
    b.add(rng.choice([".", "", " okay"]))


def _form_body(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(4)
    exp = f"exp_month={rng.randint(1, 12)}&exp_year={rng.randint(2026, 2034)}"
    if shape == 0:
        b.add(rng.choice(["card_number=", "cardnumber=", "cc-number=", "number="]))
        b.add(rng.choice(["+", "%20", "-"]).join(_groups(pan)), "pan")
        b.add(f"&{exp}&amount=1200")
    elif shape == 1:
        b.add("amount=1200&currency=usd&card%5Bnumber%5D=")
        b.add(rng.choice([pan, "+".join(_groups(pan))]), "pan")
        b.add("&card%5Bexp_month%5D=12&card%5Bexp_year%5D=2030")
    elif shape == 2:
        parts = _groups(pan)
        stem = rng.choice(["cc", "card_part", "pan", "ccnum"])
        for k, part in enumerate(parts):
            b.add(("&" if k else "") + f"{stem}{k + 1}=")
            b.add(part, "pan")
        b.add(f"&{exp}&zip=94107")
    else:
        boundary = "-" * 27 + _rand_digits(rng, 28)
        b.add(f"--{boundary}\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n1200\r\n")
        b.add(f"--{boundary}\r\nContent-Disposition: form-data; name=\"card_number\"\r\n\r\n")
        b.add(rng.choice([pan, " ".join(_groups(pan))]), "pan")
        b.add(f"\r\n--{boundary}--\r\n")


def _html(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(5)
    groups = _groups(pan)
    if shape == 0:
        b.add('<input type="text" name="cardnumber" value="')
        b.add(" ".join(groups), "pan")
        b.add('" autocomplete="cc-number">')
    elif shape == 1:
        tag = rng.choice(["span", "td", "div", "b"])
        b.add('<div class="card">')
        for g in groups:
            b.add(f'<{tag} class="grp">')
            b.add(g, "pan")
            b.add(f"</{tag}>")
        b.add("</div>")
    elif shape == 2:
        b.add("<p>Card: ")
        for k, g in enumerate(groups):
            b.add(g, "pan")
            if k < len(groups) - 1:
                b.add(rng.choice(["<br>", "<br/>", "<wbr>", "<!-- -->", " <br />\n"]))
        b.add("</p>")
    elif shape == 3:
        b.add("<td>")
        b.add("".join(f"&#{ord(c)};" for c in pan) if rng.random() < 0.5 else "".join(f"&#x{ord(c):x};" for c in pan), "pan")
        b.add("</td>")
    else:
        b.add("<li>Card number: <strong>")
        b.add("&nbsp;".join(groups), "pan")
        b.add("</strong></li>")


def _json_arrays(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(5)
    parts = _groups(pan)
    b.add("2025-01-01T00:00:00Z DEBUG payload=")
    if shape == 0:  # pretty-printed strings
        b.add('{\n  "card": [\n')
        add_items(b, parts, '    "', '"', sep=",\n")
        b.add("\n  ]\n}")
    elif shape == 1:  # integers
        b.add('{"pan_groups": [')
        for k, p in enumerate(parts):
            b.add(p, "pan")
            b.add(", " if k < len(parts) - 1 else "")
        b.add("]}")
    elif shape == 2:  # one digit per item
        b.add('{"digits": [')
        for k, c in enumerate(pan):
            quote = '"' if rng.random() < 0.5 else ""
            b.add(quote)
            b.add(c, "pan")
            b.add(quote + (", " if k < len(pan) - 1 else ""))
        b.add("]}")
    elif shape == 3:  # Python repr
        opening = "(" if rng.random() < 0.5 else "["
        b.add("card_parts=" + opening)
        for k, p in enumerate(parts):
            b.add("'")
            b.add(p, "pan")
            b.add("'" + (", " if k < len(parts) - 1 else ""))
        b.add(")" if opening == "(" else "]")
    else:  # nested
        b.add('{"card": {"groups": [[')
        for k, p in enumerate(parts):
            b.add('"')
            b.add(p, "pan")
            b.add('"' + ("], [" if k < len(parts) - 1 else ""))
        b.add("]]}}")


def _turns_exported(rng: random.Random, pan: str, b: _Builder) -> None:
    caller, agent = rng.choice([("Speaker 2", "Speaker 1"), ("Customer", "Agent"), ("Caller", "CSR"),
                                ("Cardholder", "Agent"), ("Speaker B", "Speaker A")])  # fmt: skip
    style = rng.randrange(3)
    t = rng.randint(1, 50)

    def head(who: str) -> str:
        nonlocal t
        t += rng.randint(1, 5)
        if style == 0:
            return f"{who}  {t // 60}:{t % 60:02d}\n"
        if style == 1:
            return f"**{who}:** "
        return f"{who}: [00:{t // 60:02d}:{t % 60:02d}] "

    b.add(head(agent) + "What's the card number?" + ("\n\n" if style == 0 else "\n"))
    parts = _groups(pan)
    for k, part in enumerate(parts):
        b.add(head(caller))
        b.add(say(rng, part), "pan")
        b.add("\n\n" if style == 0 else "\n")
        if k < len(parts) - 1 and rng.random() < 0.6:
            b.add(head(agent) + rng.choice(AGENT_PROMPTS) + ("\n\n" if style == 0 else "\n"))
    b.add(head(agent) + "Thank you.")


def _json_turns2(rng: random.Random, pan: str, b: _Builder) -> None:
    parts = _groups(pan)
    shape = rng.randrange(5)
    b.add("2025-03-02T10:11:12Z INFO ")
    if shape == 0:  # Python repr
        b.add("messages=[{'role': 'assistant', 'content': 'Card number please?'}, ")
        add_items(b, [say(rng, p) for p in parts], "{'role': 'user', 'content': '", "'}")
        b.add("]")
    elif shape == 1:  # utterances with their words
        b.add('{"utterances": [')
        for k, part in enumerate(parts):
            spoken = say(rng, part)
            b.add(('' if k == 0 else ', ') + '{"speaker": "B", "text": "')
            b.add(spoken, "pan")
            b.add(f'", "start": {rng.randint(1000, 90000)}, "words": [')
            for j, w in enumerate(spoken.split()):
                b.add(('' if j == 0 else ', ') + '{"text": "')
                b.add(w, "pan")
                b.add(f'", "start": {rng.randint(1000, 90000)}, "speaker": "B"}}')
            b.add("]}")
        b.add("]}")
    elif shape == 2:  # several renderings of one result
        for part in parts:
            spoken = say(rng, part)
            b.add('{"RecognitionStatus": "Success", "NBest": [{"Confidence": 0.93, "Lexical": "')
            b.add(spoken, "pan")
            b.add('", "ITN": "')
            b.add(part, "pan")
            b.add('", "Display": "')
            b.add(part, "pan")
            b.add('."}]}\n')
    elif shape == 3:  # content parts
        b.add('[{"role": "assistant", "content": [{"type": "text", "text": "Card number?"}]}, ')
        add_items(b, [say(rng, p) for p in parts], '{"role": "user", "content": [{"type": "input_text", "text": "', '"}]}')
        b.add("]")
    else:  # JSON lines
        for part in parts:
            b.add('{"channel": "caller", "transcript": "')
            b.add(say(rng, part), "pan")
            b.add(f'", "ts": {rng.randint(1, 9999)}}}\n')
            if rng.random() < 0.5:
                b.add('{"channel": "agent", "transcript": "okay", "ts": 12}\n')


def _arrays2(rng: random.Random, pan: str, b: _Builder) -> None:
    parts = _groups(pan)
    if rng.random() < 0.5:
        b.add('{"groups": [')
        for k, p in enumerate(parts):
            b.add(('' if k == 0 else ', ') + '{"group": "')
            b.add(p, "pan")
            b.add('"}')
        b.add("]}")
    else:
        b.add("card_groups={")
        for k, p in enumerate(parts):
            b.add(p, "pan")
            b.add(", " if k < len(parts) - 1 else "")
        b.add("}")


def _spelled_groups(rng: random.Random, pan: str, b: _Builder) -> None:
    b.add(rng.choice(["Caller: ", "my card number is ", "transcript: "]))
    b.add(rng.choice([", ", ". ", " - "]).join(" ".join(g) for g in _groups(pan)), "pan")
    b.add(rng.choice([".", " thanks", ""]))


def _html_rows(rng: random.Random, pan: str, b: _Builder) -> None:
    """A card in a row of other values: expiry, CVV, amount, date, a row number."""
    groups = _groups(pan)
    cells = [f"{rng.randint(1, 12):02d}/{rng.randint(26, 34)}", f"{rng.randint(100, 999)}",
             f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}", f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"]  # fmt: skip
    tag = rng.choice(["td", "li", "dd", "span"])
    b.add(f"<tr><{tag}>{rng.randint(1, 99)}</{tag}><{tag}>")
    b.add(rng.choice([pan, " ".join(groups), "&nbsp;".join(groups)]), "pan")
    b.add(f"</{tag}>" + "".join(f"<{tag}>{c}</{tag}>" for c in rng.sample(cells, rng.randint(1, 3))) + "</tr>")


def _html_inputs(rng: random.Random, pan: str, b: _Builder) -> None:
    parts = _groups(pan)
    if rng.random() < 0.6:
        b.add('<form action="/pay" method="post">')
        for k, p in enumerate(parts):
            b.add(f'<input type="text" name="cc{k + 1}" value="')
            b.add(p, "pan")
            b.add(f'" maxlength="{len(p)}" size="4">' + rng.choice(["", " - ", "<span>-</span>"]))
        b.add("</form>")
    else:
        b.add('<div class="card-row-1">')
        for k, p in enumerate(parts):
            b.add(f'<span class="grp-{k + 1}">')
            b.add(p, "pan")
            b.add("</span>")
        b.add("</div>")


_CJK = "〇一二三四五六七八九"


def _unicode_more(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(4)
    groups = _groups(pan)
    if shape == 0:
        b.add("卡号：")
        b.add(rng.choice(["", " "]).join("".join(_CJK[int(c)] for c in g) for g in groups), "pan")
        b.add("。")
    elif shape == 1:
        b.add("رقم البطاقة ")
        b.add(rng.choice(["\u066c", "\u066b", "\u060c"]).join("".join(chr(0x0660 + int(c)) for c in g) for g in groups), "pan")
    elif shape == 2:
        b.add("card ")
        b.add(rng.choice(["\u00b7", "\u2022", "\u30fb", "\u2027", " \u00b7 "]).join(groups), "pan")
        b.add(" ok")
    else:
        b.add("card ")
        b.add(rng.choice(["\v", "\f", "\u0085", " " * rng.randint(9, 14), "\t\t\t"]).join(groups), "pan")
        b.add(" ok")


def _restart(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    b.add(rng.choice(["Caller: ", "Customer: okay, ", ""]) + "it's ")
    cut = rng.randint(1, len(groups) - 1)
    b.add(" ".join(say(rng, g) for g in groups[:cut]), "pan")
    b.add(rng.choice([", sorry, let me start again, ", "... wait, I lost my place. From the top: ", ", no, start over, ",
                      ", hmm, let me try again, "]))  # fmt: skip
    b.add(", ".join(say(rng, g) for g in groups), "pan")
    b.add(rng.choice([".", ", got it?", ""]))


def _role_keys(rng: random.Random, pan: str, b: _Builder) -> None:
    parts = _groups(pan)
    caller = rng.choice(["caller", "customer", "user"])
    key = rng.choice(["utterance_text", "transcription", "speech"])
    b.add("2025-03-02T10:11:12Z INFO dialog=")
    if rng.random() < 0.5:
        b.add('[{"agent": "Card number please?"}')
        for part in parts:
            b.add(f', {{"{caller}": "')
            b.add(say(rng, part), "pan")
            b.add('"}')
        b.add("]")
    else:
        b.add(f'[{{"who": "agent", "{key}": "Card number please?"}}')
        for part in parts:
            b.add(f', {{"who": "{caller}", "{key}": "')
            b.add(say(rng, part), "pan")
            b.add('"}')
        b.add("]")


def _labels_long(rng: random.Random, pan: str, b: _Builder) -> None:
    caller, agent = rng.choice([("Customer", "Customer Service"), ("Caller", "Virtual Assistant"),
                                ("Card Holder", "Support Agent")])  # fmt: skip
    b.add(f"{agent}: What's the card number?\n")
    for part in _groups(pan):
        b.add(f"{caller}: ")
        b.add(say(rng, part), "pan")
        b.add("\n")
        if rng.random() < 0.5:
            b.add(f"{agent}: " + rng.choice(AGENT_PROMPTS) + "\n")
    b.add(f"{agent}: Thank you.")


def _odd_mix(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    shape = rng.randrange(3)
    if shape == 0:
        b.add('<input name="card" value="')
        b.add("".join(f"&#{ord(c)};" for c in pan), "pan")
        b.add('">')
    elif shape == 1:
        b.add("items=[" + str(rng.randint(1, 9)) + ", ")
        for g in groups:
            b.add('"')
            b.add(g, "pan")
            b.add('", ')
        b.add(str(rng.randint(2024, 2030)) + "]")
    else:
        b.add("card ")
        b.add(rng.choice(["\x1f", "\x1e", "\u3164", "\u2800", "\uffa0"]).join(groups), "pan")
        b.add(" ok")


def _interim(rng: random.Random, pan: str, b: _Builder) -> None:
    words = [w for g in _groups(pan) for w in say(rng, g).split()]
    cuts = sorted(rng.sample(range(2, len(words)), min(len(words) - 2, rng.randint(2, 5))))
    as_json = rng.random() < 0.5
    t = rng.uniform(1, 60)
    for cut in [*cuts, len(words)]:
        final = cut == len(words)
        t += rng.uniform(0.2, 1.5)
        if as_json:
            b.add(f'{{"type": "Results", "start": {t:.2f}, "is_final": {"true" if final else "false"}, '
                  '"channel": {"alternatives": [{"transcript": "')  # fmt: skip
            b.add(" ".join(words[:cut]), "pan")
            b.add(f'", "confidence": {rng.uniform(0.5, 1):.3f}}}]}}}}\n')
        else:
            b.add(f"{t:08.3f} [{'final' if final else 'interim'}] ")
            b.add(" ".join(words[:cut]), "pan")
            b.add("\n")


def _turns_tabular(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(5)
    parts = _groups(pan)
    t = rng.randint(1, 50)
    for k, part in enumerate(parts):
        t += rng.randint(1, 4)
        clock = f"00:{t // 60:02d}:{t % 60:02d}"
        if shape == 0:
            b.add(f"{clock},Caller,")
        elif shape == 1:
            b.add(f"| {clock} | Caller | ")
        elif shape == 2:
            b.add(rng.choice(["Caller - ", "CALLER > ", "Caller | "]))
        elif shape == 3:
            b.add("<Caller>")
        else:
            b.add("Speaker 2 [Customer]: ")
        b.add(say(rng, part), "pan")
        b.add([" \n", " |\n", "\n", "</Caller>\n", "\n"][shape])
        if k < len(parts) - 1:
            prompt = rng.choice(AGENT_PROMPTS)
            b.add([f"{clock},Agent,{prompt}\n", f"| {clock} | Agent | {prompt} |\n", f"Agent - {prompt}\n",
                   f"<Agent>{prompt}</Agent>\n", f"Speaker 1 [Agent]: {prompt}\n"][shape])  # fmt: skip
    if rng.random() < 0.5:
        b.add('turns=[["agent", "Card number?"]')
        for part in parts:
            b.add(', ["caller", "')
            b.add(say(rng, part), "pan")
            b.add('"]')
        b.add("]")


def _sounds_and_marks(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    shape = rng.randrange(5)
    if shape == 0:
        b.add("Caller: ")
        for k, g in enumerate(groups):
            b.add(say(rng, g), "pan")
            if k < len(groups) - 1:
                b.add(" " + rng.choice(["[long pause]", "[sighs]", "[clears throat]", "[static]", "[beep]",
                                        "(long pause)", "[breathing]"]) + " ")  # fmt: skip
    elif shape == 1:
        b.add("card ")
        mark = rng.choice(["\ufe0f\u20e3", "\u0332", "\u0301", "\u20e3"])
        b.add(rng.choice([" ", ""]).join("".join(c + mark for c in g) for g in groups), "pan")
    elif shape == 2:
        b.add("card ")
        b.add(rng.choice(["\x00", "\x07", "\x1b", "\x7f", "\x01"]).join(groups), "pan")
        b.add(" ok")
    elif shape == 3:
        b.add("card ")
        base = rng.choice([0x2775, 0x277F, 0x2789])  # dingbat negative circled, circled sans-serif (1-9; 0 apart)
        b.add(" ".join("".join(chr(base + int(c)) if c != "0" else "0" for c in g) for g in groups), "pan")
    else:
        b.add("note")
        b.add("".join(chr(0xE0000 + ord(c)) for c in " ".join(groups)), "pan")  # tag characters: invisible ASCII
        b.add(" end")


def _turns_shorthand(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(4)
    t = rng.randint(0, 50)

    def head(who: str) -> str:
        nonlocal t
        t += rng.randint(1, 5)
        h, mm = 9 + t // 60, t % 60
        if shape == 0:
            return {"Caller": "C", "Agent": "A"}[who] + ": "
        if shape == 1:
            return {"Caller": "🧑 Caller", "Agent": "🎧 Agent"}[who] + ": "
        if shape == 2:
            return f"[{h}:{mm:02d} {rng.choice(['AM', 'PM'])}] {who}: "
        return rng.choice([f"2025-03-0{rng.randint(1, 9)} {h:02d}:{mm:02d}:{rng.randint(0, 59):02d} ",
                           f"03/0{rng.randint(1, 9)}/2025 {h}:{mm:02d} "]) + f"{who}: "  # fmt: skip

    b.add(head("Agent") + "Can I have the card number?\n")
    parts = _groups(pan)
    for k, part in enumerate(parts):
        b.add(head("Caller"))
        b.add(say(rng, part), "pan")
        b.add("\n")
        if k < len(parts) - 1 and rng.random() < 0.6:
            b.add(head("Agent") + rng.choice(AGENT_PROMPTS) + "\n")
    b.add(head("Agent") + "Thanks.")


def _turns_more_labels(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(4)
    line = rng.randint(1, 40)
    t = rng.randint(0, 50)

    def head(caller: bool) -> str:
        nonlocal line, t
        line += 1
        t += rng.randint(1, 5)
        if shape == 0:
            return ("Speaker 2" if caller else "Speaker 1") + f"  {t // 60}:{t % 60:02d}  "
        if shape == 1:
            return ("caller_1" if caller else "AGENT_SMITH") + ": "
        if shape == 2:
            return f"{line}{rng.choice(['', '.'])} " + ("Caller" if caller else "Agent") + ": "
        return ("A" if caller else "Q") + ": "

    b.add(head(False) + "What's the card number?\n")
    parts = _groups(pan)
    for k, part in enumerate(parts):
        b.add(head(True))
        b.add(say(rng, part), "pan")
        b.add("\n")
        if k < len(parts) - 1 and rng.random() < 0.6:
            b.add(head(False) + rng.choice(AGENT_PROMPTS) + "\n")
    b.add(head(False) + "Thanks.")


# --- eighth batch ---------------------------------------------------------------------------------------------

LOOSE_LABELS: list[tuple[str, str]] = [
    ("(12.3s) Caller:", "(14.1s) Agent:"),
    ("2025-11-29T10:00:01Z INFO caller:", "2025-11-29T10:00:03Z INFO agent:"),
    ("2025-11-29 10:00:01,123 INFO [call CA9f] speaker=caller text=", "2025-11-29 10:00:03,456 INFO [call CA9f] speaker=agent text="),
    ("Customer (ID 48213):", "Agent (ID 7):"),
    ("Customer (+1 415 555 0100):", "Agent:"),
    ("S1:", "S2:"),
    ("Cust.:", "Agt.:"),
    ("CALLER", "AGENT"),
    ("(caller)", "(agent)"),
    ("C>", "A>"),
    ("Caller\t", "Agent\t"),
    ("00:12 Caller", "00:14 Agent"),
    ("John Smith:", "Agent Kelly:"),
    ("Mr. Jones:", "Operator:"),
    ("Caller, 00:12:", "Agent, 00:14:"),
]  # fmt: skip
MORE_PROMPTS = ["Take your time.", "Noted.", "Lovely.", "Thank you. What's the second group?", "Perfect, and then?",
                "Sure, whenever you're ready.", "Okay, I have that. Next group please.", "Great, what comes after that?"]  # fmt: skip
LEAD_INS = ["then ", "next is ", "the next four are ", "and then it's ", "after that it goes ", "and it ends with "]
ASIDES = ["let me just grab my card", "can you hear me?", "it says", "the next four are", "followed by",
          "sorry, my glasses", "I can't see very well,", "what was it", "after that"]  # fmt: skip


def _turns_loose(rng: random.Random, pan: str, b: _Builder) -> None:
    caller, agent = rng.choice(LOOSE_LABELS)
    b.add(f"{agent} Can I have the card number, please?\n")
    parts = _groups(pan)
    for k, part in enumerate(parts):
        b.add(f"{caller} " + (rng.choice(LEAD_INS) if k and rng.random() < 0.3 else ""))
        b.add(say(rng, part), "pan")
        b.add("\n")
        if k < len(parts) - 1:
            b.add(f"{agent} {rng.choice(AGENT_PROMPTS + MORE_PROMPTS)}\n")
    b.add(f"{agent} Thank you.")


def _json_platforms(rng: random.Random, pan: str, b: _Builder) -> None:
    shape = rng.randrange(5)

    def item(text: str, caller: bool) -> dict[str, object]:
        if shape == 0:
            return {"start": 1.2, "end": 2.3, "channel": 0, "transcript": text, "speaker": 0 if caller else 1}
        if shape == 1:
            return {"participantPurpose": "external" if caller else "internal", "phrases": [{"text": text}]}
        if shape == 2:
            return {"type": "user_input_transcribed" if caller else "agent_speech", "transcript": text}
        if shape == 3:
            return {"type": "prompt", "voicePrompt": text, "last": True} if caller else {"type": "text", "token": text}
        return {"role": "user" if caller else "assistant", "content": text}

    items: list[dict[str, object]] = [item("Can I have the card number please?", False)]
    pieces: list[str] = []
    for k, part in enumerate(_groups(pan)):
        spoken = part if shape == 4 else say(rng, part)
        pieces.append(spoken)
        items.append(item(spoken + (f" {rng.choice(ASIDES)}" if shape == 4 and k % 2 == 0 else ""), True))
        items.append(item(rng.choice(AGENT_PROMPTS), False))
    layout = rng.randrange(3)
    text = (
        json.dumps(items) if layout == 0 else json.dumps({"utterances": items}, indent=2) if layout == 1
        else "\n".join(json.dumps(it) for it in items)
    )  # fmt: skip
    pos = 0
    for piece in pieces:  # the caller's words, where JSON put them (escaping leaves digits and words alone)
        at = text.index(piece, pos)
        b.add(text[pos:at])
        b.add(piece, "pan")
        pos = at + len(piece)
    b.add(text[pos:])


def _repeats_more(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    kind = rng.randrange(5)
    b.add(rng.choice(["Caller: ", "Customer: it's ", "User: "]))
    if kind == 0:  # one group said twice, no pause
        twice = rng.randrange(len(groups))
        for k, g in enumerate(groups):
            b.add((" " if k else "") + say(rng, g), "pan")
            if k == twice:
                b.add(" ")
                b.add(" ".join(spoken_digits(rng, g, fancy=False)), "pan")
    elif kind == 1:  # the whole number twice
        b.add(" ".join(say(rng, g) for g in groups), "pan")
        b.add(rng.choice([" ", ". ", ", I'll say it again, "]))
        b.add(" ".join(say(rng, g) for g in groups), "pan")
    elif kind == 2:  # a restart with no marker
        b.add(" ".join(say(rng, g) for g in groups[:2]), "pan")
        b.add(rng.choice([" ... ", ", ", " "]))
        b.add(" ".join(say(rng, g) for g in groups), "pan")
    elif kind == 3:  # digit groups said twice
        b.add(" ".join(f"{g} {g}" for g in groups), "pan")
    else:  # a misheard read-back, then the correction
        k = rng.randrange(len(groups))
        wrong = list(groups)
        pos = rng.randrange(len(wrong[k]))
        wrong[k] = wrong[k][:pos] + str((int(wrong[k][pos]) + rng.randint(1, 9)) % 10) + wrong[k][pos + 1 :]
        b.add(" ".join(say(rng, g) for g in groups), "pan")
        b.add("\nAgent: I have ")
        b.add(", ".join(" ".join(spoken_digits(rng, g, fancy=False)) for g in wrong), "pan")
        b.add(".\nCaller: no, ")
        b.add(say(rng, groups[k]), "pan")
        b.add("\nAgent: Got it, thank you.")
        return
    b.add(rng.choice([".", ""]))


def _asides(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    b.add(rng.choice(["Caller: ", "Customer: sure, ", "User: my card number is "]))
    for k, g in enumerate(groups):
        if k:
            b.add(f" {rng.choice(ASIDES)} " if rng.random() < 0.5 else " ")
        b.add(say(rng, g), "pan")
    b.add(rng.choice([".", "", "\nAgent: Thank you."]))


def _card_block(rng: random.Random, pan: str, b: _Builder) -> None:
    sep = rng.choice([" ", "\n", "-"])
    body = sep.join(_groups(pan))
    if rng.random() < 0.5:
        b.add(rng.choice(["", "Card:\n", "Payment details\n"]))
        b.add(body, "pan")
        b.add(f"\n{rng.randint(1, 12):02d}/{rng.randint(26, 32)}\n{rng.randint(100, 999)}")
    else:
        b.add(f"#{rng.randint(10000, 99999)}\t")
        b.add(pan, "pan")
        b.add(f"/2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}/{rng.randint(1, 99)}")


def _group_restart(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    again = rng.choice([k for k, g in enumerate(groups) if len(g) > 1])
    digits = rng.random() < 0.5
    b.add(rng.choice(["Caller: ", "Customer: yeah, it's ", "User: my card number is ", "Caller: okay. "]))
    for k, g in enumerate(groups):
        if k:
            b.add(rng.choice([", ", " ", ". "]))
        if k == again:
            begun = g[: rng.randint(1, len(g) - 1)]
            first = digits if rng.random() < 0.8 else not digits
            b.add(begun if first else " ".join(spoken_digits(rng, begun, fancy=False)), "pan")
            b.add(rng.choice([", uh, ", " - um - ", "... ", ", hang on, ", ", I mean ", ", sorry, ", " uh ", ", erm, "]))
        b.add(g if digits else say(rng, g), "pan")
    b.add(rng.choice([".", "", "\nAgent: Thank you."]))


REPAIRS = [", uh, ", ", sorry, let me look again, ", ", uh, hold on, I can't read it, ", " - no - ", ", um, ",
           "... sorry, ", ", erm, I'll start that bit again, ", " uh, ", ", no, "]  # fmt: skip


def _group_restart_more(rng: random.Random, pan: str, b: _Builder) -> None:
    groups = _groups(pan)
    kind = rng.randrange(7)
    picks = [k for k, g in enumerate(groups) if len(g) > 1 and (kind != 5 or k > 0)]
    chosen = set(rng.sample(picks, 2 if kind == 6 and len(picks) > 1 else 1))
    caller = rng.choice(["Caller", "Customer", "User", "spk_1"])
    turns: list[list[tuple[str, str | None]]] = [[]]  # caller turns: (text, kind) pieces

    def add(text: str, kind: str | None = None) -> None:
        turns[-1].append((text, kind))

    for k, g in enumerate(groups):
        if k:
            add(rng.choice([", ", " ", ". "]))
        if k in chosen:
            cut = rng.randint(1, len(g) - 1)
            if kind == 5:  # from the group before (said just now)
                add(say(rng, g[:cut]), "pan")
                add(rng.choice(REPAIRS))
                add(say(rng, groups[k - 1]) + " ", "pan")
            elif kind == 2:  # the begun digits end a turn; the group again in the next one
                add(say(rng, g[:cut]), "pan")
                turns.append([])
            elif kind == 3 and cut >= 2:  # a hesitation inside the begun digits
                add(say(rng, g[: cut - 1]), "pan")
                add(rng.choice([", uh, ", ", um, ", "... "]))
                add(say(rng, g[cut - 1 : cut]), "pan")
                add(rng.choice(REPAIRS))
            elif kind == 4:  # a cut-off word
                word = DIGIT_WORDS[int(g[cut])]
                if cut > 1:
                    add(" ".join(DIGIT_WORDS[int(d)] for d in g[:cut]) + " ", "pan")
                add(word[0] + "- ")
            else:
                add(say(rng, g[:cut]), "pan")
                add(rng.choice(REPAIRS))
        add(say(rng, g), "pan")
    agent = rng.choice(["Agent", "Rep", "Assistant", "spk_0"])
    if rng.random() < 0.2:  # a JSON transcript
        items = [{"speaker": "agent", "text": "Can I take the card number?"}]
        for n, turn in enumerate(turns):
            if n:
                items.append({"speaker": "agent", "text": rng.choice(["Mm-hmm.", "Go on.", "Okay."])})
            items.append({"speaker": "caller", "text": "".join(t for t, _ in turn)})
        text = json.dumps(items)
        pos = 0
        for turn in turns:  # the card's pieces where JSON put them (escaping leaves digits and words alone)
            for piece, kind_ in turn:
                at = text.index(piece, pos)
                if kind_ == "pan":
                    b.add(text[pos:at])
                    b.add(piece, "pan")
                    pos = at + len(piece)
        b.add(text[pos:])
        return
    b.add(f"{agent}: Can I take the card number?\n")
    for n, turn in enumerate(turns):
        if n:
            b.add(f"\n{agent}: {rng.choice(['Mm-hmm.', 'Go on.', 'Okay.'])}\n")
        b.add(f"{caller}: ")
        for piece, kind_ in turn:
            b.add(piece, kind_)
    b.add(rng.choice([".", "", f"\n{agent}: Thank you."]))


WORLD: dict[str, Callable[[random.Random, str, _Builder], None]] = {
    "turns_lines": lambda r, p, b: _turns(r, p, b, one_line=False, echo=False),
    "turns_one_line": lambda r, p, b: _turns(r, p, b, one_line=True, echo=False),
    "turns_readback": lambda r, p, b: _turns(r, p, b, one_line=r.random() < 0.3, echo=True),
    "subtitles": _subtitles,
    "caller_repeats": _caller_repeats,
    "json_turns": _json_turns,
    "asr_words_json": _asr_words,
    "hesitant": _hesitant,
    "phone_shaped": _phone_shaped,
    "digit_stream": _digit_stream,
    "form_body": _form_body,
    "html_markup": _html,
    "json_arrays": _json_arrays,
    "turns_exported": _turns_exported,
    "json_turns_more": _json_turns2,
    "json_arrays_more": _arrays2,
    "spelled_groups": _spelled_groups,
    "html_inputs": _html_inputs,
    "html_rows": _html_rows,
    "unicode_more": _unicode_more,
    "restart": _restart,
    "json_role_keys": _role_keys,
    "labels_long": _labels_long,
    "odd_mix": _odd_mix,
    "interim_results": _interim,
    "turns_tabular": _turns_tabular,
    "sounds_and_marks": _sounds_and_marks,
    "turns_shorthand": _turns_shorthand,
    "turns_more_labels": _turns_more_labels,
    "turns_loose_labels": _turns_loose,
    "json_platforms": _json_platforms,
    "repeats_more": _repeats_more,
    "asides": _asides,
    "card_block": _card_block,
    "group_restart": _group_restart,
    "group_restart_more": _group_restart_more,
}
WORLD_FORMATS = list(WORLD)


def world_card_sample(rng: random.Random, pan: str, fmt: str, brand: str) -> Sample:
    b = _Builder()
    WORLD[fmt](rng, pan, b)
    assert b.pans, f"{fmt}: a card sample without the card"  # (a generator bug, not a detector result)
    return Sample(b.text(), fmt, brand, b.pans, b.extras, pan)


# --- decoys -------------------------------------------------------------------------------------------------


def _say_phone(r: random.Random) -> tuple[str, str]:
    digits = r.choice(["415", "212", "646", "312", "020", "077"]) + _rand_digits(r, 7 if r.random() < 0.7 else 8)
    chunks = [digits[:3], digits[3:6], digits[6:]]
    return digits, ", ".join(say(r, c) for c in chunks)


def _conversation(r: random.Random) -> str:
    phone, spoken = _say_phone(r)
    kind = r.randrange(6)
    if kind == 0:
        return f"Caller: my number is {spoken}.\nAgent: That's {' '.join([phone[:3], phone[3:6], phone[6:]])}, right?\nCaller: yes."
    if kind == 1:
        order = _rand_digits(r, r.randint(6, 10))
        return (f"Customer: the order number is {say(r, order[:4])} {say(r, order[4:])}\nAgent: "
                f"{order[:4]} {order[4:]}, thank you. And a phone number?\nCustomer: {spoken}")  # fmt: skip
    if kind == 2:
        dollars, cents = r.randint(10, 999), r.randint(1, 99)
        return (f"User: I was charged {_two_words(dollars % 100) if dollars < 100 else say(r, str(dollars))} dollars and "
                f"{_two_words(cents) if cents >= 10 else DIGIT_WORDS[cents]} cents on {r.choice(MONTHS)} "
                f"{r.choice(['first', 'third', 'twelfth'])} two thousand twenty {DIGIT_WORDS[r.randint(1, 6)]}")  # fmt: skip
    if kind == 3:
        a, b2 = _say_phone(r), _say_phone(r)
        return f"spk_1: call me on {a[1]} or {b2[1]}\nspk_0: {a[0]} or {b2[0]}, got it."
    if kind == 4:
        zip_code = _rand_digits(r, 5)
        return f"Caller: zip code {say(r, zip_code)}, and my phone is {spoken}, I called {r.choice(['four', 'three', 'two'])} times"
    member = _rand_digits(r, 9)
    return f"AGENT: member ID please?\nCUSTOMER: {say(r, member[:3])} {say(r, member[3:6])} {say(r, member[6:])}\nAGENT: {member}, thanks."


def _subtitle_decoy(r: random.Random) -> str:
    out = ["WEBVTT", ""]
    t = r.randint(0, 100)
    for n in range(1, r.randint(3, 6)):
        out += [str(n), f"00:{t // 60:02d}:{t % 60:02d}.{r.randint(0, 999):03d} --> 00:{(t + 2) // 60:02d}:{(t + 2) % 60:02d}.{r.randint(0, 999):03d}",
                r.choice(["Thanks for calling.", "How can I help?", "I'd like a refund.", "One moment."]), ""]  # fmt: skip
        t += 3
    return "\n".join(out)


def _words_decoy(r: random.Random) -> str:
    words = ["i", "called", r.choice(["two", "three", "four"]), "times", "about", "order", *say(r, _rand_digits(r, 6)).split()]
    t = 0.0
    items = []
    for w in words:
        items.append({"word": w, "start": round(t, 3), "end": round(t + 0.3, 3), "confidence": round(r.random(), 6)})
        t += 0.41
    return json.dumps({"words": items})


def _conversation_more(r: random.Random) -> str:
    phone, spoken = _say_phone(r)
    kind = r.randrange(5)
    if kind == 0:
        return f"Caller: {' '.join(DIGIT_WORDS[int(d)] for d in phone)}, yes, {spoken}\nAgent: Got it."
    if kind == 1:
        other, _ = _say_phone(r)
        return (f"Caller: {' '.join([phone[:3], phone[3:6], phone[6:]])}\nAgent: "
                f"{r.choice(['And your husband' + chr(39) + 's?', 'And the other one?', 'And an alternate?'])}\n"
                f"Caller: {' '.join([other[:3], other[3:6], other[6:]])}")  # fmt: skip
    if kind == 2:
        ref = _rand_digits(r, r.randint(6, 8))
        return (f"Agent: You can call 1 800 {_rand_digits(r, 3)} {_rand_digits(r, 4)}, option "
                f"{r.choice(['one', 'two', 'three'])}, and quote reference {ref}.\nCaller: {ref}, thanks.")  # fmt: skip
    if kind == 3:
        order = _rand_digits(r, 8)
        return f"Customer: the order is {order}, uh, and my phone is {spoken}\nAgent: Mm-hmm."
    return (f"sms sent to {phone} order {_rand_digits(r, 8)}\n{_rand_digits(r, 8)}\t{r.randint(1000, 99999)}\t"
            f"{r.randint(100, 999)}.{r.randint(0, 99):02d}")  # fmt: skip


WORLD_DECOYS: dict[str, Callable[[random.Random], str]] = {
    "conversation_more": _conversation_more,
    "conversation": _conversation,
    "subtitles": _subtitle_decoy,
    "asr_words": _words_decoy,
    "form_numbers": lambda r: (
        f"amount={r.randint(100, 99999)}&quantity={r.randint(1, 9)}&zip={_rand_digits(r, 5)}"
        f"&phone={r.choice(['415', '212'])}{_rand_digits(r, 7)}&ts={r.randint(1_600_000_000, 1_800_000_000)}"
    ),
    "html_table": lambda r: "<table>" + "".join(
        f"<tr><td>{r.randint(2020, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}</td><td>{r.randint(1, 9999)}"
        f"</td><td>{r.randint(1, 999)}.{r.randint(0, 99):02d}</td></tr>"
        for _ in range(r.randint(2, 5))
    ) + "</table>",
}
