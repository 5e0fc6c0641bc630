"""Regenerate the character tables that normalisation ships with.

Run ``python -m bot.engine.gen_tables`` after changing the mapping rules
below; it rewrites ``_chartable.py`` (one fused per-character table: NFKC,
accents, case, homoglyphs, traditional -> simplified, invisible characters)
and ``_pinyin.py`` (the toneless pinyin of each hanzi). The sources,
opencc-python-reimplemented's ``TSCharacters.txt`` (Apache-2.0) and
pypinyin's character dictionary (MIT), are needed only here, never at run
time. A test checks that the shipped tables equal a fresh build.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Characters that carry no visible meaning between letters: zero-width spaces
# and joiners, word joiner, BOM, soft hyphen, bidi marks, variation selectors,
# Mongolian vowel separator, Hangul fillers, invisible operators.
INVISIBLE = [
    0x00AD,
    0x034F,
    0x061C,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    0x180B,
    0x180C,
    0x180D,
    0x180E,
    0x180F,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2070),
    0x3164,
    0xFEFF,
    0xFFA0,
    *range(0xFE00, 0xFE10),
    *range(0xE0000, 0xE0080),
    *range(0xE0100, 0xE01F0),
    *range(0x20DD, 0x20E5),  # combining enclosing circle, square, keycap (1⃣2⃣3⃣)
]

# Letters from other scripts that look like Latin ones (after lower-casing).
HOMOGLYPHS = {
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "ӏ": "l",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "ɡ": "g",
    "ƅ": "b",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "η": "n",
    "μ": "u",
    # Plus signs used for 加 (➕微, ＋V)
    "➕": "+",
    "✚": "+",
    "╋": "+",
    "﹢": "+",
    # Look-alike separators and marks that NFKC leaves alone
    "丨": "|",
    "︱": "|",
    "│": "|",
    "〇": "零",
    # logical-or and other look-alikes of v
    "∨": "v",
    "ⅴ": "v",
    # 你🐴 / 你🐎 (你妈 written with the horse emoji)
    "🐴": "马",
    "🐎": "马",
}

CJK_RANGES = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF)]


def _t2s() -> dict[str, str]:
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1]:
            simp = parts[1].split(" ")[0]
            if len(parts[0]) == 1 and len(simp) == 1 and simp != parts[0]:
                out[parts[0]] = simp
    return out


def _fold_char(ch: str, t2s: dict[str, str]) -> str:
    """One character of NFKC output -> accents stripped, lower, homoglyph, simplified."""
    if ord(ch) < 0x2E80:  # Latin, Greek, Cyrillic: drop accents (féi -> fei)
        decomposed = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        ch = base or ch
    out = []
    for c in ch.lower():
        c = HOMOGLYPHS.get(c, c)
        out.append(t2s.get(c, c))
    return "".join(out)


def build_chartable() -> dict[int, str]:
    t2s = _t2s()
    table: dict[int, str] = {}
    invisible = set(INVISIBLE)
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if cp in invisible:
            table[cp] = ""
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Mn" and cp < 0x0370:  # stray combining accents (zalgo, é typed in two parts)
            table[cp] = ""
            continue
        if cat in ("Cn", "Co", "Cs"):
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        folded = "".join(_fold_char(c, t2s) for c in nfkc)
        if folded != ch:
            table[cp] = folded
    return table


def _toneless(reading: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", reading) if unicodedata.category(c) != "Mn")
    return plain.replace("ü", "v").lower()


def build_pinyin() -> dict[str, list[str]]:
    """hanzi -> its toneless readings, most common first."""
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, list[str]] = {}
    for lo, hi in CJK_RANGES:
        for cp in range(lo, hi + 1):
            readings = pinyin_dict.get(cp)
            if not readings:
                continue
            plain: list[str] = []
            for r in readings.split(","):
                t = _toneless(r)
                if t.isascii() and t.isalpha() and t not in plain:
                    plain.append(t)
            if plain:
                out[chr(cp)] = plain
    return out


def render_chartable(table: dict[int, str]) -> str:
    lines = [
        '"""Generated by ``python -m bot.engine.gen_tables``; do not edit by hand.',
        "",
        "The fused per-character normalisation table: code point -> replacement.",
        '"""',
        "",
        "# fmt: off",
        "CHARTABLE: dict[int, str] = {",
    ]
    for cp in sorted(table):
        lines.append(f"    {cp:#x}: {table[cp]!r},")
    lines += ["}", "# fmt: on"]
    return "\n".join(lines) + "\n"


def render_pinyin(table: dict[str, list[str]]) -> str:
    # Grouped by syllable to keep the file small: syllable -> all its characters.
    by_syllable: dict[str, list[str]] = {}
    for ch, readings in table.items():
        by_syllable.setdefault(readings[0], []).append(ch)
    others = {
        ch: ",".join(readings[1:])
        for ch, readings in table.items()
        if len(readings) > 1 and 0x4E00 <= ord(ch) <= 0x9FFF
    }
    lines = [
        '"""Generated by ``python -m bot.engine.gen_tables``; do not edit by hand.',
        "",
        "Toneless pinyin of each hanzi: PINYIN holds its most common reading, grouped by",
        "syllable; OTHER_READINGS the other readings of common polyphonic hanzi (行: hang).",
        '"""',
        "",
        "# fmt: off",
        "PINYIN: dict[str, str] = {",
    ]
    for syl in sorted(by_syllable):
        lines.append(f"    {syl!r}: {''.join(by_syllable[syl])!r},")
    lines += ["}", "OTHER_READINGS: dict[str, str] = {"]
    for ch in sorted(others):
        lines.append(f"    {ch!r}: {others[ch]!r},")
    lines += ["}", "# fmt: on"]
    return "\n".join(lines) + "\n"


def main() -> int:
    (HERE / "_chartable.py").write_text(render_chartable(build_chartable()), encoding="utf-8")
    (HERE / "_pinyin.py").write_text(render_pinyin(build_pinyin()), encoding="utf-8")
    print("wrote _chartable.py and _pinyin.py", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
