"""YAML reading that remembers line numbers.

ruamel.yaml's round-trip loader keeps, for every mapping key and list entry,
the line it came from; `line_of` walks a pydantic error location through that
tree so every problem can name ``file:line``.
"""
from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from .errors import Problem


def _loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(path: Path, problems: list[Problem], display: str):
    """Parse ``path``; on failure record a problem and return None."""
    try:
        with open(path, encoding="utf-8") as handle:
            return _loader().load(handle)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        problems.append(Problem(display, line, "", f"bad YAML: {what}",
                                "check indentation and quote values containing ': ' or starting with special characters"))
    except UnicodeDecodeError:
        problems.append(Problem(display, None, "", "file is not UTF-8", "save it as UTF-8"))
    return None


def line_of(tree, loc: tuple) -> int | None:
    """The 1-based line of the deepest part of ``loc`` that exists in ``tree``."""
    line = None
    node = tree
    for part in loc:
        try:
            if isinstance(part, int) and hasattr(node, "lc") and isinstance(node, list):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            elif isinstance(node, dict) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            else:
                break
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    if line is None and hasattr(tree, "lc"):
        line = tree.lc.line + 1
    return line


def plain(tree):
    """ruamel's commented containers as plain dicts and lists (for JSON and pydantic)."""
    if isinstance(tree, dict):
        return {str(k): plain(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [plain(v) for v in tree]
    if isinstance(tree, str):
        return str(tree)
    return tree
