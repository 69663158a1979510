"""Process charts (办理流程图) laid out from a `flows.Chart`, drawn as SVG, PDF and PNG.

`layout` places every box and arrow once, in millimetres; the three renderers only
draw what it placed, so the Word, PDF and HTML booklets show the same chart.

The layout follows the printed charts of the seeds:

* the flow (steps, results, 办结, and materials boxes that feed a step) is a
  layered graph drawn top to bottom: one row per rank, boxes joined by down
  arrows; parallel branches (Yunnan's "窗口 / 网上" materials, 卧龙's three
  转移接续 lanes) sit side by side and merge with orthogonal connectors;
* side boxes (一次性告知…, 反馈不予办理原因) and notes hung on a step sit in a
  right-hand column, joined by horizontal arrows whose label sits above them;
* in the Henan style (no result box), the materials box sits to the left of the
  step it feeds, with the chart's free notes below it.

Text is wrapped character by character with the real advance widths of the
Noto CJK fonts the PDF embeds (read with fontTools), keeping ASCII words and
numbers whole and never starting a line with closing punctuation (避头尾).  If the
fonts are missing, a documented width model is used instead: East Asian wide
characters 1 em, everything else 0.55 em (Noto's Latin averages about that).

The font shrinks in half points down to `FONT_FLOOR` when the chart does not fit
`max_width` (or `max_height`, when given); below that, boxes get narrower and
taller rather than the text smaller.
"""
from __future__ import annotations

import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from . import flows
from .layout import NO_LINE_END, NO_LINE_START
from .errors import RenderError
from .titles import title_lines

PT = 25.4 / 72  # millimetres per point
FONT_FLOOR = 8.0  # pt: charts never print smaller
LABEL_SCALE = 0.9  # arrow labels are a little smaller than box text
LINE_SPACING = 1.35  # line height in em
MARGIN = 0.5  # mm around everything, so outer strokes are not clipped
STROKE = 0.3  # mm
HEAD_LENGTH, HEAD_WIDTH = 2.4, 1.9  # mm, arrowheads
SVG_SERIF = '"SimSun","Songti SC","Noto Serif CJK SC",serif'
SVG_SANS = '"SimHei","Heiti SC","Noto Sans CJK SC",sans-serif'

TOKEN = re.compile(r"[A-Za-z0-9@#&_\-+=/\\.%~*'\"$^|]+|[ \t]+|.", re.S)

FONT_ENV = {"serif": "FORMGEN_FONT_SERIF", "sans": "FORMGEN_FONT_SANS"}
FONT_FILES = {"serif": "NotoSerifCJK-Regular.ttc", "sans": "NotoSansCJK-Bold.ttc"}
FONT_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk",
             "/usr/share/fonts/google-noto-cjk", "/usr/local/share/fonts"]
ROUNDED = {"end": 0.5, "result": 0.22}  # corner radius as a share of the box height
LEFT_ALIGNED = {"materials", "note"}


# --------------------------------------------------------------------------
# Fonts and text widths
# --------------------------------------------------------------------------
@lru_cache(maxsize=None)
def font_file(role: str) -> tuple[str, int] | None:
    """(path, face index) of the ``serif`` or ``sans`` font, as the PDF writer finds it.

    ``$FORMGEN_FONT_SERIF`` / ``$FORMGEN_FONT_SANS`` first, then Debian's fonts-noto-cjk;
    in a .ttc collection the Simplified Chinese face is picked by its name.
    """
    candidates = [os.environ.get(FONT_ENV[role], "")] + [str(Path(d) / FONT_FILES[role]) for d in FONT_DIRS]
    path = next((p for p in candidates if p and Path(p).is_file()), None)
    if path is None:
        return None
    return path, _face_index(path)


def _face_index(path: str) -> int:
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection
    names = [face["name"].getDebugName(1) or "" for face in TTCollection(path, lazy=True).fonts]
    return next((i for i, name in enumerate(names) if re.search(r"\bSC\b", name) and "Mono" not in name), 0)


class _Metrics:
    """Advance widths (in em) of one font, read lazily with fontTools."""

    def __init__(self, role: str):
        self.widths: dict[str, float] = {}
        self.cmap: dict[int, str] = {}
        self.advances: dict[str, tuple[int, int]] = {}
        self.units = 1000
        found = font_file(role)
        if found:
            try:
                from fontTools.ttLib import TTFont
                font = TTFont(found[0], fontNumber=found[1], lazy=True)
                self.cmap = font.getBestCmap() or {}
                self.advances = font["hmtx"].metrics
                self.units = font["head"].unitsPerEm
            except Exception:  # an unreadable font: fall back to the width model
                self.cmap = {}

    def em(self, char: str) -> float:
        width = self.widths.get(char)
        if width is None:
            glyph = self.cmap.get(ord(char))
            if glyph is not None and glyph in self.advances:
                width = self.advances[glyph][0] / self.units
            else:
                width = _model_em(char)
            self.widths[char] = width
        return width


def _model_em(char: str) -> float:
    """The width model used without fonts: wide characters 1 em, others 0.55 em."""
    return 1.0 if unicodedata.east_asian_width(char) in "WF" else 0.55


@lru_cache(maxsize=None)
def _metrics(role: str) -> _Metrics:
    return _Metrics(role)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in mm of ``text`` at ``size`` pt in the serif (or, bold, the sans) font."""
    metrics = _metrics("sans" if bold else "serif")
    return sum(metrics.em(c) for c in text) * size * PT


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` mm.

    Hard line breaks are kept; Chinese breaks between any two characters, ASCII
    words and numbers stay whole unless wider than the line, and no line starts
    with closing punctuation or ends with an opening one (避头尾).
    """
    lines = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph.strip(" \t"), width, size, bold))
    return lines


def balanced_wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` centred in a box: the fewest, most even lines, broken between words
    (`formgen.titles`): "一次性告知申请人 / 需要补正的全部材料", not "…申请人需 / 要补正…"."""
    return title_lines(text, lambda line: text_width(line, size, bold), width)


def _wrap_paragraph(paragraph: str, width: float, size: float, bold: bool) -> list[str]:
    tokens = []
    for token in TOKEN.findall(paragraph):
        if len(token) > 1 and text_width(token, size, bold) > width:
            tokens.extend(token)  # a word longer than the line (a URL) breaks anywhere
        else:
            tokens.append(token)
    lines: list[list[str]] = []
    line: list[str] = []
    for token in tokens:
        if line and text_width("".join(line) + token, size, bold) > width + 1e-6:
            carry = _carry(line, "x" if token.isspace() else token, width, size, bold)
            lines.append(line)
            line = carry
            if token.isspace():
                continue
        if token.isspace() and not line:
            continue
        line.append(token)
    lines.append(line)
    return [text for text in ("".join(tokens).strip(" \t") for tokens in lines) if text]


def _carry(line: list[str], token: str, width: float, size: float, bold: bool) -> list[str]:
    """Tokens moved from the end of ``line`` to the next so neither breaks 避头尾."""
    carry: list[str] = []
    while line and line[-1].isspace():
        line.pop()
    while len(line) > 1 and (token[0] in NO_LINE_START or line[-1][-1] in NO_LINE_END):
        candidate = [line[-1]] + carry
        if text_width("".join(candidate) + token, size, bold) > width:
            break
        carry = candidate
        line.pop()
        token = carry[0]
    while line and line[-1].isspace():
        line.pop()
    return carry


# --------------------------------------------------------------------------
# The placed chart
# --------------------------------------------------------------------------
@dataclass
class Box:
    """A placed box (mm, origin top-left).  ``lines`` are the wrapped text."""

    id: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    lines: list[str]
    font_size: float
    bold: bool = False
    dashed: bool = False
    align: str = "center"  # center | left
    radius: float = 0.0  # corner radius, mm (0: square corners)
    line_height: float = 0.0  # mm
    text: str = ""  # the node's text as written
    framed: bool = True  # False for the chart's own caption: text without a box

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def placed_lines(self) -> list[tuple[float, float, str]]:
        """(x, baseline y, text) of each line, in mm."""
        return _place_lines(self.lines, (self.x, self.y, self.w, self.h), self.font_size,
                            self.line_height, self.align, self.bold)


@dataclass
class Arrow:
    """A connector: a polyline from one box edge to another, with an optional label."""

    points: list[tuple[float, float]]
    label: str | None = None
    label_lines: list[str] = field(default_factory=list)
    label_box: tuple[float, float, float, float] | None = None  # x, y, w, h
    head: bool = True
    dashed: bool = False
    font_size: float = 0.0  # of the label, pt
    line_height: float = 0.0  # of the label, mm
    source: str = ""
    target: str = ""

    def placed_label(self) -> list[tuple[float, float, str]]:
        if not self.label_box:
            return []
        return _place_lines(self.label_lines, self.label_box, self.font_size, self.line_height, "center", False)


@dataclass
class Layout:
    title: str | None
    width: float
    height: float
    boxes: list[Box]
    arrows: list[Arrow]
    font_size: float
    texts: list[str] = field(default_factory=list)  # reading order

    def reading(self) -> list[str]:
        """The chart's texts in reading order (for alt text and screen readers)."""
        return list(self.texts)


def _place_lines(lines, frame, size, line_height, align, bold) -> list[tuple[float, float, str]]:
    x, y, w, h = frame
    top = y + (h - line_height * len(lines)) / 2
    placed = []
    for index, line in enumerate(lines):
        middle = top + line_height * (index + 0.5)
        baseline = middle + 0.36 * size * PT  # CJK glyphs sit from -0.12 to 0.88 em
        if align == "left":
            left = x + _pad_x(size)
        else:
            left = x + (w - text_width(line, size, bold)) / 2
        placed.append((left, baseline, line))
    return placed


def _pad_x(size: float) -> float:
    return 0.55 * size * PT


def _pad_y(size: float) -> float:
    return 0.45 * size * PT


# --------------------------------------------------------------------------
# Planning: which node goes where
# --------------------------------------------------------------------------
@dataclass
class _Plan:
    nodes: dict
    order: dict  # id -> position in the chart
    flow: list  # ids drawn in the layered flow
    edges: list  # (source, target, label) between flow nodes
    attachments: dict  # source id -> [(node id, label)], the right-hand column
    beside: str | None = None  # a materials box drawn left of ...
    beside_target: str | None = None
    free: list = field(default_factory=list)  # notes without edges (left column or bottom)


def _plan(chart: flows.Chart, demoted: frozenset = frozenset()) -> _Plan:
    nodes = {n.id: n for n in chart.nodes}
    order = {node_id: index for index, node_id in enumerate(nodes)}
    edges = _merged_parallel([(e.source, e.target, e.label) for e in chart.edges
                              if e.source in nodes and e.target in nodes and e.source != e.target])
    incoming = {n: [e for e in edges if e[1] == n] for n in nodes}
    outgoing = {n: [e for e in edges if e[0] == n] for n in nodes}
    attachments: dict[str, list] = {}
    attached = set()
    for source, target, label in edges:
        kind = nodes[target].kind
        if (kind in ("side", "note") and len(incoming[target]) == 1 and not outgoing[target]
                and target not in demoted):
            attachments.setdefault(source, []).append((target, label))
            attached.add(target)
    free = [n for n in nodes
            if not incoming[n] and not outgoing[n] and nodes[n].kind in ("note", "side", "materials")]
    flow = [n for n in nodes if n not in attached and n not in free]
    plan = _Plan(nodes, order, flow, [e for e in edges if e[0] in flow and e[1] in flow], attachments, free=free)
    _choose_beside(plan, chart, demoted)
    return plan


def _merged_parallel(edges: list) -> list:
    """One arrow per pair of boxes: parallel edges (材料不齐全 and 数据不正确 both
    leading from 受理 to 一次性告知…) share it, their labels stacked, as the
    source charts draw them."""
    merged: dict[tuple[str, str], list] = {}
    for source, target, label in edges:
        merged.setdefault((source, target), []).append(label)
    return [(source, target, "\n".join(l for l in labels if l) or None)
            for (source, target), labels in merged.items()]


def _choose_beside(plan: _Plan, chart: flows.Chart, demoted: frozenset) -> None:
    """The Henan style: one materials box feeding the first step sits to its left."""
    materials = [n for n in plan.flow if plan.nodes[n].kind == "materials"]
    if len(materials) != 1 or "beside" in demoted or any(n.kind == "result" for n in chart.nodes):
        return
    box = materials[0]
    out = [e for e in plan.edges if e[0] == box]
    into = [e for e in plan.edges if e[1] == box]
    if len(out) != 1 or into or box in plan.attachments:
        return
    target = out[0][1]
    if [e for e in plan.edges if e[1] == target] != out:
        return
    plan.beside, plan.beside_target = box, target
    plan.flow.remove(box)
    plan.edges.remove(out[0])


# --------------------------------------------------------------------------
# Ranks and order of the layered flow
# --------------------------------------------------------------------------
def _acyclic(flow: list, edges: list) -> list:
    """The edges with those closing a cycle turned around (for ranking only)."""
    succ = {n: [e for e in edges if e[0] == n] for n in flow}
    state, result = {}, []

    def visit(node):
        state[node] = 1
        for edge in succ[node]:
            if state.get(edge[1]) == 1:
                result.append((edge[1], edge[0]))
            else:
                result.append((edge[0], edge[1]))
                if edge[1] not in state:
                    visit(edge[1])
        state[node] = 2

    for node in flow:
        if node not in state:
            visit(node)
    return result


def _ranks(flow: list, pairs: list) -> dict:
    preds = {n: [a for a, b in pairs if b == n] for n in flow}
    succs = {n: [b for a, b in pairs if a == n] for n in flow}
    rank: dict = {}

    def longest(node):
        if node not in rank:
            rank[node] = 0
            rank[node] = max((longest(p) + 1 for p in preds[node]), default=0)
        return rank[node]

    for node in flow:
        longest(node)
    for node in flow:  # a source joins just above its first successor (no long arrows down)
        if not preds[node] and succs[node]:
            rank[node] = min(rank[s] for s in succs[node]) - 1
    low = min(rank.values(), default=0)
    return {n: r - low for n, r in rank.items()}


def _layers(plan: _Plan) -> tuple[list[list[str]], list[list[str]], dict]:
    """Rows of node ids (dummies ``~k`` carry long edges), and each edge's path of ids."""
    pairs = _acyclic(plan.flow, [(a, b) for a, b, _ in plan.edges])
    rank = _ranks(plan.flow, pairs)
    paths = []
    for source, target, _ in plan.edges:
        if rank[source] >= rank[target]:  # closes a cycle: routed up a lane on the left
            paths.append([source, target])
            continue
        low, high = source, target
        path = [low]
        for step in range(rank[low] + 1, rank[high]):
            dummy = f"~{len(rank)}"
            rank[dummy] = step
            path.append(dummy)
        path.append(high)
        paths.append(path)
    rows = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    first_use = {}
    for path in paths:
        for node in path:
            first_use.setdefault(node, plan.order.get(path[0], 0) + 0.5)
    for node in sorted(rank, key=lambda n: plan.order.get(n, first_use.get(n, 0))):
        rows[rank[node]].append(node)
    _reduce_crossings(rows, paths)
    return rows, paths, rank


def _reduce_crossings(rows: list[list[str]], paths: list[list[str]]) -> None:
    """A few barycentre sweeps, down then up, keeping the source order on ties."""
    links = set()
    for path in paths:
        links.update(zip(path, path[1:]))
        links.update(zip(path[1:], path))
    for _ in range(2):
        for sweep in (range(1, len(rows)), range(len(rows) - 2, -1, -1)):
            for r in sweep:
                neighbour = rows[r - 1] if sweep.step == 1 else rows[r + 1]
                where = {n: (i + 0.5) / len(neighbour) for i, n in enumerate(neighbour)}
                current = {n: (i + 0.5) / len(rows[r]) for i, n in enumerate(rows[r])}

                def key(node):
                    linked = [where[m] for m in neighbour if (node, m) in links]
                    return sum(linked) / len(linked) if linked else current[node]

                rows[r].sort(key=key)


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------
class _Metric:
    """Sizes derived from the font size (mm)."""

    def __init__(self, size: float, relaxed: bool):
        self.size = size
        self.em = size * PT
        self.label_size = round(size * LABEL_SCALE * 2) / 2
        self.line = LINE_SPACING * self.em
        self.label_line = LINE_SPACING * self.label_size * PT
        self.gap = 1.2 * self.em  # between boxes of a row
        self.row_gap = 2.2 * self.em  # between rows (the down arrows)
        self.side_gap = 3.0 * self.em  # materials → first step arrow
        self.stub = 0.6 * self.em  # arrow before its label starts
        self.min_box = (2.2 if relaxed else 6.0) * self.em
        self.min_column = (3.0 if relaxed else 6.0) * self.em
        self.dummy = 1.0 * self.em
        self.relaxed = relaxed


def _bold(node) -> bool:
    return node.kind in ("step", "end") and "\n" not in node.text and len(node.text) <= 10


def _natural(node, m: _Metric) -> float:
    """The width a node's box would take on one line per paragraph (mm)."""
    bold = _bold(node)
    longest = max((text_width(p.strip(), m.size, bold) for p in node.text.split("\n")), default=0)
    return longest + 2 * _pad_x(m.size) + 0.2


def _make_box(node, w: float, m: _Metric) -> Box:
    bold = _bold(node)
    inner = max(w - 2 * _pad_x(m.size), m.em * 1.05)
    lines = (wrap if node.kind in LEFT_ALIGNED else balanced_wrap)(node.text, inner, m.size, bold)
    needed = max((text_width(line, m.size, bold) for line in lines), default=0) + 2 * _pad_x(m.size)
    if node.kind not in LEFT_ALIGNED:
        w = max(min(w, needed + 0.2), min(w, m.min_box))  # shrink-wrap centred boxes
    h = max(len(lines), 1) * m.line + 2 * _pad_y(m.size)
    h = max(h, 1.0 * m.line + 2.4 * _pad_y(m.size))
    align = "left" if node.kind in LEFT_ALIGNED and (len(lines) > 1 or node.kind == "materials") else "center"
    return Box(node.id, node.kind, 0.0, 0.0, w, h, lines, m.size, bold, node.kind == "note", align,
               ROUNDED.get(node.kind, 0.0) * h, m.line, node.text)


def _even_widths(boxes: list[Box], limit: float) -> None:
    """Boxes of one column no wider than ``limit`` widened to the widest of them (a tidy column)."""
    short = [box for box in boxes if box.w <= limit + 1e-6]
    widest = max((box.w for box in short), default=0.0)
    for box in short:
        box.w = widest
        box.radius = ROUNDED.get(box.kind, 0.0) * box.h


def _label_lines(label: str | None, width: float, m: _Metric) -> tuple[list[str], float, float]:
    if not label:
        return [], 0.0, 0.0
    lines = balanced_wrap(label, width, m.label_size)
    w = max(text_width(line, m.label_size) for line in lines) + 0.4
    return lines, w, len(lines) * m.label_line


class _Arranger:
    """Places one plan at one font size; `run` returns None when it cannot fit."""

    def __init__(self, plan: _Plan, width: float, m: _Metric):
        self.plan, self.width, self.m = plan, width, m
        self.rows, self.paths, self.rank = _layers(plan)
        self.boxes: dict[str, Box] = {}
        self.arrows: list[Arrow] = []
        self.widths: dict = {}  # (row, centre width) -> box widths
        back = [e[2] for e, p in zip(plan.edges, self.paths) if self.rank[p[0]] >= self.rank[p[-1]]]
        label = max((text_width(t, m.label_size) for t in back if t), default=0.0)
        self.lane = (1.5 * m.em + (label + 1.5 if label else 0)) if back else 0.0

    # -- columns ---------------------------------------------------------
    def columns(self):
        m, plan, W = self.m, self.plan, self.width - self.lane
        left_nodes = ([plan.beside] if plan.beside else []) + (plan.free if plan.beside else [])
        right_nodes = [n for items in plan.attachments.values() for n, _ in items]
        labels = [label for items in plan.attachments.values() for _, label in items if label]
        left_nat = max((_natural(plan.nodes[n], m) for n in left_nodes), default=0)
        right_nat = max((_natural(plan.nodes[n], m) for n in right_nodes), default=0)
        label_nat = max((text_width(label, m.label_size) for label in labels), default=0)
        gap_left = m.side_gap if left_nodes else 0
        gap_right = 0.0
        if right_nodes:  # the side arrows: long enough for their labels (within reason)
            gap_right = min(max(label_nat + 2 * m.stub + HEAD_LENGTH, 3 * m.em), 0.27 * W) if labels else 3 * m.em
        natural = [min(left_nat, 0.4 * W) if left_nodes else 0.0,
                   max(self.center_need(W), m.min_column),
                   min(right_nat, 0.3 * W) if right_nodes else 0.0]
        least = [min(natural[0], 1.3 * m.min_column), max(self.center_min(), m.min_column),
                 min(natural[2], m.min_column)]
        room = W - gap_left - gap_right
        if sum(natural) > room:  # every column gives up the same share of what it would like
            spare = room - sum(least)
            if spare < -1e-6:
                return None
            want = sum(n - low for n, low in zip(natural, least))
            share = spare / want if want > 0 else 0.0
            natural = [low + (n - low) * share for n, low in zip(natural, least)]
        left, center, right = natural
        return left, gap_left, center, gap_right, right

    def center_min(self) -> float:
        """The narrowest the flow rows can be: every box at its minimum width."""
        need = 0.0
        for row in self.rows:
            real = sum(1 for n in row if not n.startswith("~"))
            need = max(need, real * self.m.min_box + (len(row) - real) * self.m.dummy + self.m.gap * (len(row) - 1))
        return need

    def center_need(self, center: float) -> float:
        """The width the flow rows would like within ``center`` mm."""
        need = 0.0
        for row in self.rows:
            widths = [self.node_width(n, row, center) for n in row]
            need = max(need, sum(widths) + self.m.gap * (len(row) - 1))
        return need

    def node_width(self, node_id: str, row: list, center: float) -> float:
        if node_id.startswith("~"):
            return self.m.dummy
        key = (tuple(row), center)
        if key not in self.widths:
            self.widths[key] = self.row_widths(row, center)
        return self.widths[key][node_id]

    def row_widths(self, row: list, center: float) -> dict:
        """Box widths of a row within ``center`` mm: narrow boxes take what they need, wide ones share the rest."""
        m = self.m
        real = [n for n in row if not n.startswith("~")]
        room = center - m.gap * (len(row) - 1) - (len(row) - len(real)) * m.dummy
        wanted = {}
        for node_id in real:
            node = self.plan.nodes[node_id]
            cap = room if len(real) > 1 or node.kind in LEFT_ALIGNED else min(room, max(0.6 * self.width, m.min_box))
            wanted[node_id] = min(_natural(node, m), cap)
        widths = {}
        for index, node_id in enumerate(sorted(real, key=wanted.get)):
            share = room / (len(real) - index)
            widths[node_id] = max(min(wanted[node_id], share), min(m.min_box, share))
            room -= widths[node_id]
        return widths

    # -- placing ---------------------------------------------------------
    def run(self):
        cols = self.columns()
        if cols is None:
            return None
        left, gap_left, center, gap_right, right = cols
        x0 = left + gap_left + self.lane
        for row in self.rows:
            for node_id in row:
                if not node_id.startswith("~"):
                    width = self.node_width(node_id, row, center)
                    self.boxes[node_id] = _make_box(self.plan.nodes[node_id], width, self.m)
        if any(self.row_width(row) > center + 1e-6 for row in self.rows):
            return None
        _even_widths([self.boxes[row[0]] for row in self.rows if len(row) == 1 and row[0] in self.boxes
                      and self.boxes[row[0]].kind in ("step", "end", "result")], 12 * self.m.em)
        centers = self.place_x(x0, center)
        right_x = x0 + center + gap_right
        attached = self.make_attachments(right, right_x)
        self.place_y(centers, attached)
        self.place_attachments(attached, right_x)
        self.place_left(left)
        self.route_flow(centers)
        return True

    def row_width(self, row):
        return sum(self.boxes[n].w if n in self.boxes else self.m.dummy for n in row) + self.m.gap * (len(row) - 1)

    def place_x(self, x0: float, center: float) -> dict:
        """Centre x of every row member: the widest row spread evenly, the others under their neighbours."""
        centers: dict[str, float] = {}
        if not self.rows:
            return centers
        widest = max(range(len(self.rows)), key=lambda r: (len(self.rows[r]), self.row_width(self.rows[r])))
        self.spread(self.rows[widest], x0, center, centers)
        for r in list(range(widest + 1, len(self.rows))) + list(range(widest - 1, -1, -1)):
            neighbour = self.rows[r - 1] if r > widest else self.rows[r + 1]
            wanted = {}
            for node in self.rows[r]:
                linked = [centers[n] for n in neighbour if self.linked(node, n)]
                wanted[node] = sum(linked) / len(linked) if linked else None
            self.pack(self.rows[r], wanted, x0, center, centers)
        return centers

    def linked(self, a: str, b: str) -> bool:
        return any(a in path and b in path and abs(path.index(a) - path.index(b)) == 1 for path in self.paths)

    def width_of(self, node_id: str) -> float:
        return self.boxes[node_id].w if node_id in self.boxes else self.m.dummy

    def spread(self, row, x0, center, centers):
        total = self.row_width(row)
        free = (center - total) / (len(row) + 1) if len(row) > 1 else (center - total) / 2
        gap = self.m.gap + (free if len(row) > 1 else 0)
        x = x0 + (free if len(row) > 1 else (center - total) / 2)
        for node in row:
            centers[node] = x + self.width_of(node) / 2
            x += self.width_of(node) + gap

    def pack(self, row, wanted, x0, center, centers):
        """Centres as close to ``wanted`` as the row's order and widths allow."""
        if all(v is None for v in wanted.values()):
            self.spread(row, x0, center, centers)
            return
        middle = x0 + center / 2
        known = [v for v in wanted.values() if v is not None]
        fallback = sum(known) / len(known) if known else middle
        desired = [wanted[n] if wanted[n] is not None else fallback for n in row]
        widths = [self.width_of(n) for n in row]
        lefts = [d - w / 2 for d, w in zip(desired, widths)]
        for i in range(1, len(row)):  # push right
            lefts[i] = max(lefts[i], lefts[i - 1] + widths[i - 1] + self.m.gap)
        limit = x0 + center
        for i in range(len(row) - 1, -1, -1):  # then back inside the right edge
            lefts[i] = min(lefts[i], limit - widths[i])
            limit = lefts[i] - self.m.gap
        for i in range(len(row)):  # and inside the left edge
            floor = x0 if i == 0 else lefts[i - 1] + widths[i - 1] + self.m.gap
            lefts[i] = max(lefts[i], floor)
        for node, left, width in zip(row, lefts, widths):
            centers[node] = left + width / 2

    def make_attachments(self, width: float, right_x: float) -> dict:
        """Boxes and label sizes of the right-hand column, per source."""
        result = {}
        for source, items in self.plan.attachments.items():
            placed = []
            for node_id, label in items:
                box = _make_box(self.plan.nodes[node_id], width, self.m)
                box.x = right_x
                self.boxes[node_id] = box
                placed.append((box, label))
            result[source] = placed
        _even_widths([box for items in result.values() for box, _ in items if box.kind == "side"], width)
        return result

    def stack_height(self, items, label_lines) -> float:
        total = 0.0
        for index, (box, label) in enumerate(items):
            total += box.h
            if index:
                total += max(0.8 * self.m.em, label_lines[index][2] + 1.5 - (items[index - 1][0].h + box.h) / 2 + 0.0)
        return total

    def place_y(self, centers: dict, attached: dict) -> None:
        m = self.m
        y = 0.0
        self.row_top, self.row_bottom = [], []
        self.label_cache = {}
        for r, row in enumerate(self.rows):
            heights = [self.boxes[n].h for n in row if n in self.boxes]
            height = max(heights, default=m.line)
            for node in row:
                items = attached.get(node)
                if not items:
                    continue
                gap_w = (items[0][0].x - (centers[node] + self.boxes[node].w / 2) - HEAD_LENGTH - 1.0
                         - (m.stub if len(items) > 1 else 0))
                labels = [_label_lines(label, max(gap_w, 2 * m.em), m) for _, label in items]
                self.label_cache[node] = labels
                stack = self.stack_height(items, labels)
                first_label = labels[0][2] + 0.8 if labels[0][2] else 0
                height = max(height, stack, stack - items[0][0].h + 2 * first_label)
            gap = m.row_gap
            if r > 0:
                gap = max(gap, self.flow_label_need(r))
                y += gap
            self.row_top.append(y)
            for node in row:
                if node in self.boxes:
                    box = self.boxes[node]
                    box.x, box.y = centers[node] - box.w / 2, y + (height - box.h) / 2
            y += height
            self.row_bottom.append(y)
        self.flow_bottom = y

    def flow_label_need(self, r: int) -> float:
        """Height of the gap above row ``r``: room for labels on the arrows that cross it."""
        need = 0.0
        for (source, target, label), path in zip(self.plan.edges, self.paths):
            if label and path[-1] in self.rows[r] and len(path) >= 2:
                width = max(2.0 * self.m.em, min(10 * self.m.em, self.width / 4))
                _, _, h = _label_lines(label, width, self.m)
                need = max(need, 2 * (h + 1.2))
        return need

    def place_attachments(self, attached: dict, right_x: float) -> None:
        m = self.m
        for source, items in attached.items():
            src = self.boxes[source]
            labels = self.label_cache[source]
            stack = self.stack_height(items, labels)
            r = next(i for i, row in enumerate(self.rows) if source in row)
            mid = (self.row_top[r] + self.row_bottom[r]) / 2
            y = mid - stack / 2
            for index, (box, label) in enumerate(items):
                if index:
                    y += max(0.8 * m.em, labels[index][2] + 1.5 - (items[index - 1][0].h + box.h) / 2)
                box.y = y
                y += box.h
            for index, (box, label) in enumerate(items):
                self.arrows.append(self.side_arrow(src, box, label, labels[index], len(items) > 1))

    def side_arrow(self, src: Box, box: Box, label, label_info, stacked: bool) -> Arrow:
        m = self.m
        is_note = box.kind == "note"
        ya = box.cy
        if not stacked or abs(ya - src.cy) < 0.01:
            points = [(src.right, src.cy), (box.x, src.cy)]
            ya = src.cy
            start = src.right
        else:
            trunk = src.right + m.stub
            points = [(src.right, src.cy), (trunk, src.cy), (trunk, ya), (box.x, ya)]
            start = trunk
        lines, w, h = label_info
        label_box = None
        if lines:
            span_left, span_right = start + 0.6, box.x - HEAD_LENGTH - 0.3
            lx = max(span_left, (span_left + span_right) / 2 - w / 2)
            label_box = (lx, ya - 0.7 - h, w, h)
        return Arrow(points, label, lines, label_box, head=not is_note, dashed=is_note,
                     font_size=m.label_size, line_height=m.label_line, source=src.id, target=box.id)

    def place_left(self, width: float) -> None:
        """The materials box beside its step, free notes below it (or below the flow)."""
        m, plan = self.m, self.plan
        y = None
        if plan.beside:
            target = self.boxes[plan.beside_target]
            box = _make_box(plan.nodes[plan.beside], width, m)
            box.x = 0.0
            box.y = target.cy - box.h / 2 if box.h <= target.h else target.y
            if box.y < 0:
                box.y = 0.0
            self.boxes[box.id] = box
            self.arrows.append(Arrow([(box.right, target.cy), (target.x, target.cy)], source=box.id,
                                     target=target.id))
            y = box.bottom + 1.2 * m.em
            for node_id in plan.free:
                note = _make_box(plan.nodes[node_id], width, m)
                note.x, note.y = 0.0, y
                self.boxes[node_id] = note
                y = note.bottom + 0.8 * m.em
            return
        y = max([self.flow_bottom] + [b.bottom for b in self.boxes.values()]) + 1.5 * m.em
        full = max([b.right for b in self.boxes.values()] + [min(self.width, 0.8 * self.width)])
        for node_id in plan.free:
            note = _make_box(plan.nodes[node_id], min(full, _natural(plan.nodes[node_id], m)), m)
            note.x, note.y = (full - note.w) / 2, y
            self.boxes[node_id] = note
            y = note.bottom + 0.8 * m.em

    def route_flow(self, centers: dict) -> None:
        for (source, target, label), path in zip(self.plan.edges, self.paths):
            if self.rank[source] >= self.rank[target]:
                self.arrows.append(self.back_arrow(source, target, label))
                continue
            points = []
            for a, b in zip(path, path[1:]):
                points.extend(self.segment(a, b, centers))
            arrow = Arrow(_simplify(points), label, source=source, target=target, font_size=self.m.label_size,
                          line_height=self.m.label_line)
            if label:
                self.label_flow_arrow(arrow)
            self.arrows.append(arrow)

    def back_arrow(self, source: str, target: str, label) -> Arrow:
        """An edge closing a cycle: out of the source's left side, up the lane, into the target's."""
        src, dst = self.boxes[source], self.boxes[target]
        lane_x = min(b.x for b in self.boxes.values() if b.id not in self.plan.free) - 1.2 * self.m.em
        arrow = Arrow([(src.x, src.cy), (lane_x, src.cy), (lane_x, dst.cy), (dst.x, dst.cy)], label,
                      source=source, target=target, font_size=self.m.label_size, line_height=self.m.label_line)
        if label:
            lines, w, h = _label_lines(label, max(self.lane - 1.5 * self.m.em, 2 * self.m.em), self.m)
            arrow.label_lines = lines
            arrow.label_box = (lane_x - 0.8 - w, (src.cy + dst.cy) / 2 - h / 2, w, h)
        return arrow

    def segment(self, a: str, b: str, centers: dict) -> list:
        ra, rb = self.rank[a], self.rank[b]
        down = rb > ra
        xa, xb = centers[a], centers[b]
        ya = self.edge_y(a, bottom=down)
        yb = self.edge_y(b, bottom=not down)
        if abs(xa - xb) < 0.05:
            return [(xa, ya), (xa, yb)]
        upper = min(ra, rb)
        ymid = (self.row_bottom[upper] + self.row_top[upper + 1]) / 2
        return [(xa, ya), (xa, ymid), (xb, ymid), (xb, yb)]

    def edge_y(self, node: str, bottom: bool) -> float:
        if node in self.boxes:
            box = self.boxes[node]
            return box.bottom if bottom else box.y
        r = self.rank[node]
        return self.row_bottom[r] if bottom else self.row_top[r]

    def label_flow_arrow(self, arrow: Arrow) -> None:
        (x1, y1), (x2, y2) = arrow.points[-2], arrow.points[-1]
        width = max(2.0 * self.m.em, min(10 * self.m.em, self.width / 4))
        lines, w, h = _label_lines(arrow.label, width, self.m)
        if abs(x1 - x2) < 0.01:  # vertical: label to the right of it, in the row gap
            r = self.rank[arrow.target] if y2 > y1 else self.rank[arrow.source]
            top = max(min(y1, y2), self.row_top[r] - (self.row_top[r] - self.row_bottom[r - 1]) / 2 if r else 0)
            arrow.label_lines = lines
            arrow.label_box = (x1 + 1.2, top + 0.6, w, h)
        else:
            arrow.label_lines = lines
            arrow.label_box = (min(x1, x2) + 1.0, y1 - 0.7 - h, w, h)


def _simplify(points: list) -> list:
    out = []
    for point in points:
        if out and abs(out[-1][0] - point[0]) < 1e-6 and abs(out[-1][1] - point[1]) < 1e-6:
            continue
        if len(out) >= 2 and _collinear(out[-2], out[-1], point):
            out[-1] = point
            continue
        out.append(point)
    return out


def _collinear(a, b, c) -> bool:
    same_x = abs(a[0] - b[0]) < 1e-6 and abs(b[0] - c[0]) < 1e-6
    same_y = abs(a[1] - b[1]) < 1e-6 and abs(b[1] - c[1]) < 1e-6
    return same_x or same_y


# --------------------------------------------------------------------------
# layout()
# --------------------------------------------------------------------------
def layout(chart: flows.Chart, max_width: float = 160.0, font_size: float = 10.5,
           max_height: float | None = None) -> Layout:
    """Place ``chart`` within ``max_width`` mm, text at ``font_size`` pt or less.

    The font shrinks by half points down to `FONT_FLOOR` until the chart fits
    ``max_width`` (and ``max_height``, when given); below that, boxes narrow and
    grow taller.  Raises `RenderError` when even that cannot fit (dozens of
    parallel boxes in one row).
    """
    size = max(font_size, 1.0)
    floor = min(FONT_FLOOR, size)
    inner = max_width - 2 * MARGIN
    best = None
    while True:
        result = _arrange(chart, inner, _Metric(size, relaxed=False))
        if result is not None:
            best = result
            if max_height is None or result.height <= max_height or size <= floor:
                break
        elif size <= floor:
            break
        size = max(floor, size - 0.5)
    if best is None:
        best = _arrange(chart, inner, _Metric(floor, relaxed=True))
    if best is None:
        name = f"process chart “{chart.title}”" if chart.title else "a process chart"
        raise RenderError(f"{name} cannot fit {max_width:g} mm: "
                          "too many boxes side by side; split the flow or widen the page")
    return best


def _arrange(chart: flows.Chart, width: float, m: _Metric) -> Layout | None:
    demoted: set = set()
    for _ in range(len(chart.nodes) + 2):
        plan = _plan(chart, frozenset(demoted))
        arranger = _Arranger(plan, width, m)
        misplaced = _misplaced(arranger)
        if not misplaced:
            break
        demoted |= misplaced
    if arranger.run() is None:
        return None
    lay = _finish(chart, arranger, m)
    return lay if lay.width <= width + 2 * MARGIN + 1e-6 else None


def _misplaced(arranger: _Arranger) -> set:
    """Side boxes whose source is not last in its row, a beside box whose step is not first."""
    plan, wrong = arranger.plan, set()
    for row in arranger.rows:
        for node in row[:-1]:
            wrong.update(n for n, _ in plan.attachments.get(node, []))
        if plan.beside_target in row[1:]:
            wrong.add("beside")
    return wrong


def _finish(chart: flows.Chart, arranger: _Arranger, m: _Metric) -> Layout:
    boxes = [arranger.boxes[n.id] for n in chart.nodes if n.id in arranger.boxes]
    arrows = arranger.arrows
    frames = [_frame(b) for b in boxes] + [a.label_box for a in arrows if a.label_box]
    frames += [(x, y, 0.0, 0.0) for a in arrows for x, y in a.points]
    dx = MARGIN - min((f[0] for f in frames), default=0)
    dy = MARGIN - min((f[1] for f in frames), default=0)
    width = max((f[0] + f[2] for f in frames), default=0) + dx + MARGIN
    caption = _caption(chart, width, m)
    if caption is not None:  # the chart's own title, drawn above it
        dy += caption.h + m.gap
    _shift(boxes, arrows, dx, dy)
    height = max((f[1] + f[3] for f in frames), default=0) + dy + MARGIN
    if caption is not None:
        boxes.insert(0, caption)
    return Layout(chart.title, width, height, boxes, arrows, m.size, _reading(chart, arrows))


def _caption(chart: flows.Chart, width: float, m: _Metric) -> Box | None:
    """The title as part of the drawing, when the flow's `reading:` places it among the boxes.

    The seeds' charts carry their title inside the figure, read at a place of its own
    (after the chart's last box, or between a step and the rest); a chart drawn with
    it keeps that order for every reader of the text (screen readers, copy and paste,
    search), which a caption printed apart from the drawing cannot.
    """
    if not chart.title or flows.TITLE_ENTRY not in chart.reading:
        return None
    size = m.size + 1.5
    line = LINE_SPACING * size * PT
    lines = balanced_wrap(chart.title, width - 2 * MARGIN, size, bold=True)
    return Box(":title", "caption", MARGIN, MARGIN, width - 2 * MARGIN, line * len(lines), lines, size,
               bold=True, line_height=line, text=chart.title, framed=False)


def _shift(boxes: list[Box], arrows: list[Arrow], dx: float, dy: float) -> None:
    for box in boxes:
        box.x += dx
        box.y += dy
    for arrow in arrows:
        arrow.points = [(x + dx, y + dy) for x, y in arrow.points]
        if arrow.label_box:
            lx, ly, lw, lh = arrow.label_box
            arrow.label_box = (lx + dx, ly + dy, lw, lh)


def _frame(box: Box) -> tuple[float, float, float, float]:
    return (box.x, box.y, box.w, box.h)


def _reading(chart: flows.Chart, arrows: list[Arrow]) -> list[str]:
    reader = getattr(flows, "reading_order", None)
    if reader is not None:
        texts = [t for t in reader(chart) if t]
        # Without a `title` entry the caption is printed by the booklet above the chart, not drawn in it.
        drawn = flows.TITLE_ENTRY in chart.reading
        if not drawn and chart.title and chart.title in texts and chart.title not in [n.text for n in chart.nodes]:
            texts.remove(chart.title)
        return texts
    return [n.text for n in chart.nodes if n.text] + [a.label for a in arrows if a.label]


# --------------------------------------------------------------------------
# Items in reading order (shared by the renderers)
# --------------------------------------------------------------------------
def _in_reading_order(lay: Layout) -> list:
    """Boxes and labelled arrows, in the order `Layout.reading` gives their texts."""
    pending = list(lay.boxes) + [a for a in lay.arrows if a.label_box]
    ordered = []
    for text in lay.reading():
        match = next((p for p in pending
                      if (p.text == text if isinstance(p, Box) else text in p.label.split("\n"))), None)
        if match is not None:
            pending.remove(match)
            ordered.append(match)
    return ordered + pending


def _lines_of(item) -> list[tuple[float, float, str]]:
    return item.placed_lines() if isinstance(item, Box) else item.placed_label()


def _shaft(arrow: Arrow) -> list[tuple[float, float]]:
    """The polyline, its end pulled back under the arrowhead."""
    points = list(arrow.points)
    if arrow.head and len(points) >= 2:
        (x1, y1), (x2, y2) = points[-2], points[-1]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        back = min(HEAD_LENGTH * 0.8, length)
        points[-1] = (x2 - (x2 - x1) / length * back, y2 - (y2 - y1) / length * back)
    return points


def _head(arrow: Arrow) -> list[tuple[float, float]]:
    (x1, y1), (x2, y2) = arrow.points[-2], arrow.points[-1]
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * HEAD_LENGTH, y2 - uy * HEAD_LENGTH
    half = HEAD_WIDTH / 2
    return [(x2, y2), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]


# --------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------
def to_svg(lay: Layout) -> str:
    """A standalone SVG (sizes in mm); text as <text>, in reading order."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.2f}mm" height="{lay.height:.2f}mm" '
           f'viewBox="0 0 {lay.width:.2f} {lay.height:.2f}" role="img" font-family=\'{SVG_SERIF}\'>',
           f"<title>{escape(lay.title or '流程图')}</title>",
           f"<desc>{escape(' '.join(t.replace(chr(10), ' ') for t in lay.reading()))}</desc>",
           f'<g fill="none" stroke="#000" stroke-width="{STROKE}">']
    for box in (b for b in lay.boxes if b.framed):
        dash = ' stroke-dasharray="1.2 0.8"' if box.dashed else ""
        out.append(f'<rect x="{box.x:.2f}" y="{box.y:.2f}" width="{box.w:.2f}" height="{box.h:.2f}" '
                   f'rx="{box.radius:.2f}"{dash}/>')
    for arrow in lay.arrows:
        dash = ' stroke-dasharray="1.2 0.8"' if arrow.dashed else ""
        points = " ".join(f"{x:.2f},{y:.2f}" for x, y in _shaft(arrow))
        out.append(f'<polyline points="{points}"{dash}/>')
    out.append("</g>")
    out.append('<g fill="#000" stroke="none">')
    for arrow in lay.arrows:
        if arrow.head and len(arrow.points) >= 2:
            points = " ".join(f"{x:.2f},{y:.2f}" for x, y in _head(arrow))
            out.append(f'<polygon points="{points}"/>')
    for item in _in_reading_order(lay):
        size = item.font_size * PT
        bold = isinstance(item, Box) and item.bold
        family = f' font-family=\'{SVG_SANS}\' font-weight="bold"' if bold else ""
        out.append(f'<g font-size="{size:.2f}"{family}>')
        for x, y, line in _lines_of(item):
            out.append(f'<text x="{x:.2f}" y="{y:.2f}">{escape(line)}</text>')
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------
# PDF (fpdf2; the caller owns the FPDF and its fonts)
# --------------------------------------------------------------------------
def draw_pdf(pdf, lay: Layout, x: float, y: float, serif: str = "serif", sans: str = "sans") -> None:
    """Draw ``lay`` as vectors on the fpdf2 ``pdf`` with its top-left at (x, y) mm.

    The caller has registered its CJK fonts under ``serif`` and ``sans``; bold
    boxes (short step names) use ``sans`` (黑体), everything else ``serif`` (宋体).
    """
    with pdf.local_context():
        pdf.set_draw_color(0, 0, 0)
        pdf.set_fill_color(0, 0, 0)
        pdf.set_text_color(0, 0, 0)
        pdf.set_line_width(STROKE)
        for box in (b for b in lay.boxes if b.framed):
            _pdf_dash(pdf, box.dashed)
            if box.radius > 0:
                pdf.rect(x + box.x, y + box.y, box.w, box.h, round_corners=True,
                         corner_radius=min(box.radius, box.h / 2, box.w / 2))
            else:
                pdf.rect(x + box.x, y + box.y, box.w, box.h)
        for arrow in lay.arrows:
            _pdf_dash(pdf, arrow.dashed)
            pdf.polyline([(x + px, y + py) for px, py in _shaft(arrow)])
        _pdf_dash(pdf, False)
        for arrow in lay.arrows:
            if arrow.head and len(arrow.points) >= 2:
                pdf.polygon([(x + px, y + py) for px, py in _head(arrow)], style="F")
        for item in _in_reading_order(lay):
            bold = isinstance(item, Box) and item.bold
            pdf.set_font(sans if bold else serif, "", item.font_size)
            for tx, ty, line in _lines_of(item):
                pdf.text(x + tx, y + ty, line)


def reading_text(lay: Layout) -> str:
    """The chart's drawn texts in reading order, one per line (a box's wrapped lines joined)."""
    return "\n".join(_written(item) for item in _in_reading_order(lay))


def _written(item) -> str:
    """A box's or label's text as written (its lines were wrapped only to fit)."""
    if isinstance(item, Box):
        return item.text or "".join(item.lines)
    return item.label or "".join(item.label_lines)


def _pdf_dash(pdf, dashed: bool) -> None:
    if dashed:
        pdf.set_dash_pattern(dash=1.2, gap=0.8)
    else:
        pdf.set_dash_pattern()


# --------------------------------------------------------------------------
# PNG (Pillow), for Word
# --------------------------------------------------------------------------
def png_size(lay: Layout, dpi: int = 300) -> tuple[int, int]:
    """Pixel size of `to_png`'s image."""
    return max(1, round(lay.width / 25.4 * dpi)), max(1, round(lay.height / 25.4 * dpi))


def to_png(lay: Layout, dpi: int = 300) -> bytes:
    """The chart as a PNG at ``dpi`` (white background, Noto CJK fonts), its dpi recorded."""
    from PIL import Image, ImageDraw

    scale = dpi / 25.4
    image = Image.new("RGB", png_size(lay, dpi), "white")
    draw = ImageDraw.Draw(image)
    line = max(1, round(STROKE * scale))

    def px(point):
        return (point[0] * scale, point[1] * scale)

    for box in (b for b in lay.boxes if b.framed):
        frame = [box.x * scale, box.y * scale, box.right * scale, box.bottom * scale]
        if box.dashed:
            corners = [(box.x, box.y), (box.right, box.y), (box.right, box.bottom), (box.x, box.bottom)]
            _png_dashed(draw, [px(p) for p in corners + corners[:1]], line, scale)
        elif box.radius > 0:
            draw.rounded_rectangle(frame, radius=min(box.radius, box.h / 2) * scale, outline="black", width=line)
        else:
            draw.rectangle(frame, outline="black", width=line)
    for arrow in lay.arrows:
        points = [px(p) for p in _shaft(arrow)]
        if arrow.dashed:
            _png_dashed(draw, points, line, scale)
        else:
            draw.line(points, fill="black", width=line, joint="curve")
        if arrow.head and len(arrow.points) >= 2:
            draw.polygon([px(p) for p in _head(arrow)], fill="black")
    for item in _in_reading_order(lay):
        font = _png_font(isinstance(item, Box) and item.bold, round(item.font_size * PT * scale))
        for x, y, text in _lines_of(item):
            draw.text((x * scale, y * scale), text, fill="black", font=font, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _png_dashed(draw, points, line: int, scale: float) -> None:
    dash, gap = 1.2 * scale, 0.8 * scale
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        length = math.hypot(x2 - x1, y2 - y1)
        if not length:
            continue
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        at = 0.0
        while at < length:
            end = min(at + dash, length)
            draw.line([(x1 + ux * at, y1 + uy * at), (x1 + ux * end, y1 + uy * end)], fill="black", width=line)
            at = end + gap


@lru_cache(maxsize=32)
def _png_font(bold: bool, size_px: int):
    from PIL import ImageFont

    found = font_file("sans" if bold else "serif")
    if found is None:
        raise RenderError("no CJK font for chart images: apt-get install fonts-noto-cjk, or set "
                          f"{FONT_ENV['sans' if bold else 'serif']} to a .ttf/.otf/.ttc font file")
    return ImageFont.truetype(found[0], max(size_px, 1), index=found[1])
