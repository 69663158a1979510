"""Chinese enumerators shared by the Markdown export, the booklets and the catalog sheet."""
from __future__ import annotations

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (section and group numbering)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")


def circled(n: int) -> str:
    """1 → ①, up to ⑳; beyond that (21)."""
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"
