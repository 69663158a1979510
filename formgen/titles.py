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

from .layout import NO_LINE_END, NO_LINE_START

GLUED_BEFORE = NO_LINE_START | {"/", " "}  # a slash or space stays with the word before it too
NATURAL_END = set("）》」』”、，：") | {"局"}  # a break after these reads as typeset
ENUMERATED = 3  # up to this many lines every split is weighed; beyond, the evenest is taken
EVEN_ENOUGH = 0.6  # a natural break wins unless its shorter line is under 60 % of the longer


def title_lines(text: str, width_of: Callable[[str], float], width: float) -> list[str]:
    """``text`` as the fewest, most even lines no wider than ``width``, broken between words.

    Hard line breaks in ``text`` are kept (each part balanced on its own).
    """
    width_of = lru_cache(maxsize=None)(width_of)  # the splits weighed share most of their lines
    lines: list[str] = []
    for part in text.split("\n"):
        lines += [line.strip() for line in _balanced(part.strip(), width_of, width)]
    return lines


def _balanced(text: str, width_of, width: float) -> list[str]:
    if not text or width_of(text) <= width:
        return [text] if text else []
    tokens = _tokens(text, width_of, width)
    greedy = _greedy(tokens, width_of, width)  # the fewest lines breaking between words
    if any(width_of(token) > width for token in tokens):
        return greedy  # a character and its punctuation wider than the line: nothing fits
    if len(greedy) <= ENUMERATED:
        return _chosen(tokens, len(greedy), width_of, width)
    return _evenest(tokens, len(greedy), width_of, width)


def _greedy(tokens: list[str], width_of, width: float) -> list[str]:
    lines = [""]
    for token in tokens:
        if lines[-1] and width_of(lines[-1] + token) > width:
            lines.append(token)
        else:
            lines[-1] += token
    return lines


def _chosen(tokens: list[str], count: int, width_of, width: float) -> list[str]:
    """Of every split into ``count`` lines that fit: even enough first, then the most
    breaks at natural places, then the narrowest widest line."""
    def key(lines):
        widths = [width_of(line) for line in lines]
        uneven = min(widths) < EVEN_ENOUGH * max(widths)
        plain = sum(line[-1] not in NATURAL_END for line in lines[:-1])
        return (uneven, plain, round(max(widths), 1))
    splits = [lines for lines in _splits(tokens, count) if all(width_of(x) <= width for x in lines)]
    return min(splits, key=key)


def _splits(tokens: list[str], count: int):
    if count == 1:
        yield ["".join(tokens)]
        return
    for end in range(1, len(tokens) - count + 2):
        for rest in _splits(tokens[end:], count - 1):
            yield ["".join(tokens[:end])] + rest


def _evenest(tokens: list[str], count: int, width_of, width: float) -> list[str]:
    """The split into ``count`` lines whose widest line is narrowest (a long box text)."""
    @lru_cache(maxsize=None)
    def best_from(start: int, lines_left: int):
        if lines_left == 1:
            line = "".join(tokens[start:])
            return (width_of(line), (line,)) if width_of(line) <= width else None
        found = None
        for end in range(start + 1, len(tokens) - lines_left + 2):
            line = "".join(tokens[start:end])
            if width_of(line) > width:
                break
            rest = best_from(end, lines_left - 1)
            if rest is not None:
                candidate = (max(width_of(line), rest[0]), (line,) + rest[1])
                if found is None or candidate[0] < found[0] - 1e-9:
                    found = candidate
        return found

    return list(best_from(0, count)[1])


def _tokens(text: str, width_of, width: float) -> list[str]:
    """The words of ``text``, punctuation kept with its neighbour (避头尾); a word wider
    than the line (a long URL) in pieces of a character, still kept with its punctuation."""
    tokens = []
    for token in _glued(_words(text)):
        tokens += _glued(list(token)) if width_of(token) > width else [token]
    return tokens


def _glued(pieces: list[str]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if out and (piece[0] in GLUED_BEFORE or out[-1][-1] in NO_LINE_END):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def _words(text: str) -> list[str]:
    return list(_segmenter().cut(text, HMM=False))


@lru_cache(maxsize=1)
def _segmenter():
    """jieba's default tokenizer, loaded once, quietly (it logs its dictionary loading)."""
    import jieba
    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()
