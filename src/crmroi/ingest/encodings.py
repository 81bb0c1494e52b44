"""Text encodings of exports: detection, script-plausibility scoring and garbling warnings.

A file that is not UTF-8 (nor UTF-16) is decoded in each candidate single- or double-byte
encoding — cp1252 / ISO-8859-15 / ISO-8859-1 (Western Europe), cp1251 (Cyrillic), GBK
(Chinese) — and each decoding is scored by how plausible its words are: a word mixing scripts
("Mьller": Latin and Cyrillic letters, the German "Müller" read as cp1251) or made almost only
of accented letters ("Ðîìàøêà": Russian read as cp1252) is improbable in any real export. The
decoding with the fewest improbable words wins; when even the winner has mixed-script words the
reader warns, naming the file and the encodings it tried.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmroi.ingest.mapping import MappingFile

__all__ = [
    "ENCODING_CHOICES",
    "EncodingGuess",
    "check_encoding_name",
    "detect_encoding",
    "garbled_words",
    "guess_encoding",
    "with_encoding",
]

ENCODING_CHOICES: tuple[str, ...] = (
    "utf-8",
    "utf-16",
    "cp1252",
    "iso-8859-15",
    "iso-8859-1",
    "cp1251",
    "gbk",
)
"""The encodings offered in the web wizard and named in errors (any Python codec is accepted)."""

_SAMPLE_BYTES = 1_000_000
_WORD = re.compile(r"[^\W\d_]+")


# --------------------------------------------------------------------------- scripts


def _script(ch: str) -> str:
    """A coarse script name for one letter."""
    o = ord(ch)
    if o < 0x80:
        return "ascii"
    if 0xC0 <= o <= 0x24F or 0x1E00 <= o <= 0x1EFF:
        return "latin"
    if 0x370 <= o <= 0x3FF:
        return "greek"
    if 0x400 <= o <= 0x52F:
        return "cyrillic"
    if 0x590 <= o <= 0x5FF:
        return "hebrew"
    if 0x600 <= o <= 0x6FF or 0xFB50 <= o <= 0xFEFF:
        return "arabic"
    if 0x3040 <= o <= 0x30FF:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
        return "hangul"
    if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF:
        return "han"
    return "other"


_EAST_ASIAN = frozenset({"han", "kana", "hangul"})


def _improbable(word: str) -> bool:
    """Whether one word (letters only) is unlikely to be real text in any language."""
    scripts = [_script(ch) for ch in word]
    kinds = set(scripts)
    if kinds <= {"ascii"}:
        return False
    non_ascii = kinds - {"ascii"}
    if len(non_ascii - _EAST_ASIAN) > 1 or (non_ascii & _EAST_ASIAN and non_ascii - _EAST_ASIAN):
        return True  # e.g. Latin accents with Cyrillic, or Cyrillic with Han
    only = next(iter(non_ascii)) if len(non_ascii) == 1 else "han"
    if "ascii" in kinds:
        if only in ("cyrillic", "greek", "arabic", "hebrew"):
            return True  # "Mьller": ASCII Latin letters inside a Cyrillic word
        if only in _EAST_ASIAN:
            # "CRM系统" is usual; ASCII letters on both sides of a CJK run ("M淇ler") is not
            first = next(i for i, s in enumerate(scripts) if s != "ascii")
            last = max(i for i, s in enumerate(scripts) if s != "ascii")
            return first > 0 and last < len(word) - 1
    if only == "latin":
        accented = sum(1 for s in scripts if s == "latin")
        return accented >= 3 and accented * 2 > len(word)  # "Ðîìàøêà", "ÓÐÏÞ"
    return only == "other"


def garbled_words(text: str, limit: int = 200_000) -> tuple[int, int, list[str]]:
    """(improbable words, words with non-ASCII letters, a few examples) in ``text[:limit]``."""
    bad = total = 0
    examples: list[str] = []
    counts = Counter(_WORD.findall(text[:limit]))
    for word, n in counts.items():
        if word.isascii():
            continue
        total += n
        if _improbable(word):
            bad += n
            if len(examples) < 3:
                examples.append(word)
    return bad, total, examples


# --------------------------------------------------------------------------- detection


def _bom_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """Guess BOM-less UTF-16 from the position of NUL bytes in ASCII-heavy text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _utf16_non_latin(data: bytes) -> str | None:
    """Guess BOM-less UTF-16 of non-Latin text: one byte of each pair takes very few values."""
    sample = data[:4096]
    if len(sample) < 8 or len(data) % 2:
        return None
    for enc, high in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        top = sum(c for _, c in Counter(high).most_common(2))
        if top >= 0.9 * len(high):
            try:
                data[:4096].decode(enc)
            except UnicodeDecodeError:
                continue
            return enc
    return None


def _cp1251_or_gbk(data: bytes) -> str:
    """Decide between cp1251 (Cyrillic) and GBK or GB18030 (Chinese) for non-UTF-8 bytes.

    Russian text in cp1251 is mostly letters 0xC0-0xFF separated by ASCII spaces, which is rarely
    valid GBK; when it is, its "lead bytes" sit in GBK's rare-character rows (0xD8-0xFE). Real
    Chinese text uses mostly GB2312 level-1 characters (lead bytes 0xB0-0xD7) and full-width
    punctuation (0xA1-0xA9).
    """
    sample = data[:_SAMPLE_BYTES]
    chinese = _chinese(sample, cut=len(data) > len(sample))
    if chinese is None:
        return "cp1251"
    common = rare = 0
    i, n = 0, len(sample)
    while i < n:
        b = sample[i]
        if b < 0x80:
            i += 1
            continue
        if 0xB0 <= b <= 0xD7 or 0xA1 <= b <= 0xA9:
            common += 1
        else:
            rare += 1
        i += 2
    return chinese if common > rare else "cp1251"


def _chinese(sample: bytes, cut: bool) -> str | None:
    """GBK when ``sample`` decodes as GBK, else GB18030 (GBK's superset: four-byte
    characters such as 䶮 in names) when it decodes so, else None. `cut`: the sample is
    the start of a longer file, so a character cut at its end is not evidence against."""
    for encoding, longest in (("gbk", 2), ("gb18030", 4)):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if cut and exc.start >= len(sample) - longest:
                return encoding
            continue
        return encoding
    return None


@functools.cache
def _common_han() -> frozenset[str]:
    """The Han characters Chinese text is mostly made of: GB2312's level 1 (3,755 simplified
    characters, rows 0xB0-0xD7) and Big5's frequently used block (5,401 traditional ones,
    0xA440-0xC67E)."""
    gb = bytes(b for lead in range(0xB0, 0xD8) for cell in range(0xA1, 0xFF) for b in (lead, cell))
    big5 = bytes(
        b
        for lead in range(0xA4, 0xC7)
        for cell in (*range(0x40, 0x7F), *range(0xA1, 0xFF))
        for b in (lead, cell)
    )
    chars = gb.decode("gb2312", errors="ignore") + big5.decode("big5", errors="ignore")
    return frozenset(ch for ch in chars if _script(ch) == "han")


def _common_share(text: str) -> float:
    """The share of the non-ASCII characters of ``text`` that are common Han characters."""
    common = _common_han()
    wide = [ch for ch in text if ord(ch) > 0x2FFF]
    return sum(ch in common for ch in wide) / len(wide) if wide else 0.0


def _gbk_or_big5(data: bytes, chinese: str) -> str:
    """Simplified (GBK/GB18030) or traditional (Big5) Chinese: both decode much of the
    other's bytes, into rare characters; the decoding made of common characters wins."""
    sample = data[:_SAMPLE_BYTES]
    try:
        big5 = sample.decode("big5")
    except UnicodeDecodeError as exc:
        if len(data) <= len(sample) or exc.start < len(sample) - 2:
            return chinese
        big5 = sample[: exc.start].decode("big5")
    simplified = sample.decode(chinese, errors="replace")
    return "big5" if _common_share(big5) > _common_share(simplified) + 0.2 else chinese


_RUSSIAN_LETTERS = frozenset("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def _well_formed_cyrillic(data: bytes) -> bool:
    """Whether ``data`` read as cp1251 is Cyrillic words as people write them: at least four
    distinct words with Cyrillic letters, nine in ten of them only Russian/Bulgarian letters
    in lower, upper or title case ("Иван", "ИСТИНА"). Uppercase words ("ИСТИНА", "ЛОЖЬ")
    are valid GBK made of common characters, so the byte statistics take them for Chinese;
    Chinese read as cp1251 gives words such as "ЙПєЈГіТЧ" (one in two at best)."""
    try:
        text = data[:_SAMPLE_BYTES].decode("cp1251")
    except UnicodeDecodeError:
        return False
    words = {w for w in _WORD.findall(text) if any("\u0400" <= c <= "\u04ff" for c in w)}
    if len(words) < 4:
        return False
    good = sum(
        1
        for w in words
        if set(w) <= _RUSSIAN_LETTERS and (w.islower() or w.isupper() or w.istitle())
    )
    return good * 10 >= len(words) * 9


def _western(data: bytes) -> str:
    """cp1252, ISO-8859-15 or ISO-8859-1 for Western European bytes.

    cp1252 and ISO-8859-1 agree on 0xA0-0xFF; ISO-8859-15 puts € at 0xA4 (¤ in the others).
    Without any byte 0x80-0x9F (cp1252's € and quotes) a 0xA4 is read as the euro sign.
    """
    sample = data[:_SAMPLE_BYTES]
    high = any(0x80 <= b <= 0x9F for b in sample)
    if 0xA4 in sample and not high:
        return "iso-8859-15"
    if high and _mac_letters(sample):
        return "mac_roman"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        # bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are C1 controls in
        # ISO-8859-1, never text; in Mac Roman they are Å ç è ê ù
        return "mac_roman"
    return "cp1252"


_MAC_VOWELS = frozenset(b"\x83\x8a\x8e\x9a\x9e\x9f")
"""Mac Roman's É ä é ö û ü, which end words ("Café"); in cp1252 ƒ Š Ž š ž Ÿ, which rarely
end a word (they start Slavic names: "Škoda", "Žilina")."""
_C1 = re.compile(rb"[\x80-\x91\x93-\x9f]")  # 0x92 left out: cp1252's apostrophe (It’s)


def _mac_letters(sample: bytes) -> bool:
    """Whether bytes 0x80-0x9F are Mac Roman's accented letters ("Müller" saved as "CSV" by
    Excel for Mac: ü is 0x9F) rather than cp1252's quotes, dashes and € (“, –, €): letters
    sit between letters ("M?ller", "Soci?t?"), punctuation beside a space or a digit.
    Mac Roman when most of them sit between two letters."""

    def letter(b: int) -> bool:
        return (0x41 <= (b | 0x20) <= 0x7A and (b | 0x20) >= 0x61) or b >= 0x80

    inside = outside = 0
    for found in _C1.finditer(sample):
        at = found.start()
        b = sample[at]
        before = letter(sample[at - 1]) if at else False
        after = letter(sample[at + 1]) if at + 1 < len(sample) else False
        if before and (after or b in _MAC_VOWELS):
            inside += 1
        else:
            outside += 1
    return inside > outside


def _decodes(data: bytes, encoding: str) -> str | None:
    """``data``'s sample decoded strictly, or None (a character cut at the sample's end is
    allowed)."""
    sample = data[:_SAMPLE_BYTES]
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError as exc:
        if len(data) > len(sample) and exc.start >= len(sample) - 2:
            return sample[: exc.start].decode(encoding, errors="replace")
        return None


@dataclass(frozen=True)
class EncodingGuess:
    """The encoding chosen for a file, the ones tried in order of preference, and the
    improbable (mixed-script) words the chosen decoding still has."""

    encoding: str
    tried: tuple[str, ...]
    garbled: int = 0
    words: int = 0
    examples: tuple[str, ...] = ()


def guess_encoding(data: bytes) -> EncodingGuess:
    """Detect the text encoding of ``data``, scoring candidate decodings by script.

    BOM first, then BOM-less UTF-16, then strict UTF-8; otherwise cp1251 or GBK (byte
    statistics) against the Western encodings, the one with the fewer improbable words
    winning (a tie keeps cp1251/GBK).
    """
    bom = _bom_encoding(data)
    if bom is not None:
        return EncodingGuess(bom, (bom,))
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return EncodingGuess(utf16, (utf16,))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return EncodingGuess("utf-8", ("utf-8",))
    utf16 = _utf16_non_latin(data)
    if utf16 is not None:
        return EncodingGuess(utf16, ("utf-8", utf16))
    eastern = _cp1251_or_gbk(data)
    if eastern != "cp1251" and _well_formed_cyrillic(data):
        eastern = "cp1251"
    if eastern != "cp1251":
        eastern = _gbk_or_big5(data, eastern)
    other = (_chinese(data[:_SAMPLE_BYTES], False) or "gbk") if eastern == "cp1251" else "cp1251"
    tried = ("utf-8", eastern, other, _western(data))
    scored: list[tuple[float, int, str, tuple[int, int, list[str]]]] = []
    for rank, enc in enumerate(tried[1:]):
        text = _decodes(data, enc)
        if text is None:
            continue
        bad, total, examples = garbled_words(text)
        ratio = bad / total if total else 0.0
        if enc == other:
            ratio += 0.5  # the byte statistics chose the first; overrule only on clear evidence
        scored.append((ratio, rank, enc, (bad, total, examples)))
    if not scored:  # cannot happen: ISO-8859-1 decodes any bytes
        return EncodingGuess(eastern, tried)
    _, _, best, (bad, total, examples) = min(scored)
    return EncodingGuess(best, tried, bad, total, tuple(examples))


def detect_encoding(data: bytes) -> str:
    """The text encoding of ``data`` (see `guess_encoding`)."""
    return guess_encoding(data).encoding


def check_encoding_name(encoding: str) -> str:
    """The codec's canonical name for a user-given encoding; ValueError naming the offered
    ones when Python has no such codec."""
    try:
        return codecs.lookup(encoding.strip()).name
    except LookupError:
        raise ValueError(
            f"unknown encoding {encoding!r}; for example: {', '.join(ENCODING_CHOICES)}"
        ) from None


def with_encoding(mapping: MappingFile, encoding: str | None) -> MappingFile:
    """``mapping`` with every table read in ``encoding`` (the user's explicit choice:
    `crmroi import --encoding`, the web wizard's select, the API's field), which overrides
    detection and any preset's or mapping's own `csv: {encoding: ...}`. ValueError for a codec
    Python does not know."""
    if encoding is None or not encoding.strip():
        return mapping
    name = check_encoding_name(encoding)
    tables = [
        t.model_copy(update={"csv": t.csv.model_copy(update={"encoding": name})})
        for t in mapping.tables
    ]
    return mapping.model_copy(update={"tables": tables})


def mostly_utf8(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 with U+FFFD for the bytes that are not, when nearly all of
    it is UTF-8: an export with a few lines another program appended in cp1252 or cp1251
    ("Café" as one byte). Reading the whole file in that other encoding would garble every
    UTF-8 name ("Ð˜Ð²Ð°Ð½"); read as UTF-8, only the rows holding U+FFFD are wrong, and the
    import refuses them. None when the file is valid UTF-8 or not mostly UTF-8 (at least
    three UTF-8 characters beyond ASCII per byte that is not: cp1251 and cp1252 text holds
    UTF-8 sequences only by chance, "С»" in "ЛЮКС»", among many bytes that are not)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 0x7F) - invalid
    return text if valid >= 3 * invalid else None
