"""Where a title breaks when it needs more than one line.

A cover title, a subtitle or a process chart's title is centred, so a typesetter breaks it
into lines of even length and never inside a word: "内黄县医疗保障经办 / 政务服务事项办事指南",
not "内黄县医疗保障经办政 / 务服务事项办事指南".  Chinese is written without spaces, so the
words come from jieba, the standard Chinese word segmenter, with its dictionary only
(``HMM=False``: the same cut on every machine and every run).  Among the breaks between
words the fewest lines are chosen, then the most even, then the one after closing
punctuation or a bureau's name (…医疗保障局 / “一件事一次办”服务指南).  A word wider than
the line (a long URL) may break inside; 避头尾 holds everywhere.

The writers measure; this module only chooses: `title_lines(text, width_of, width)`
takes the writer's own measure of a string, so PDF, Word and the charts agree.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Callable

NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)")
NO_LINE_END = set("（《「『“‘([")
NATURAL_END = set("）》」』”、，：") | {"局"}  # a break after these reads as typeset
MAX_LINES = 4  # a title longer than this is a paragraph: the writer wraps it as one


def title_lines(text: str, width_of: Callable[[str], float], width: float) -> list[str]:
    """``text`` as the fewest, most even lines no wider than ``width``, broken between words.

    Hard line breaks in ``text`` are kept (each part balanced on its own).
    """
    lines: list[str] = []
    for part in text.split("\n"):
        lines += _balanced(part.strip(), width_of, width)
    return lines


def _balanced(text: str, width_of, width: float) -> list[str]:
    if not text or width_of(text) <= width:
        return [text] if text else []
    tokens = _tokens(text, width_of, width)
    best = None
    for count in range(2, min(MAX_LINES, len(tokens)) + 1):
        best = _best_split(tokens, count, width_of, width)
        if best is not None:
            return best
    return [text]  # no word-wise split fits: let the writer wrap it


def _best_split(tokens: list[str], count: int, width_of, width: float) -> list[str] | None:
    """The split of ``tokens`` into ``count`` lines that fit, the widest line narrowest."""
    @lru_cache(maxsize=None)
    def best_from(start: int, lines_left: int):
        # (widest line, breaks not after natural ends, lines) or None
        if lines_left == 1:
            line = "".join(tokens[start:])
            return (width_of(line), 0, (line,)) if width_of(line) <= width else None
        found = None
        for end in range(start + 1, len(tokens) - lines_left + 2):
            line = "".join(tokens[start:end])
            line_width = width_of(line)
            if line_width > width:
                break
            rest = best_from(end, lines_left - 1)
            if rest is None:
                continue
            plain = 0 if line[-1] in NATURAL_END else 1
            score = (round(max(line_width, rest[0]), 1), plain + rest[1], (line,) + rest[2])
            if found is None or score[:2] < found[:2]:
                found = score
        return found

    result = best_from(0, count)
    return list(result[2]) if result else None


def _tokens(text: str, width_of, width: float) -> list[str]:
    """The words of ``text``; punctuation kept with its neighbour (避头尾)."""
    tokens: list[str] = []
    for word in _words(text):
        if width_of(word) > width:
            tokens += list(word)  # wider than a line: it must break inside
        elif tokens and (word[0] in NO_LINE_START or tokens[-1][-1] in NO_LINE_END):
            tokens[-1] += word
        else:
            tokens.append(word)
    return tokens


def _words(text: str) -> list[str]:
    return list(_segmenter().cut(text, HMM=False))


@lru_cache(maxsize=1)
def _segmenter():
    """jieba's default tokenizer, loaded once, quietly (it logs its dictionary loading)."""
    import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()
