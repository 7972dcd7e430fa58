"""What a keyboard-wedge scanner's keystrokes become under the keyboard layouts used in the region.

A scanner types as if on a US keyboard; the computer reads each key through
its own layout. Each table maps the US character to what the layout gives for
the same key (and shift state); characters not listed come out unchanged.
Digits are never listed: no layout here moves them.
"""

from __future__ import annotations

_QWERTZ_LETTERS = {"y": "z", "z": "y", "Y": "Z", "Z": "Y"}

SERBIAN_LATIN = {
    **_QWERTZ_LETTERS,
    ";": "č", ":": "Č", "'": "ć", '"': "Ć", "[": "š", "]": "đ", "\\": "ž",
    "/": "-", "?": "_", "-": "'", "_": "?", "=": "+", "+": "*", "@": '"', "&": "/", "*": "(", "(": ")", ")": "=",
}  # fmt: skip
GERMAN = {
    **_QWERTZ_LETTERS,
    ";": "ö", ":": "Ö", "'": "ä", '"': "Ä", "[": "ü", "]": "+", "/": "-", "?": "_", "-": "ß", "_": "?",
    "=": "´", "@": '"', "&": "/", "*": "(", "(": ")", ")": "=",
}  # fmt: skip
ALBANIAN = {
    **_QWERTZ_LETTERS,
    ";": "ë", ":": "Ë", "'": "[", '"': "{", "[": "ç", "]": "@", "/": "-", "?": "_", "-": "-", "=": "=",
}  # fmt: skip
_CYRILLIC_COMMON = {
    "q": "љ", "w": "њ", "e": "е", "r": "р", "t": "т", "u": "у", "i": "и", "o": "о", "p": "п", "a": "а", "s": "с",
    "d": "д", "f": "ф", "g": "г", "h": "х", "j": "ј", "k": "к", "l": "л", "x": "џ", "c": "ц", "v": "в", "b": "б",
    "n": "н", "m": "м", ";": "ч", ":": "Ч", "[": "ш", "/": "-", "?": "_", "-": "'", "_": "?", "=": "+",
}  # fmt: skip
SERBIAN_CYRILLIC = {**_CYRILLIC_COMMON, "y": "з", "z": "ѕ", "]": "ђ", "'": "ћ", "\\": "ж"}
MACEDONIAN_CYRILLIC = {**_CYRILLIC_COMMON, "y": "ѕ", "z": "з", "]": "ѓ", "'": "ќ", "\\": "ж"}

LAYOUTS = {
    "us": {},
    "serbian_latin": SERBIAN_LATIN,
    "serbian_cyrillic": SERBIAN_CYRILLIC,
    "macedonian_cyrillic": MACEDONIAN_CYRILLIC,
    "albanian": ALBANIAN,
    "german": GERMAN,
}


def typed(text: str, layout: str) -> str:
    """``text`` as a scanner types it into a computer set to ``layout``."""
    table = LAYOUTS[layout]
    out = []
    for char in text:
        if char in table:
            out.append(table[char])
        elif char.isupper() and char.lower() in table:
            out.append(table[char.lower()].upper())
        else:
            out.append(char)
    return "".join(out)
