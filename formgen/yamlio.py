"""YAML reading that remembers line numbers.

ruamel.yaml's round-trip loader keeps, for every mapping key and list entry,
the line it came from; `line_of` walks a pydantic error location through that
tree so every problem can name ``file:line``.
"""
from __future__ import annotations

import hashlib
import os
import pickle
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
        raw = Path(path).read_bytes()
        cached = _cache_get(raw)
        if cached is not None:
            return cached
        tree = _loader().load(raw.decode("utf-8"))
        _cache_put(raw, tree)
        return tree
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        problems.append(Problem(display, line, "", f"bad YAML: {what}",
                                "check indentation and quote values containing ': ' or starting with special characters"))
    except UnicodeDecodeError:
        problems.append(Problem(display, None, "", "file is not UTF-8", "save it as UTF-8"))
    return None


# --------------------------------------------------------------------------
# Parse cache: ruamel's round-trip parser takes seconds for the whole data folder, on
# every command.  A parsed tree (line numbers included) is pickled under the SHA-256 of
# the file's bytes, so any edit is a new key.  FORMGEN_CACHE=off disables it; a cache
# folder that cannot be written is simply not used.
# --------------------------------------------------------------------------
def cache_root() -> Path | None:
    """The folder of formgen's caches (``$FORMGEN_CACHE``, else ~/.cache/formgen); None when
    FORMGEN_CACHE=off."""
    setting = os.environ.get("FORMGEN_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        return None
    return Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "formgen"


def file_cache_entry(kind: str, source: Path, *version: str) -> Path | None:
    """Where a cache of what is read from ``source`` is kept: keyed by the file's real path,
    size and modification time (and ``version``), so another or an edited file is a new key."""
    root = cache_root()
    if root is None:
        return None
    real = os.path.realpath(source)
    info = os.stat(real)
    key = "|".join((*version, real, str(info.st_size), str(info.st_mtime_ns)))
    return root / kind / f"{hashlib.sha256(key.encode()).hexdigest()}.pickle"


def load_pickle(target: Path | None):
    """A cache entry written by `store_pickle`, or None (no cache, no entry, a damaged one)."""
    if target is None:
        return None
    try:
        return pickle.loads(target.read_bytes())
    except Exception:  # missing, damaged or foreign: made again by the caller
        return None


def _cache_dir() -> Path | None:
    root = cache_root()
    return root / "yaml" if root is not None else None


def _cache_file(raw: bytes) -> Path | None:
    folder = _cache_dir()
    if folder is None:
        return None
    import ruamel.yaml
    key = hashlib.sha256(raw + ruamel.yaml.__version__.encode()).hexdigest()
    return folder / f"{key}.pickle"


def _cache_get(raw: bytes):
    return load_pickle(_cache_file(raw))  # None (no entry, a damaged one): parse the file instead


def _cache_put(raw: bytes, tree) -> None:
    target = _cache_file(raw)
    if target is not None:
        store_pickle(target, tree)


def store_pickle(target: Path, value) -> None:
    """A cache entry written atomically (concurrent runs never read half of one); a cache that
    cannot be written is no cache, never an error."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(scratch, target)
    except (OSError, pickle.PicklingError, AttributeError):
        pass


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
