"""Process charts: expanding presets and reading a flow as a reader would.

A flow in the data is either explicit (nodes + edges) or a preset from
``data/flows.yaml`` with additions; `expand` turns both into one explicit
`Chart` so every writer draws from the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass

from .models import Flow, FlowEdge, FlowNode, FlowPreset, Item, Material

MAIN_KINDS = ("step", "end")


@dataclass
class Chart:
    title: str | None
    nodes: list[FlowNode]
    edges: list[FlowEdge]

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
    return Chart(flow.title, list(nodes.values()), edges)


def _with_materials(node: FlowNode, item: Item) -> FlowNode:
    if node.kind != "materials" or node.text:
        return node
    title = item.materials_title or "办理材料"
    return node.model_copy(update={"text": f"{title}：\n" + "\n".join(material_lines(item.materials))})


def material_lines(materials: list[Material], depth: int = 0) -> list[str]:
    """Materials as numbered lines, the seed's own enumerators kept."""
    lines = []
    for number, material in enumerate(materials, 1):
        label = material.label or (f"{number}." if len(materials) > 1 or depth else "")
        lines.append("　" * depth + label + material.name)
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
    """The chart's texts in the order a reader takes them in, top to bottom.

    Explicit charts list their nodes in the source's reading order already.  A
    preset chart is drawn as a column of steps with side boxes to the right:
    the materials box sits beside the first step, each side arrow's label sits
    just above the step it leaves, and the right-hand column is read after the
    main one, bottom up (the way the seeds' charts read when extracted).
    """
    chain = chart.main_chain()
    if not chain:
        return [n.text for n in chart.nodes]
    branches = chart.branches()
    placed = {n.id for n in chain} | {t.id for _, _, t in branches}
    lines = []
    for index, step in enumerate(chain):
        lines += [label for source, label, _ in branches if source.id == step.id and label]
        lines.append(step.text)
        if index == 0:
            lines += [n.text for n in chart.boxes("materials")]
    side = []
    for _, _, target in branches:
        if target.text not in side:
            side.append(target.text)
    lines += list(reversed(side))
    lines += [n.text for n in chart.nodes if n.id not in placed and n.kind != "materials"]
    return [line for line in lines if line]
