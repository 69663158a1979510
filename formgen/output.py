"""Writing outputs safely.

Every file formgen writes goes to a temporary file in the destination folder
and is renamed into place only when complete, so an interrupted run never
leaves a half-written file under its final name.  `safe_child` keeps names
built from untrusted values (CSV cells, --name patterns) inside the output
folder.
"""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError, RenderError

# Characters Windows and most file systems refuse, plus path separators.
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
# Names Windows reserves for devices, with or without an extension (NUL.txt is NUL).
WINDOWS_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$)(\.|$)", re.I)
NAME_BYTES = 200  # a whole name; with the ".<name>.xxxxxxxx.part" temporary it stays under 255


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    blocker = next((f for f in (target.parent, *target.parent.parents) if f.exists() and not f.is_dir()), None)
    if blocker is not None:
        raise RenderError(f"cannot write {target}: {blocker} is a file, not a folder")
    if target.is_dir():
        raise RenderError(f"cannot write {target}: it is a folder; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutputFolder:
    """Many files written atomically into one folder, each as ``write(target, data)``.

    What `atomic_path` checks per file (the folder exists and is a folder) is checked once;
    each file is then one exclusive create of a temporary name beside it, one write and a
    rename, with the ordinary permissions (the umask applies to ``os.open``'s 0666).  A batch
    of thousands of small files spends much of its time in these system calls.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        probe = self.folder / "_"
        blocker = next((f for f in (self.folder, *self.folder.parents) if f.exists() and not f.is_dir()), None)
        if blocker is not None:
            raise RenderError(f"cannot write {probe.parent}: {blocker} is a file, not a folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"cannot write {self.folder}: {exc.strerror or exc}") from None
        self.token = f"{os.getpid():x}"
        self.count = 0

    def write(self, target, data: bytes) -> None:
        """``data`` as ``target`` (a path in this folder), replacing it only when complete."""
        target = os.fspath(target)
        head, name = os.path.split(target)
        self.count += 1
        tmp = os.path.join(head, f".{name}.{self.token}-{self.count:x}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:  # a stale temporary of an earlier run with this pid: a fresh name
            with atomic_path(Path(target)) as other:
                other.write_bytes(data)
            return
        except OSError as exc:
            if os.path.isdir(target):
                raise RenderError(f"cannot write {target}: it is a folder; give a file name") from None
            raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
            raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def safe_filename(name: str, fallback: str = "record") -> str:
    """A single path component made from untrusted text, valid on Linux, macOS and Windows.

    Separators, NUL, control and Windows-reserved characters become ``_``; ``..`` runs,
    leading and trailing dots and spaces go; Windows device names (CON, NUL.txt, COM1 …)
    get a ``_`` prefix; the result is at most `NAME_BYTES` bytes of UTF-8 (file systems
    count bytes: 255, less room for a suffix and the temporary name).
    """
    cleaned = UNSAFE_NAME.sub("_", name).strip(" .")
    cleaned = re.sub(r"\.{2,}", "_", cleaned)
    cleaned = re.sub(r"_+", "_", cleaned).strip("_ ") or cleaned
    if not cleaned or cleaned in (".", ".."):
        cleaned = fallback
    if WINDOWS_DEVICE.match(cleaned):
        cleaned = "_" + cleaned
    extension = re.search(r"\.[A-Za-z0-9]{1,8}$", cleaned)
    suffix = extension.group() if extension and extension.start() > 0 else ""
    stem = clip_bytes(cleaned[:len(cleaned) - len(suffix)], NAME_BYTES - len(suffix)).rstrip(" .")
    return stem + suffix if stem else fallback


def clip_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes (whole characters)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def safe_child(folder: Path, name: str, resolved: bool = False) -> Path:
    """``folder / name`` with ``name`` reduced to one safe component; never outside ``folder``.

    ``resolved``: ``folder`` is already resolved (a batch names thousands of files in one
    folder).  The child is resolved in full only when it exists as a symbolic link: a single
    safe component can lead elsewhere no other way.
    """
    folder = Path(folder) if resolved else Path(folder).resolve()
    return folder / safe_child_name(folder, name)


def safe_child_name(folder: Path, name: str) -> str:
    """The name of `safe_child` in ``folder`` (resolved), as a string: a batch names thousands
    of files, and pathlib parses every path it makes again."""
    clean = safe_filename(name)
    if os.path.islink(os.path.join(folder, clean)):  # one component is in the folder unless it is a link
        child = (folder / clean).resolve()
        if child.parent != folder:
            raise InputError(f"output name '{name}' would leave the output folder {folder}")
        return child.name
    return clean
