"""Process charts: expanding presets and reading a flow as a reader would.

A flow in the data is either explicit (nodes + edges) or a preset from
``data/flows.yaml`` with additions; `expand` turns both into one explicit
`Chart` so every writer draws from the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .models import Flow, FlowEdge, FlowNode, FlowPreset, Item, Material

MAIN_KINDS = ("step", "end")
TITLE_ENTRY = "title"  # a `reading:` entry that stands for the chart's caption


@dataclass
class Chart:
    title: str | None
    nodes: list[FlowNode]
    edges: list[FlowEdge]
    reading: list[str] = field(default_factory=list)  # the flow's `reading:` entries, if any

    def node(self, node_id: str) -> FlowNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def main_chain(self) -> list[FlowNode]:
        """The steps from the first step along unlabeled edges between steps."""
        steps = [n for n in self.nodes if n.kind in MAIN_KINDS]
        if not steps:
            return []
        targets = {e.target for e in self.edges if self._is_main(e)}
        start = next((n for n in steps if n.id not in targets), steps[0])
        chain, current = [start], start
        while True:
            nxt = next((e.target for e in self.edges if e.source == current.id and self._is_main(e)), None)
            node = self.node(nxt) if nxt else None
            if node is None or node in chain:
                return chain
            chain.append(node)
            current = node

    def _is_main(self, edge: FlowEdge) -> bool:
        a, b = self.node(edge.source), self.node(edge.target)
        return bool(a and b and a.kind in MAIN_KINDS and b.kind in MAIN_KINDS)

    def branches(self) -> list[tuple[FlowNode, str | None, FlowNode]]:
        """Edges leaving the main chain: (from, label, to)."""
        chain_ids = {n.id for n in self.main_chain()}
        out = []
        for edge in self.edges:
            a, b = self.node(edge.source), self.node(edge.target)
            if a and b and a.id in chain_ids and b.id not in chain_ids:
                out.append((a, edge.label, b))
        return out

    def boxes(self, kind: str) -> list[FlowNode]:
        return [n for n in self.nodes if n.kind == kind]


def expand(flow: Flow, presets: dict[str, FlowPreset], item: Item | None = None) -> Chart:
    """One explicit chart: preset nodes/edges, then the flow's own (same id replaces)."""
    nodes: dict[str, FlowNode] = {}
    edges: list[FlowEdge] = []
    if flow.preset and flow.preset in presets:
        preset = presets[flow.preset]
        nodes.update({n.id: n for n in preset.nodes})
        edges.extend(preset.edges)
    nodes.update({n.id: n for n in flow.nodes})
    own = {(e.source, e.target) for e in flow.edges}
    edges = [e for e in edges if (e.source, e.target) not in own] + list(flow.edges)
    if item is not None:
        nodes = {k: _with_materials(n, item) for k, n in nodes.items()}
    return Chart(flow.title, list(nodes.values()), edges, list(flow.reading))


def _with_materials(node: FlowNode, item: Item) -> FlowNode:
    if node.kind != "materials" or node.text:
        return node
    title = item.materials_title or "办理材料"
    return node.model_copy(update={"text": f"{title}：\n" + "\n".join(material_lines(item.materials))})


def material_lines(materials: list[Material], depth: int = 0) -> list[str]:
    """Materials as numbered lines, the seed's own enumerators kept; a material's
    notes follow it, indented, as the seed prints them."""
    lines = []
    for number, material in enumerate(materials, 1):
        label = material.label or (f"{number}." if len(materials) > 1 or depth else "")
        lines.append("　" * depth + label + material.name)
        lines.extend("　" * (depth + 1) + note for note in material.notes)
        lines.extend(material_lines(material.items, depth + 1))
    return lines


def describe(chart: Chart) -> list[str]:
    """The chart as text lines, for Markdown and for screen readers."""
    lines = []
    chain = chart.main_chain()
    if chain:
        lines.append(" → ".join(n.text for n in chain))
    for source, label, target in chart.branches():
        lines.append(f"{source.text} —{label or ''}→ {target.text}")
    chain_ids = {n.id for n in chain} | {t.id for _, _, t in chart.branches()}
    for node in chart.nodes:
        if node.id not in chain_ids:
            lines.append(node.text)
    return lines


def reading_order(chart: Chart) -> list[str]:
    """The chart's texts in the order a reader of the source takes them in.

    A flow with `reading:` gives that order itself (the seeds' charts were laid
    out by hand, so no rule finds it); whatever it leaves out follows in the
    default order, so no box is ever dropped.  The default: explicit charts list
    their nodes in reading order already; a preset chart is drawn as a column of
    steps with side boxes to the right, the materials box beside the first step,
    each side arrow's label just above the step it leaves, and the right-hand
    column read after the main one, bottom up.
    """
    return [text for _, text in reading_items(chart)]


def reading_items(chart: Chart) -> list[tuple[str, str]]:
    """`reading_order` with each text's entry (a node id, ``from>to`` or ``title``),
    for writers that style the caption, labels and boxes differently."""
    entries = list(chart.reading)
    entries += [e for e in _default_entries(chart) if e not in entries]
    pairs = [(entry, reading_text(chart, entry)) for entry in entries]
    return [(entry, text) for entry, text in pairs if text]


def reading_text(chart: Chart, entry: str) -> str:
    """The text a `reading:` entry stands for; ValueError says what is wrong with it."""
    if entry == TITLE_ENTRY:
        if not chart.title:
            raise ValueError("'title' names the chart's caption, but the flow has no title")
        return chart.title
    if ">" in entry:
        return _edge_label(chart, entry)
    node = chart.node(entry)
    if node is None:
        raise ValueError(f"unknown node '{entry}'")
    return node.text


def _edge_label(chart: Chart, entry: str) -> str:
    """``from>to`` is the label of that edge; ``from>to#2`` of the second edge between them."""
    ends, _, nth = entry.partition("#")
    source, _, target = ends.partition(">")
    if nth and not (nth.isdigit() and int(nth) >= 1):
        raise ValueError(f"'#{nth}' is not an edge number (1, 2, …)")
    edges = [e for e in chart.edges if (e.source, e.target) == (source, target)]
    index = int(nth or 1) - 1
    if index >= len(edges):
        raise ValueError(f"no edge from '{source}' to '{target}'" + (f" numbered {nth}" if nth else ""))
    if not edges[index].label:
        raise ValueError(f"the edge from '{source}' to '{target}' has no label")
    return edges[index].label


def _edge_entry(chart: Chart, edge: FlowEdge) -> str:
    same = [e for e in chart.edges if (e.source, e.target) == (edge.source, edge.target)]
    nth = next(i for i, e in enumerate(same, 1) if e is edge)
    return f"{edge.source}>{edge.target}" + (f"#{nth}" if nth > 1 else "")


def _default_entries(chart: Chart) -> list[str]:
    chain = chart.main_chain()
    if not chain:
        return [n.id for n in chart.nodes]
    branches = chart.branches()
    placed = {n.id for n in chain} | {t.id for _, _, t in branches}
    chain_ids = {n.id for n in chain}
    entries = []
    for index, step in enumerate(chain):
        entries += [_edge_entry(chart, edge) for edge in chart.edges
                    if edge.source == step.id and edge.label and edge.target not in chain_ids]
        entries.append(step.id)
        if index == 0:
            entries += [n.id for n in chart.boxes("materials")]
    side = []
    for _, _, target in branches:
        if target.id not in side:
            side.append(target.id)
    entries += list(reversed(side))
    entries += [n.id for n in chart.nodes if n.id not in placed and n.kind != "materials"]
    return list(dict.fromkeys(entries))  # a materials box can also be a branch target
