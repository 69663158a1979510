"""PDF form writer: every form drawn from its data with fpdf2, fields added with pypdf.

Page
    A4 (or A3) in the form's orientation, 15 mm margins.  The edition's number of the form
    (表7) at the top left, the title centred in the sans font, header lines, the grid, footer
    lines, then the notes.  Column widths are ``form.columns`` scaled to the printable width;
    row heights follow their content (at least 9 mm, or ``Row.height``).  Every cell is one
    rectangle however many rows and columns it spans (each border line is drawn once), and
    cells are drawn row by row, left to right: ``pdftotext -raw`` (drawing order) and
    ``pdftotext -layout`` (the page's lines) read the labels in order; plain ``pdftotext``
    reads a grid column by column, poppler's own guess at the layout.  What does not fit on
    a page (long notes, a grid taller than the page) continues on the next page, in blocks of
    rows that rowspans tie together; nothing is clipped.

Text
    Chinese has no spaces, so lines break between any two characters (runs of Latin letters
    and digits stay together when they fit; closing punctuation never starts a line).  Static
    text sets the row heights; a value too long for its box first wraps, then shrinks down to
    6 pt, and only then makes its row taller: it is never cut.  Values are drawn as text with
    the embedded fonts (pypdf would write CJK field values as ``??``), literally.

Fonts
    Noto Serif CJK SC for body text and values (for 宋体/仿宋), Noto Sans CJK SC Bold for the
    title, labels and headings (for 黑体), from Debian's fonts-noto-cjk; the SC face of a .ttc
    collection is picked by its name.  Other files (SimSun, FangSong on a bureau PC) through
    ``FormWriter(form, edition, fonts={"serif": path, "sans": path})`` or the environment
    variables ``FORMGEN_FONT_SERIF`` / ``FORMGEN_FONT_SANS``.  Fonts are embedded as subsets.
    A font file is parsed once per process; each document gets a light copy of it, and
    CID-keyed CFF fonts (Noto CJK) are subset by ``CffSource`` below in milliseconds instead
    of fontTools' half second.

Batches
    Filled forms are written without fpdf2 (`Canvas`, `BatchFonts`, end of this module): the
    static text's font subsets are made once per writer, layouts that depend only on the form
    or on a value seen before are made once and their operators reused, and a value that
    fits on one line takes `TextRun`; ``FormWriter(..., shortcuts=False)`` draws every record
    in full, byte for byte the same (tests compare them).  About 2 ms per filled form.

Boxes
    Every option of a choice, multi_choice or checkbox field is a vector square followed by
    its text; a ticked box gets a vector tick (two strokes): CJK fonts have no ☑.
    ``layout: vertical`` puts one option per line.

Fillable fields (blank PDFs only; a filled PDF has none)
    * text, date, number, id_number, phone, credit_code: a text field named ``<id>`` over the
      field's area (the cell, or the blank inside a line), ``/MaxLen`` from ``max_length``;
    * checkbox: a check box named ``<id>`` (on state ``/Yes``);
    * choice: a radio group named ``<id>``, one button per option box; button ``i`` (0-based)
      has the on state ``/i`` and ``/Opt`` lists the options' text;
    * multi_choice: one check box per option, named ``<id>.<i>`` (a parent field ``<id>`` with
      kids ``0``, ``1`` …; on state ``/Yes``);
    * signature, seal, photo: no field (signed, stamped or pasted on paper);
    * fields of a roster's repeating row carry the row's 序号: ``name_1``, ``name_2`` … and
      ``change_type_3.0``.
    Every widget has an appearance stream (empty for text, a tick for "on"); the box itself is
    part of the page, so the form prints the same with or without a forms-aware viewer.
"""
from __future__ import annotations

import copy
import functools
import logging
import os
import re
import struct
import zlib
from dataclasses import dataclass, field as dataclass_field
from io import BytesIO
from pathlib import Path

from .. import layout
from ..layout import NO_LINE_END, NO_LINE_START
from ..errors import RenderError
from ..models import Cell, Form, FormField, Line, Note, Segment
from ..yamlio import file_cache_entry, load_pickle, store_pickle

LOG = logging.getLogger(__name__)


class _Lazy:
    """A module imported on first use: filled forms never need fpdf2 or pypdf."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        from importlib import import_module
        return getattr(import_module(self._name), attr)


pdfobj = _Lazy("pypdf.generic")  # fillable fields of blank forms

# --------------------------------------------------------------------------
# Measures (millimetres unless the name says pt)
# --------------------------------------------------------------------------
PT = 25.4 / 72  # one point in mm
MARGIN = 15.0
BODY_PT = 10.0  # grid text, header and footer lines
NOTE_PT = 9.5
TITLE_PT = 16.0
NUMBER_PT = 11.0
MIN_PT = 6.0  # values shrink down to this before a row grows
SHRINK_STEP = 0.5
LINE_EM = 1.35  # line height
BASELINE_EM = 0.36  # baseline below the middle of a line (CJK glyphs sit on an em box)
PAD_X, PAD_Y = 1.2, 0.8  # inside a cell
MIN_ROW = 9.0
GRID_LINE = 0.3
BOX_EM = 0.8  # a check box's side (10 pt: 2.8 mm)
BOX_SLOT_EM = 1.25  # the space a box takes in a line: a gap, the box, a gap before its text
BOX_LEAD_EM = 0.15
TICK_LINE = 0.35
SHORT_LABEL = 10  # characters: a label this short is not broken across lines
SHORT_WORD = 6  # …and in a cell, where room is tight, words this short
GROUP_GAP_EM = 1.5  # between the label-and-blank groups of a header or footer line
TEXT_LIKE = {"text", "date", "number", "id_number", "phone", "credit_code"}
BOX_TYPES = {"choice", "multi_choice", "checkbox"}
LATIN = re.compile(r"[A-Za-z0-9@#&_\-+=/\\.:%~*{}<>'\"$^|]+|\s+|.", re.S)
PAPER = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}
SPACE = re.compile(r"\s")
ALIGN_FACTOR = {"left": 0.0, "center": 0.5, "right": 1.0}
DATE = FormField(id="date", label="date", type="date")  # for the paper's own 年 月 日

# --------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------
FONT_ENV = {"serif": "FORMGEN_FONT_SERIF", "sans": "FORMGEN_FONT_SANS"}
FONT_FILES = {"serif": "NotoSerifCJK-Regular.ttc", "sans": "NotoSansCJK-Bold.ttc"}
FONT_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk",
             "/usr/share/fonts/google-noto-cjk", "/usr/local/share/fonts"]
_PARSED: dict[str, TTFFont] = {}  # parsed once per process, copied per document


def _default_font(role: str) -> str:
    candidates = [Path(d) / FONT_FILES[role] for d in FONT_DIRS]
    return str(next((p for p in candidates if p.exists()), candidates[0]))


def _font_path(role: str, given: dict) -> str:
    return str(given.get(role) or os.environ.get(FONT_ENV[role]) or _default_font(role))


def _face_index(path: str) -> int:
    """The Simplified Chinese face of a collection (Noto's .ttc holds JP, KR, SC, TC, HK)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection
    names = [face["name"].getDebugName(1) or "" for face in TTCollection(path, lazy=True).fonts]
    return next((i for i, name in enumerate(names) if re.search(r"\bSC\b", name) and "Mono" not in name), 0)


def _parsed_font(path: str, role: str) -> TTFFont:
    if not Path(path).is_file():
        raise RenderError(
            f"font file not found: {path} (the {role} font of PDF forms). Fix: apt-get install "
            f"fonts-noto-cjk, or set {FONT_ENV[role]} to a .ttf/.otf/.ttc font file (e.g. SimSun)")
    try:
        if path not in _PARSED:
            _PARSED[path] = _cached_font(path, role) or _parse_font(path, role)
        return _PARSED[path]
    except (_ttlib_error(), ValueError, OSError, KeyError, AssertionError) as exc:
        raise RenderError(f"cannot read the {role} font {path}: {exc}. Fix: point "
                          f"{FONT_ENV[role]} at a TrueType/OpenType font file") from exc


def _ttlib_error() -> type:
    from fontTools.ttLib import TTLibError  # (evaluated only when an exception is being matched)
    return TTLibError


def _parse_font(path: str, role: str) -> "TTFFont":
    from fpdf import FPDF
    index = _face_index(path)
    scratch = FPDF()
    scratch.add_font(role, "", path, collection_font_number=index)
    parsed = scratch.fonts[role]
    parsed.close()  # documents open their own copy; the tables read stay in memory once
    parsed.ttfont = None
    _cache_font(path, parsed)
    return parsed


# Parsing a CJK font (its face in the collection, cmap, 65,000 widths) takes seconds on every
# command.  What fpdf2 read from it is pickled under a key made of the font file's path, size
# and modification time (and fpdf2's version), so another font or an edited file is a new
# key.  FORMGEN_CACHE=off disables it, as it does the YAML cache; an unreadable entry is
# ignored and parsed again.  An entry holds what filled forms need as plain data
# (`CachedFont`, read without importing fpdf2) and fpdf2's own object, pickled apart and
# unpickled only for a document fpdf2 writes (blank forms, booklets).
CACHE_FORMAT = "3"


@functools.lru_cache(maxsize=1)
def _fpdf_version() -> str:
    from importlib.metadata import version
    return version("fpdf2")  # reads fpdf2's metadata file: once, not per cache lookup


def _font_cache_file(path: str) -> Path | None:
    return file_cache_entry("fonts", Path(path), CACHE_FORMAT, _fpdf_version())


class CachedFont:
    """A parsed font as the font cache keeps it: what formgen reads, as plain data.

    Filled forms need only this; `ttffont()` gives fpdf2's object (for `_attach_font`),
    unpickled on first use.
    """

    def __init__(self, plain: dict, fpdf_state: bytes, path: str, role: str):
        from collections import defaultdict
        from types import SimpleNamespace
        self.name = plain["name"]
        self.glyph_ids = plain["glyph_ids"]
        # formgen asks the cmap only which characters the font has: the glyph ids' keys
        # answer that, and the cache leaves out fpdf2's 45,000 glyph names (a third of its load)
        self.cmap = plain["cmap"] if plain["cmap"] is not None else self.glyph_ids
        self.collection_font_number = plain["collection_font_number"]
        self.is_cff, self.is_cid_keyed = plain["is_cff"], plain["is_cid_keyed"]
        self.desc = SimpleNamespace(**plain["desc"])
        default_width = self.desc.missing_width
        self.cw = defaultdict(lambda: default_width, plain["widths"])
        self.ttffile = Path(path)
        self.fontkey = role
        self._fpdf_state = fpdf_state
        self._ttffont = None

    def ttffont(self) -> "TTFFont":
        if self._ttffont is None:
            import pickle
            from fpdf.fonts import TTFFont
            font = TTFFont.__new__(TTFFont)
            for name, value in pickle.loads(self._fpdf_state).items():
                setattr(font, name, value)
            font.ttffile = self.ttffile
            font.fontkey = self.fontkey
            font.cw = self.cw
            font.subset = None  # every document attaches its own (`_attach_font`)
            self._ttffont = font
        return self._ttffont


DESCRIPTOR_KEYS = ("ascent", "descent", "cap_height", "flags", "font_b_box", "italic_angle", "stem_v",
                   "missing_width")


def _cached_font(path: str, role: str) -> CachedFont | None:
    try:
        plain, fpdf_state = load_pickle(_font_cache_file(path))
        return CachedFont(plain, fpdf_state, path, role)
    except Exception:  # no entry, or a damaged or foreign one: parse the font instead
        return None


def _cache_font(path: str, parsed: "TTFFont") -> None:
    import pickle
    from fpdf.fonts import TTFFont
    try:
        target = _font_cache_file(path)
        if target is None:
            return
        state = {name: getattr(parsed, name) for name in TTFFont.__slots__
                 if name not in ("cw", "subset") and hasattr(parsed, name)}
        desc = {key: getattr(parsed.desc, key) for key in DESCRIPTOR_KEYS}
        desc["flags"] = getattr(desc["flags"], "value", desc["flags"])
        same_keys = parsed.cmap.keys() == parsed.glyph_ids.keys()
        plain = {"name": parsed.name, "cmap": None if same_keys else parsed.cmap, "glyph_ids": parsed.glyph_ids,
                 "collection_font_number": parsed.collection_font_number, "is_cff": parsed.is_cff,
                 "is_cid_keyed": parsed.is_cid_keyed, "desc": desc, "widths": dict(parsed.cw)}
        entry = (plain, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, AttributeError, OSError):
        return
    store_pickle(target, entry)


# --------------------------------------------------------------------------
# Fast subsets of CID-keyed CFF fonts (Noto CJK)
#
# fontTools subsets a 65,000-glyph CJK font in about 0.5 s per document, most of it reading
# the whole font and re-running every glyph program; a batch of thousands of filled forms
# cannot afford that.  A CID-keyed CFF is simple enough to subset at the byte level: each
# used glyph's program is copied with its subroutine calls inlined (cached per glyph for the
# process), and a small CFF without subroutines is written around them.  Fonts that are not
# CID-keyed CFF (SimSun is TrueType) take fpdf2's own path, as does everything else if this
# font cannot be read (``CffSource`` raises, the font is then embedded the usual way).
# --------------------------------------------------------------------------
class CffUnsupported(Exception):
    """The font is not a CID-keyed CFF this subsetter understands."""


def _read_index(data: bytes, pos: int) -> tuple[list[int], int]:
    """Offsets (absolute, count + 1 of them) of a CFF INDEX at ``pos``, and where it ends."""
    raw, base = _index_offsets(data, pos)
    if not raw:
        return [], pos + 2
    offsets = [base + offset for offset in raw]
    return offsets, offsets[-1]


class _Offsets:
    """The absolute offsets of a big CFF INDEX (glyphs, subroutines), each computed when read:
    a glyph INDEX has 65,000 of them and a batch reads a few hundred."""

    __slots__ = ("raw", "base")

    def __init__(self, data: bytes, pos: int):
        self.raw, self.base = _index_offsets(data, pos)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: int) -> int:
        return self.base + self.raw[index]


def _index_offsets(data: bytes, pos: int) -> tuple[tuple[int, ...], int]:
    """A CFF INDEX's offsets as stored (relative) and the base they are relative to."""
    count = int.from_bytes(data[pos:pos + 2], "big")
    if count == 0:
        return (), pos + 2
    size = data[pos + 2]
    first = pos + 3
    base = first + (count + 1) * size - 1
    if size in (1, 2, 4):  # a glyph INDEX has 65,000 offsets: unpacked at once
        raw = struct.unpack_from(f">{count + 1}{' BH I'[size]}", data, first)
    else:  # 3 bytes each: spread into 4 (a zero in front) and unpacked the same way
        packed = bytes(data[first:first + (count + 1) * 3])
        spread = bytearray(4 * (count + 1))
        for byte in range(3):
            spread[byte + 1::4] = packed[byte::3]
        raw = struct.unpack(f">{count + 1}I", spread)
    return raw, base


def _index_items(data: bytes, offsets: list[int]) -> list[bytes]:
    return [data[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def _parse_dict(data: bytes) -> list[tuple[int, bytes, list]]:
    """A CFF DICT as (operator, raw operand bytes, integer operands) entries, in order."""
    entries, operands, values = [], bytearray(), []
    i = 0
    while i < len(data):
        b = data[i]
        if b <= 21:
            op = 1200 + data[i + 1] if b == 12 else b
            i += 2 if b == 12 else 1
            entries.append((op, bytes(operands), values))
            operands, values = bytearray(), []
            continue
        start = i
        if b == 28:
            values.append(int.from_bytes(data[i + 1:i + 3], "big", signed=True))
            i += 3
        elif b == 29:
            values.append(int.from_bytes(data[i + 1:i + 5], "big", signed=True))
            i += 5
        elif b == 30:  # a real: nibbles up to 0xf; its value is never needed here
            i += 1
            while data[i] & 0x0F != 0x0F and data[i] >> 4 != 0x0F:
                i += 1
            i += 1
            values.append(None)
        elif 32 <= b <= 246:
            values.append(b - 139)
            i += 1
        elif 247 <= b <= 250:
            values.append((b - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b <= 254:
            values.append(-(b - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise CffUnsupported(f"bad DICT byte {b}")
        operands += data[start:i]
    return entries


def _dict_value(entries, op: int) -> list | None:
    return next((values for o, _, values in entries if o == op), None)


def _dict_int(value: int) -> bytes:
    """A DICT integer in its fixed five-byte form, so offsets can be filled in afterwards."""
    return b"\x1d" + value.to_bytes(4, "big", signed=True)


def _write_index(items: list[bytes]) -> bytes:
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = next(n for n in (1, 2, 3, 4) if offsets[-1] < 1 << (8 * n))
    head = len(items).to_bytes(2, "big") + bytes([size])
    if size == 3:
        packed = b"".join(o.to_bytes(3, "big") for o in offsets)
    else:
        packed = struct.pack(f">{len(offsets)}{' BH I'[size]}", *offsets)
    return head + packed + b"".join(items)


def _subr_bias(count: int) -> int:
    return 107 if count < 1240 else 1131 if count < 33900 else 32768


class CffSource:
    """A CID-keyed CFF font read once per process: glyph programs, subroutines, font dicts."""

    def __init__(self, data: bytes):
        self.data = data
        if data[0] != 1:
            raise CffUnsupported("not CFF version 1")
        _, pos = _read_index(data, data[2])  # names
        top_offsets, pos = _read_index(data, pos)
        _, pos = _read_index(data, pos)  # strings
        self.global_subrs = _Offsets(data, pos)
        top = _parse_dict(_index_items(data, top_offsets)[0])
        if _dict_value(top, 1230) is None:  # ROS
            raise CffUnsupported("not CID-keyed")
        self.bbox = next(raw for op, raw, _ in top if op == 5) if _dict_value(top, 5) else b""
        self.charstrings = _Offsets(data, _dict_value(top, 17)[0])
        self.fd_select = self._read_fd_select(_dict_value(top, 1237)[0], len(self.charstrings) - 1)
        fd_offsets, _ = _read_index(data, _dict_value(top, 1236)[0])
        self.privates, self.local_subrs = [], []
        for font_dict in _index_items(data, fd_offsets):
            self._read_private(_dict_value(_parse_dict(font_dict), 18))
        self.flat: dict[int, bytes] = {}

    def _read_fd_select(self, pos: int, glyphs: int) -> bytes:
        data = self.data
        if data[pos] == 0:
            return data[pos + 1:pos + 1 + glyphs]
        if data[pos] != 3:
            raise CffUnsupported(f"FDSelect format {data[pos]}")
        ranges = int.from_bytes(data[pos + 1:pos + 3], "big")
        table = bytearray(glyphs)
        for r in range(ranges):
            at = pos + 3 + r * 3
            first = int.from_bytes(data[at:at + 2], "big")
            end = int.from_bytes(data[at + 3:at + 5], "big")
            table[first:end] = bytes([data[at + 2]]) * (end - first)
        return bytes(table)

    def _read_private(self, size_offset: list) -> None:
        size, offset = size_offset
        entries = _parse_dict(self.data[offset:offset + size])
        subrs = _dict_value(entries, 19)
        self.local_subrs.append(_Offsets(self.data, offset + subrs[0]) if subrs else [])
        # the private dict as written, less its subroutines (the subset has none)
        self.privates.append(b"".join(raw + _op_bytes(op) for op, raw, _ in entries if op != 19))

    # -- glyph programs ---------------------------------------------------------
    def program(self, gid: int) -> bytes:
        """The glyph's Type 2 charstring with every subroutine call inlined (cached)."""
        flat = self.flat.get(gid)
        if flat is None:
            out = bytearray()
            local = self.local_subrs[self.fd_select[gid]]
            _inline(self.data, self.charstrings[gid], self.charstrings[gid + 1], local,
                    self.global_subrs, out, [0, 0, -1, 0, False], 0)
            flat = self.flat[gid] = bytes(out)
        return flat

    def subset(self, glyphs: list[tuple[int, int]]) -> bytes:
        """A CFF holding ``glyphs`` (code, glyph id), each at CID = its code (Identity-H)."""
        glyphs = sorted(set(glyphs))
        if not glyphs or glyphs[0][0] != 0:
            glyphs.insert(0, (0, 0))
        else:
            glyphs[0] = (0, 0)  # CID 0 is always .notdef
        fds = sorted({self.fd_select[gid] for _, gid in glyphs})
        fd_index = {fd: i for i, fd in enumerate(fds)}
        charset = b"\x00" + b"".join(code.to_bytes(2, "big") for code, _ in glyphs[1:])
        fd_select = b"\x00" + bytes(fd_index[self.fd_select[gid]] for _, gid in glyphs)
        charstrings = _write_index([self.program(gid) for _, gid in glyphs])
        return _assemble_cff(glyphs[-1][0] + 1, self.bbox, charset, fd_select, charstrings,
                             [self.privates[fd] for fd in fds])


def _op_bytes(op: int) -> bytes:
    return bytes([12, op - 1200]) if op >= 1200 else bytes([op])


CFF_HEADER = b"\x01\x00\x04\x04"
CFF_NAMES = _write_index([b"FormgenSubset"])
CFF_STRINGS = _write_index([b"Adobe", b"Identity"])
CFF_NO_SUBRS = _write_index([])


def _assemble_cff(cid_count: int, bbox: bytes, charset: bytes, fd_select: bytes, charstrings: bytes,
                  privates: list[bytes]) -> bytes:
    """Header, names, top dict, strings, (no) global subrs, then the tables they point to."""
    header, names, strings, no_subrs = CFF_HEADER, CFF_NAMES, CFF_STRINGS, CFF_NO_SUBRS

    def top_dict(charset_at, fd_select_at, charstrings_at, fd_array_at):
        return (_sid(391) + _sid(392) + bytes([139]) + b"\x0c\x1e"  # ROS Adobe Identity 0
                + _dict_int(cid_count) + b"\x0c\x22" + (bbox + b"\x05" if bbox else b"")
                + _dict_int(charset_at) + b"\x0f" + _dict_int(fd_select_at) + b"\x0c\x25"
                + _dict_int(charstrings_at) + b"\x11" + _dict_int(fd_array_at) + b"\x0c\x24")

    top_size = len(_write_index([top_dict(0, 0, 0, 0)]))
    charset_at = len(header) + len(names) + top_size + len(strings) + len(no_subrs)
    fd_select_at = charset_at + len(charset)
    charstrings_at = fd_select_at + len(fd_select)
    fd_array_at = charstrings_at + len(charstrings)
    font_dicts = [_dict_int(0) + _dict_int(0) + b"\x12" for _ in privates]
    private_at = fd_array_at + len(_write_index(font_dicts))
    font_dicts = []
    for private in privates:
        font_dicts.append(_dict_int(len(private)) + _dict_int(private_at) + b"\x12")
        private_at += len(private)
    top = _write_index([top_dict(charset_at, fd_select_at, charstrings_at, fd_array_at)])
    return b"".join([header, names, top, strings, no_subrs, charset, fd_select, charstrings,
                     _write_index(font_dicts), *privates])


def _sid(sid: int) -> bytes:
    return b"\x1c" + sid.to_bytes(2, "big")


HINT_OPS = {1, 3, 18, 23}  # hstem vstem hstemhm vstemhm
MASK_OPS = {19, 20}  # hintmask cntrmask: followed by mask bytes


def _inline(data: bytes, start: int, end: int, local: list[int], global_: list[int], out: bytearray,
            state: list, depth: int) -> bool:
    """Copy a charstring into ``out``, inlining subroutines; True once endchar is reached.

    ``state`` is [operands on the stack, stems declared, where the last number starts in
    ``out`` (-1 after an operator), its value, whether a hint mask was seen]: a hint mask is
    as many bits long as there are stems (operands before the first mask are an implicit
    vstem), and a subroutine's number is the last number pushed (perhaps by a subroutine).
    """
    if depth > 10:
        raise CffUnsupported("subroutines nested too deep")
    i = start
    while i < end:
        b = data[i]
        if b >= 32 or b == 28:
            size = 3 if b == 28 else 1 if b <= 246 else 2 if b <= 254 else 5
            state[2], state[3] = len(out), _charstring_number(data, i, b)
            out += data[i:i + size]
            state[0] += 1
            i += size
            continue
        if b in (10, 29):  # callsubr, callgsubr
            if state[2] < 0 or state[3] is None:
                raise CffUnsupported("subroutine number is not a literal")
            del out[state[2]:]
            state[0] -= 1
            state[2] = -1
            subrs = local if b == 10 else global_
            n = state[3] + _subr_bias(len(subrs) - 1)
            if _inline(data, subrs[n], subrs[n + 1], local, global_, out, state, depth + 1):
                return True
            i += 1
            continue
        if b == 11:  # return
            return False
        state[2] = -1
        if b == 14:  # endchar
            out.append(b)
            return True
        if b in HINT_OPS or (b in MASK_OPS and not state[4]):
            state[1] += state[0] // 2
        if b in MASK_OPS:
            state[4] = True
        size = 1 + (state[1] + 7) // 8 if b in MASK_OPS else 2 if b == 12 else 1
        if b == 12 and data[i + 1] not in (34, 35, 36, 37):  # flex is fine; arithmetic is unexpected
            raise CffUnsupported(f"charstring operator 12 {data[i + 1]}")
        out += data[i:i + size]
        state[0] = 0
        i += size
    return False


def _charstring_number(data: bytes, i: int, b: int):
    if b == 28:
        return int.from_bytes(data[i + 1:i + 3], "big", signed=True)
    if b <= 246:
        return b - 139
    if b <= 250:
        return (b - 247) * 256 + data[i + 1] + 108
    if b <= 254:
        return -(b - 251) * 256 - data[i + 1] - 108
    return None  # 16.16 fixed: never a subroutine number


_CFF: dict[tuple[str, int], CffSource | None] = {}


def _cff_source(parsed: TTFFont) -> CffSource | None:
    """The byte-level reader of a font when it is a CID-keyed CFF, else None (read once)."""
    key = (str(parsed.ttffile), parsed.collection_font_number)
    if key not in _CFF:
        try:
            data = _table_bytes(str(parsed.ttffile), parsed.collection_font_number, "CFF ")
            _CFF[key] = CffSource(data) if data is not None else None
        except (CffUnsupported, KeyError, IndexError, TypeError, ValueError, OSError, struct.error):
            _CFF[key] = None
        if _CFF[key] is not None:
            _load_programs(_CFF[key], *key)
    return _CFF[key]


# Inlining a glyph's subroutines costs about half a millisecond; a batch of names meets a
# thousand or more glyphs.  The programs made are kept beside the font cache (saved when the
# process ends, merged with what is there) so the next batch starts with them.
_PROGRAMS_SEEN: dict[tuple[str, int], int] = {}


def _programs_file(path: str, face: int) -> Path | None:
    """Where a face's inlined glyph programs are kept, beside its font cache; None without a cache
    (FORMGEN_CACHE=off, or a font file that cannot be looked at)."""
    try:
        entry = _font_cache_file(path)
    except OSError:
        return None
    return entry.with_name(f"{entry.stem}-{face}.programs") if entry is not None else None


def _load_programs(source: CffSource, path: str, face: int) -> None:
    import atexit
    target = _programs_file(path, face)
    if target is None:
        return
    programs = load_pickle(target)  # None when missing or damaged: glyphs are inlined again
    if isinstance(programs, dict):
        source.flat.update(programs)
    _PROGRAMS_SEEN[(path, face)] = len(source.flat)
    atexit.register(_save_programs, source, path, face)


def _save_programs(source: CffSource, path: str, face: int) -> None:
    if len(source.flat) <= _PROGRAMS_SEEN.get((path, face), 0):
        return
    target = _programs_file(path, face)
    if target is None:
        return
    stored = load_pickle(target)  # another run may have added glyphs meanwhile
    programs = {**stored, **source.flat} if isinstance(stored, dict) else dict(source.flat)
    store_pickle(target, programs)


SFNT_VERSIONS = (b"\x00\x01\x00\x00", b"OTTO", b"true")


def _table_bytes(path: str, face: int, tag: str):
    """A table of a font file (face ``face`` of a collection), mapped rather than read: a CJK
    font's CFF is 23 MB, of which a batch touches the glyph index and the glyphs it prints.
    The table directory is read here (fontTools is not imported for it); None when the font
    has no such table.  Other containers (WOFF …) go through fontTools, which unpacks them."""
    import mmap
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    start = 0
    if mapped[:4] == b"ttcf":
        start = struct.unpack_from(">I", mapped, 12 + 4 * face)[0]
    if mapped[start:start + 4] not in SFNT_VERSIONS:
        from fontTools.ttLib import TTFont
        reader = TTFont(path, fontNumber=face, lazy=True).reader
        return reader[tag] if tag in reader.tables else None
    count = struct.unpack_from(">H", mapped, start + 4)[0]
    for n in range(count):
        name, _, offset, length = struct.unpack_from(">4sIII", mapped, start + 12 + 16 * n)
        if name == tag.encode("latin-1"):
            return memoryview(mapped)[offset:offset + length]
    return None


def _attach_font(pdf: "FPDF", family: str, parsed: "TTFFont | CachedFont") -> None:
    """Give ``pdf`` its own copy of a parsed font.

    The tables read from the file (cmap, widths) are shared; the subset, the descriptor and
    the fontTools object are per document (fpdf2 subsets that object in place when writing).
    """
    from fpdf.fonts import SubsetMap
    if isinstance(parsed, CachedFont):
        parsed = parsed.ttffont()
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.fontkey = family
    font.desc = copy.copy(parsed.desc)
    from fontTools.ttLib import TTFont
    font.ttfont = TTFont(parsed.ttffile, fontNumber=parsed.collection_font_number, lazy=True,
                         recalcTimestamp=False, recalcBBoxes=False)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)
    pdf.fonts[family] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")  # as add_font() does for CID-keyed CFF fonts
    source = _cff_source(parsed)
    if source is not None:
        pdf.formgen_cff_sources[family] = source


def _fast_font_producer():
    """fpdf2's producer class with our CFF embedding (defined on first use: fpdf2 is imported
    only by documents it writes)."""
    global _PRODUCER
    if _PRODUCER is not None:
        return _PRODUCER
    from fpdf.output import (CIDSystemInfo, OutputProducer, PDFContentStream, PDFFont, PDFFontStream,
                             _build_cmap_blocks, _cid_font_widths)
    from fpdf.syntax import Name, PDFArray, PDFString

    class FastFontProducer(OutputProducer):
        """fpdf2's PDF producer, embedding our CID-keyed CFF fonts with ``CffSource.subset``.

        fpdf2 documents ``output(output_producer_class=…)`` for custom producers; the fonts it
        does not know (everything but ours) still go through its own ``_add_fonts``.
        """

        def _add_fonts(self, *args, **kwargs):
            registry = self.fpdf.fonts  # a dict owned by fpdf2: emptied of ours for its own call
            programs = {}
            for key, source in getattr(self.fpdf, "formgen_cff_sources", {}).items():
                glyphs = _used_glyphs(registry[key])
                try:
                    program = source.subset([(code, glyph.glyph_id) for code, glyph in glyphs.items() if code])
                    programs[key] = (glyphs, program)
                except (CffUnsupported, IndexError, ValueError):
                    continue  # fpdf2 embeds this one itself (slower, same result)
            all_fonts = dict(registry)
            for key in programs:
                del registry[key]
            try:
                objects = super()._add_fonts(*args, **kwargs)
            finally:
                registry.clear()
                registry.update(all_fonts)
            for key, (glyphs, program) in programs.items():
                font = all_fonts[key]
                if font.missing_glyphs:  # as fpdf2 reports it for the fonts it embeds
                    missing = "".join(chr(c) for c in font.missing_glyphs[:20])
                    LOG.warning("font %s has no glyph for %r; those characters are not printed", font.name, missing)
                objects[font.i] = self._embed_cff(font, glyphs, program)
                font.subset.pick.cache_clear()  # these caches are per class: free this document's glyphs
                font.subset.get_glyph.cache_clear()
                font.close()  # the font file handle opened for this document
            return objects

        def _embed_cff(self, font: TTFFont, glyphs: dict, cff: bytes):
            """The objects of a Type0 font over a CIDFontType0 whose CIDs are our codes (Identity-H)."""
            name = f"{_subset_tag(font, glyphs)}+{font.name}"
            program = PDFFontStream(contents=cff)
            program.subtype = Name("CIDFontType0C")
            self._add_pdf_obj(program, "fonts")
            descriptor = font.desc
            descriptor.font_name = Name(name)
            descriptor.font_file3 = program
            self._add_pdf_obj(descriptor, "fonts")
            system = CIDSystemInfo()
            system.registry = PDFString("Adobe", encrypt=True)
            system.ordering = PDFString("Identity", encrypt=True)
            system.supplement = 0
            self._add_pdf_obj(system, "fonts")
            widths = {code: g.glyph_width for code, g in glyphs.items()}
            descendant = PDFFont(subtype="CIDFontType0", base_font=name, d_w=descriptor.missing_width,
                                 w=_cid_font_widths(widths))
            descendant.c_i_d_system_info = system
            descendant.font_descriptor = descriptor
            self._add_pdf_obj(descendant, "fonts")
            composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
            composite.descendant_fonts = PDFArray([descendant])
            composite.to_unicode = self._to_unicode(glyphs)
            self._add_pdf_obj(composite, "fonts")
            return composite

        def _to_unicode(self, glyphs: dict) -> PDFContentStream:
            """The code → text map that makes the PDF's text searchable and extractable."""
            entries = [f"<{code:04X}> <{''.join(_utf16_hex(u) for u in g.unicode)}>\n"
                       for code, g in sorted(glyphs.items()) if isinstance(g.unicode, tuple) and g.unicode]
            cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                    "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
                    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                    f"{_build_cmap_blocks(entries, 'bfchar')}"
                    "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
            stream = PDFContentStream(cmap.encode("latin-1"))
            self._add_pdf_obj(stream, "fonts")
            return stream

    _PRODUCER = FastFontProducer
    return _PRODUCER


_PRODUCER = None


def __getattr__(name: str):
    if name == "FastFontProducer":  # `from .pdf import FastFontProducer` (booklet_pdf)
        return _fast_font_producer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _used_glyphs(font: TTFFont) -> dict:
    """Code → glyph of every character the document drew with ``font``."""
    return {code: glyph for glyph, code in font.subset.items() if glyph is not None}


@functools.lru_cache(maxsize=65536)
def _utf16_hex(code: int) -> str:
    return chr(code).encode("utf-16-be").hex().upper()


def _subset_tag(font: TTFFont, glyphs: dict) -> str:
    """Six capital letters naming this subset (PDF 9.6.4), from the glyphs it holds."""
    held = repr(sorted((code, glyph.glyph_id) for code, glyph in glyphs.items()))
    number = zlib.crc32(f"{font.name}{held}".encode())
    return "".join(chr(65 + (number >> (5 * i)) % 26) for i in range(6))


class _Fonts:
    """The two fonts of a writer, with their character widths for line breaking."""

    def __init__(self, given: dict | None):
        given = given or {}
        unknown = set(given) - set(FONT_ENV)
        if unknown:
            raise RenderError(f"unknown font role(s) {sorted(unknown)}; use 'serif' and 'sans'")
        self.parsed = {role: _parsed_font(_font_path(role, given), role) for role in FONT_ENV}
        self.widths = {role: font.cw for role, font in self.parsed.items()}
        self._ems: dict[tuple[str, str], float] = {}
        self._chars: dict[str, frozenset] = {}  # per role, every character the font has

    def em(self, role: str, text: str) -> float:
        key = (role, text)
        width = self._ems.get(key)
        if width is None:  # labels and options are measured again for every record: once is enough
            widths = self.widths[role]
            width = sum(widths[ord(c)] for c in text) / 1000
            if len(self._ems) > 100_000:
                self._ems.clear()
            self._ems[key] = width
        return width

    def missing(self, role: str, text: str) -> str:
        """The characters of ``text`` the font has no glyph for (fpdf2 would leave them out)."""
        if self.printable(role).issuperset(text):  # the usual case, checked for every value
            return ""
        cmap = self.parsed[role].cmap
        return "".join(dict.fromkeys(c for c in text if ord(c) not in cmap and not c.isspace()))

    def printable(self, role: str) -> frozenset:
        """Every character the font of ``role`` has."""
        chars = self._chars.get(role)
        if chars is None:
            chars = self._chars[role] = frozenset(map(chr, self.parsed[role].cmap))
        return chars

    def attach(self, pdf: FPDF) -> None:
        for role, parsed in self.parsed.items():
            _attach_font(pdf, role, parsed)


# --------------------------------------------------------------------------
# Inline layout: atoms broken into lines
# --------------------------------------------------------------------------
@dataclass(eq=False)
class Widget:
    """A fillable field of a blank PDF; its rectangles are recorded while drawing."""

    kind: str  # text | check | radio | multi
    name: str
    label: str = ""  # shown by viewers as the field's tooltip
    option: int | None = None
    options: tuple[str, ...] = ()
    max_len: int | None = None


@dataclass(eq=False)
class Atom:
    """An unbreakable piece of a line, ``em`` wide at the line's font size."""

    em: float
    kind: str = "text"  # text | box | blank | space | newline | break (marks where a newline was)
    text: str = ""
    font: str = "serif"
    glue: bool = False  # no line break before it
    underline: bool = False
    checked: bool = False
    widget: Widget | None = None


@dataclass
class Para:
    atoms: list[Atom]
    indent: float = 0.0  # em, for the lines after the first (numbered items)
    block: bool = False  # lines aligned left inside a block that is aligned as a whole


@dataclass
class LaidLine:
    items: list[tuple[Atom, float, float]]  # atom, x, width (mm, from the box's left)


@dataclass
class Layout:
    lines: list[LaidLine]
    size: float  # pt
    reading: str | None = dataclass_field(default=None, repr=False, compare=False)  # `layout_text`, once

    @property
    def line_height(self) -> float:
        return self.size * PT * LINE_EM

    @property
    def height(self) -> float:
        return len(self.lines) * self.line_height


def layout_text(laid: "Layout | TextRun") -> str:
    """What a laid-out text reads as: its characters and spaces, boxes as □/☑, typed line
    breaks kept, lines wrapped to fit run together."""
    if isinstance(laid, TextRun):  # one run of plain text: no atoms to walk
        return laid.text
    if laid.reading is not None:  # a layout reused across a batch (labels, notes, choices) is read once
        return laid.reading
    out = []
    for line in laid.lines:
        for atom, _, _ in line.items:
            if atom.kind in ("text", "space"):
                out.append(atom.text)
            elif atom.kind == "box":
                out.append("☑" if atom.checked else "□")
            elif atom.kind == "break":
                out.append("\n")
    laid.reading = "".join(out)
    return laid.reading


class TextRun:
    """A value that fits on one line of its cell: a `Layout` of one run of body text.

    The fast path for the values that change with every record (names, ID numbers,
    addresses): no atoms are made and the run is drawn with one ``text`` call.  It gives
    exactly what `lay_out` and `Painter` give for the same value (`FormWriter.text_run`
    says when it applies; ``lines`` is the general path's, for whoever asks).
    """

    __slots__ = ("text", "x", "size", "width", "align", "font", "composer", "_lines")

    def __init__(self, text: str, x: float, size: float, width: float, align: str, composer: "Composer"):
        self.text, self.x, self.size, self.width, self.align = text, x, size, width, align
        self.font, self.composer, self._lines = "serif", composer, None

    @property
    def line_height(self) -> float:
        return self.size * PT * LINE_EM

    @property
    def height(self) -> float:
        return 1 * self.line_height  # as Layout.height: len(lines) * line_height

    @property
    def lines(self) -> list[LaidLine]:
        if self._lines is None:
            self._lines = lay_out([Para(self.composer.text(self.text, self.font))], self.width, self.size,
                                  self.align).lines
        return self._lines


def lay_out(paras: list[Para], width: float, size: float, align: str) -> Layout:
    unit = size * PT
    lines = []
    for para in paras:
        broken = _break_lines(para, width, unit)
        lines += _align(broken, width, align, para.block)
    return Layout(lines, size)


def _break_lines(para: Para, width: float, unit: float) -> list[list[tuple[Atom, float]]]:
    """Greedy line breaking; an atom wider than a line is split (text) or narrowed (blank).

    ``used`` is the current line's width, kept as a running total: the same additions in the
    same order as ``_used(line)``, so the same floats, without summing the line per atom.
    """
    lines: list[list[tuple[Atom, float]]] = [[]]
    indent = 0.0
    used = 0.0
    pending = list(reversed(para.atoms))
    while pending:
        atom = pending.pop()
        if atom.kind == "newline":
            lines.append([])
            indent = used = 0.0
            continue
        line = lines[-1]
        room = width - indent
        w = atom.em * unit
        if atom.kind == "space" and not line:
            continue
        if w > room and atom.kind == "text" and len(atom.text) > 1:
            pending += reversed(_split(atom))
            continue
        if line and used + w > room + 1e-6:
            if atom.kind == "space":
                lines.append([])
                indent = para.indent * unit
                used = 0.0
                continue
            carried = _carry(line, atom)
            lines.append(carried)
            used = _used(carried)
            indent = para.indent * unit
        placed = min(w, width - indent)
        lines[-1].append((atom, placed))
        used += placed
    return [line for line in map(_trim, lines) if line]


def _split(atom: Atom) -> list[Atom]:
    """A text run too long for any line, one atom per character (the first keeps its glue)."""
    per_char = atom.em / max(len(atom.text), 1)
    pieces = [Atom(per_char, "text", c, atom.font, glue=False, underline=atom.underline,
                   widget=atom.widget) for c in atom.text]
    pieces[0].glue = atom.glue
    return pieces


def _used(line: list[tuple[Atom, float]]) -> float:
    return sum(w for _, w in line)


def _carry(line: list[tuple[Atom, float]], atom: Atom) -> list[tuple[Atom, float]]:
    """Move the glued tail of ``line`` (the atoms that must stay with ``atom``) to a new line."""
    if not atom.glue:
        return []
    start = len(line)
    while start > 0 and line[start - 1][0].glue:
        start -= 1
    start -= 1  # the atom the chain is glued to
    if start <= 0:
        return []  # the whole line is one chain: break inside it
    carried = line[start:]
    del line[start:]
    return carried


def _trim(line: list[tuple[Atom, float]]) -> list[tuple[Atom, float]]:
    while line and line[-1][0].kind == "space":
        line.pop()
    return line


def _align(lines: list[list[tuple[Atom, float]]], width: float, align: str, block: bool) -> list[LaidLine]:
    factor = {"left": 0.0, "center": 0.5, "right": 1.0}[align]
    block_width = max((_used(line) for line in lines), default=0.0)
    laid = []
    for line in lines:
        used = block_width if block else _used(line)
        x = max(0.0, (width - used) * factor)
        items = []
        for atom, w in line:
            items.append((atom, x, w))
            x += w
        laid.append(LaidLine(items))
    return laid


def fit(paras: list[Para], width: float, height: float, size: float, align: str,
        shrink: bool) -> Layout:
    """Lay out at ``size``; when ``shrink``, step down to MIN_PT until it fits ``height``."""
    result = lay_out(paras, width, size, align)
    while shrink and result.height > height + 1e-6 and size > MIN_PT:
        size = max(MIN_PT, size - SHRINK_STEP)
        result = lay_out(paras, width, size, align)
    return result


# --------------------------------------------------------------------------
# Content: cells, lines and notes as paragraphs of atoms
# --------------------------------------------------------------------------
@dataclass
class Slot:
    """Where a field is drawn: its values, its name suffix, whether boxes are fillable."""

    page: layout.Page | None  # None: the blank form
    placed: layout.PlacedCell | None = None

    @property
    def blank(self) -> bool:
        return self.page is None

    def value(self, field_: FormField):
        if self.page is None:
            return None
        if self.placed is None:
            return self.page.values.get(field_.id)
        return layout.cell_value(self.page, self.placed, field_)

    def name(self, field_: FormField) -> str:
        if self.placed is None or self.placed.repeat_index is None:
            return field_.id
        first = self.page.first_number if self.page else 1
        return f"{field_.id}_{first + self.placed.repeat_index}"


def _frozen(value):
    """A value as a dictionary key (a multi_choice's list becomes a tuple)."""
    return tuple(value) if isinstance(value, list) else value


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value is False


class Composer:
    """Turns cells, lines and notes into paragraphs; static text goes through the edition."""

    def __init__(self, fonts: _Fonts, fill, bare: frozenset[int] = frozenset()):
        self.fonts = fonts
        self.fill = fill
        self.bare = bare  # `layout.bare_cells`: cells whose unfilled field prints nothing

    # -- atoms ------------------------------------------------------------
    def text(self, text: str, font: str = "serif", underline: bool = False,
             widget: Widget | None = None, glue_first: bool = False) -> list[Atom]:
        atoms = []
        previous = ""
        for piece in LATIN.findall(text):
            if "\n" in piece:  # a line break typed into a value (or a static text) is kept
                atoms.append(Atom(0, "newline"))
                atoms.append(Atom(0, "break"))  # …and read as one (`layout_text`)
                previous = piece
                continue
            if piece.isspace():
                space = self.fonts.em(font, piece)  # 　 (U+3000) is a whole em
                atoms.append(Atom(space, "space", piece, font=font, underline=underline))
                previous = piece
                continue
            glue = piece[0] in NO_LINE_START or previous[-1:] in NO_LINE_END
            atoms.append(Atom(self.fonts.em(font, piece), "text", piece, font, glue=glue,
                              underline=underline, widget=widget))
            previous = piece
        if atoms and glue_first:
            atoms[0].glue = True
        return atoms

    def static(self, text: str | None, font: str = "serif") -> list[Atom]:
        return self.text(self.fill(text) or "", font)

    @staticmethod
    def box(checked: bool, widget: Widget | None, glue: bool = False) -> Atom:
        return Atom(BOX_SLOT_EM, "box", checked=checked, widget=widget, glue=glue)

    @staticmethod
    def blank(em: float, widget: Widget | None, underline: bool = True, glue: bool = False) -> Atom:
        return Atom(em, "blank", underline=underline, widget=widget, glue=glue)

    @staticmethod
    def space(em: float) -> Atom:
        return Atom(em, "space")

    # -- fields -------------------------------------------------------------
    def options(self, field_: FormField, slot: Slot) -> list[Atom]:
        """□ option □ option …, ticked where the value says so."""
        value = slot.value(field_)
        if field_.type == "checkbox":
            widget = Widget("check", slot.name(field_), self.fill(field_.label)) if slot.blank else None
            return [self.box(layout.is_checked(field_, value), widget)]
        atoms: list[Atom] = []
        kind = "radio" if field_.type == "choice" else "multi"
        for index, option in enumerate(field_.options):
            if index and field_.layout == "vertical":
                atoms.append(Atom(0, "newline"))
            elif index:
                atoms.append(self.space(1.0))
            widget = (Widget(kind, slot.name(field_), f"{self.fill(field_.label)}：{self.fill(option)}", index,
                             tuple(self.fill(o) for o in field_.options)) if slot.blank else None)
            checked = layout.is_checked(field_, value, option)
            if field_.numbered_options:  # the paper's own "1.职工医保□": number, text, then the box
                label = self.static(f"{index + 1}.{option}")
                for n, atom in enumerate(label):
                    atom.glue = atom.glue or (n > 0 and len(option) <= SHORT_LABEL)
                atoms += label + [self.box(checked, widget, glue=True)]
                continue
            atoms.append(self.box(checked, widget))
            label = self.static(option)
            for n, atom in enumerate(label):  # an option's text starts on its box's line,
                atom.glue = atom.glue or n == 0 or len(option) <= SHORT_LABEL  # short ones stay whole
            atoms += label
        return atoms + self._unlisted(field_, value)

    def _unlisted(self, field_: FormField, value) -> list[Atom]:
        """A value that is none of the options (only a caller that skipped validation sends
        one) is printed after them rather than lost."""
        chosen = value if isinstance(value, list) else [value] if value else []
        extra = [str(v) for v in chosen if v not in field_.options]
        if not extra:
            return []
        return [self.space(1.0)] + self.text("、".join(extra), underline=True)

    def inline_field(self, field_: FormField, slot: Slot) -> list[Atom]:
        """A field inside a line of text: boxes, or an underlined blank or value."""
        if field_.type in BOX_TYPES:
            return self.options(field_, slot) + self._hint(field_, slot)
        value = slot.value(field_)
        if field_.type == "photo":
            return []
        if not _empty(value):  # written on the line: a little room either side, kept with it
            written = self.text(str(value), underline=True, glue_first=True)
            return [self.blank(0.25, None, underline=False)] + written + [self.blank(0.25, None, False, True)]
        widget = self._text_widget(field_, slot)
        if field_.type == "date":
            return self._date_blank(widget)
        if field_.type == "seal":
            return [self.blank(6.0, None, underline=False)]
        if field_.hint and slot.blank:
            return self.text(self.fill(field_.hint), widget=widget)  # the seed's sample (XXXX)
        return [self.blank(_blank_em(field_), widget)]

    def _date_blank(self, widget: Widget | None) -> list[Atom]:
        atoms = [self.blank(3.0, widget)]
        for unit, em in (("年", 2.0), ("月", 2.0), ("日", 0)):
            atoms += self.text(unit, widget=widget, glue_first=True)
            if em:
                atoms.append(self.blank(em, widget, glue=True))
        return atoms

    def _hint(self, field_: FormField, slot: Slot) -> list[Atom]:
        if not field_.hint:
            return []
        return [Atom(0, "newline")] + self.static(field_.hint)

    def _text_widget(self, field_: FormField, slot: Slot) -> Widget | None:
        if not slot.blank or field_.type not in TEXT_LIKE:
            return None
        return Widget("text", slot.name(field_), self.fill(field_.label), max_len=field_.max_length)

    def whole_field(self, field_: FormField, slot: Slot, width_em: float) -> list[Atom]:
        """A field that is its cell's only content (the widget then covers the cell)."""
        if field_.type in BOX_TYPES:
            return self.options(field_, slot) + self._hint(field_, slot)
        value = slot.value(field_)
        if not _empty(value):
            return self.text(str(value))
        if field_.hint and slot.blank:
            return self.static(field_.hint)
        if slot.placed is not None and id(slot.placed.cell) in self.bare:
            return []  # signed or dated by hand: the column heading or the label says so (`layout.prints_nothing`)
        if field_.type == "date" and field_.furniture is None:
            return self.text(self._date_furniture(width_em))
        return self.static(layout.blank_text(field_))

    def _date_furniture(self, width_em: float) -> str:
        """年　　月　　日, tighter in a narrow cell (a roster column) so it stays on one line."""
        for text in (layout.blank_text(DATE), "年　月　日", "年月日"):
            if self.fonts.em("serif", text) <= width_em:
                return text
        return "年月日"

    def segments(self, segments: list[Segment], slot: Slot, font: str) -> Para:
        atoms: list[Atom] = []
        after_vertical = False
        for segment in segments:
            if segment.text is not None:
                atoms += self.short_static(segment.text, SHORT_WORD, font)
                continue
            field_ = segment.field
            if after_vertical and atoms:
                atoms.append(Atom(0, "newline"))
            atoms += self.inline_field(field_, slot)
            after_vertical = field_.type in ("choice", "multi_choice") and field_.layout == "vertical"
        vertical = any(s.field and s.field.layout == "vertical" for s in segments)
        return Para(atoms, block=vertical)

    # -- cells, lines, notes -------------------------------------------------------
    def cell(self, cell: Cell, slot: Slot, width_em: float, counter: str = "") -> list[Para]:
        if cell.counter:
            return [Para(self.text(counter))]
        font = "sans" if cell.role in ("label", "heading") else "serif"
        paras = []
        if layout.lone_field(cell) is not None:
            vertical = cell.field.layout == "vertical"
            paras.append(Para(self.whole_field(cell.field, slot, width_em), block=vertical))
        elif cell.items and cell.text is not None:
            paras.append(Para(self.static(cell.text, "sans")))  # the heading of a list (温馨提示)
        else:
            segments = _segments_without_repeated_furniture(cell)
            if segments:
                paras.append(self.segments(segments, slot, font))
        paras += self.numbered(cell.items)
        return paras

    def numbered(self, items: list[str], start: int = 1) -> list[Para]:
        paras = []
        for number, item in enumerate(items, start):
            label = self.text(f"{number}.")
            indent = sum(a.em for a in label)
            paras.append(Para(label + self.static(item), indent=indent))
        return paras

    def line(self, line: Line, slot: Slot) -> Para:
        """A header or footer line: gaps between its label-and-blank groups, labels kept whole."""
        atoms: list[Atom] = []
        previous = None  # the previous segment's field, or None after text
        for segment in line.segments:
            if segment.text is not None:
                words = self.short_static(segment.text, SHORT_LABEL)
                if previous is not None and layout.reads_on(segment.text):
                    if words:
                        words[0].glue = True  # 号) of (第XXXX号): tight against the field, on its line
                elif previous is not None and previous.type not in BOX_TYPES:
                    atoms.append(self.space(GROUP_GAP_EM))  # 联系电话： after the blank before it
                atoms += words
                previous = None
                continue
            field_atoms = self.inline_field(segment.field, slot)
            if previous is not None:
                atoms.append(self.space(GROUP_GAP_EM))  # two fields in a row: keep them apart
            elif field_atoms and atoms:
                field_atoms[0].glue = True  # a blank stays on its label's line
            atoms += field_atoms
            previous = segment.field
        return Para(atoms)

    def short_static(self, text: str, short: int, font: str = "serif") -> list[Atom]:
        """Static text; when it is at most ``short`` characters it is not broken across lines."""
        atoms = self.static(text, font)
        if len(text) <= short:
            for atom in atoms[1:]:
                atom.glue = True
        return atoms

    def note(self, note: Note) -> list[Para]:
        head = f"{note.label}{note.text}" if note.label else note.text
        return [Para(self.static(head))] + self.numbered(note.items)


def _segments_without_repeated_furniture(cell: Cell) -> list[Segment]:
    """A cell's segments; a photo field under the text 贴照片处 is not printed twice."""
    segments = cell.all_segments()
    texts = "".join(s.text for s in segments if s.text)
    return [s for s in segments
            if not (s.field and s.field.type == "photo" and layout.blank_text(s.field) in texts)]


def _blank_em(field_: FormField) -> float:
    """How wide an inline blank is: enough for ``max_length`` characters, within reason."""
    if field_.type == "signature":
        return 6.0
    if field_.max_length:
        return min(12.0, max(4.0, field_.max_length * 0.6))
    return 8.0


# --------------------------------------------------------------------------
# The grid: columns, rows and their heights
# --------------------------------------------------------------------------
@dataclass
class CellBox:
    placed: layout.PlacedCell
    x: float
    width: float
    align: str
    static: bool  # no field: laid out once per writer
    whole_field: FormField | None  # the cell is this one field (its widget covers the cell)
    valign: str = "middle"  # top for a tall text-only box (粘贴处)

    @property
    def inner_em(self) -> float:
        return (self.width - 2 * PAD_X) / (BODY_PT * PT)


@dataclass
class GridPlan:
    """What does not vary per record: cell boxes, static layouts and blank-form row heights."""

    rows: list
    cells: list[CellBox]
    heights: list[float]
    static_layouts: dict[int, Layout] = dataclass_field(default_factory=dict)


def _align_of(cell: Cell) -> str:
    if cell.align:
        return cell.align
    return "left" if cell.role == "note" else "center"


def _has_field(cell: Cell) -> bool:
    return any(s.field for s in cell.all_segments())


def plan_grid(form: Form, composer: Composer, width: float) -> GridPlan:
    blank_page = layout.pages(form, None)[0]
    total = sum(form.columns)
    edges = [0.0]
    for c in form.columns:
        edges.append(edges[-1] + c / total * width)
    boxes = []
    for placed in blank_page.cells:
        cell = placed.cell
        only = layout.lone_field(cell)
        static = not _has_field(cell) and not cell.counter
        tall = blank_page.rows[placed.row].height is not None and cell.role is None
        boxes.append(CellBox(placed, edges[placed.col], edges[placed.col + placed.colspan] - edges[placed.col],
                             _align_of(cell), static, only, "top" if static and tall else "middle"))
    heights = [max(MIN_ROW, row.height or 0.0) for row in blank_page.rows]
    plan = GridPlan(blank_page.rows, boxes, heights)
    needs = []
    for index, box in enumerate(boxes):
        paras = composer.cell(box.placed.cell, Slot(None, box.placed), box.inner_em, counter(None, box.placed))
        laid = lay_out(paras, box.width - 2 * PAD_X, BODY_PT, box.align)
        if box.static:
            plan.static_layouts[index] = laid
        needs.append((box.placed, laid.height + 2 * PAD_Y))
    grow_rows(heights, needs)
    return plan


def counter(page: layout.Page | None, placed: layout.PlacedCell) -> str:
    """序号: every row of a blank roster, the people's rows of a filled one."""
    if not placed.cell.counter:
        return ""
    if page is None:
        return str(1 + (placed.repeat_index or 0))
    if placed.repeat_index is not None and placed.repeat_index >= len(page.people):
        return ""
    return layout.counter_text(page, placed)


def grow_rows(heights: list[float], needs: list[tuple[layout.PlacedCell, float]]) -> None:
    """Make rows tall enough: single-row cells first, then rowspans add to their last row."""
    for placed, need in sorted(needs, key=lambda n: n[0].rowspan):
        span = heights[placed.row:placed.row + placed.rowspan]
        if need > sum(span) + 1e-6:
            heights[placed.row + len(span) - 1] += need - sum(span)


def _merged_edges(rects) -> list[tuple[float, float, float, float]]:
    """The borders of ``rects`` as horizontal and vertical lines, collinear overlaps merged."""
    spans: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for x, y, w, h in rects:
        for key, span in ((("h", round(y, 3)), (x, x + w)), (("h", round(y + h, 3)), (x, x + w)),
                          (("v", round(x, 3)), (y, y + h)), (("v", round(x + w, 3)), (y, y + h))):
            spans.setdefault(key, []).append(span)
    lines = []
    for (direction, at), parts in spans.items():
        parts.sort()
        merged = [list(parts[0])]
        for a, b in parts[1:]:
            if a <= merged[-1][1] + 1e-3:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        for a, b in merged:
            lines.append((a, at, b, at) if direction == "h" else (at, a, at, b))
    return lines


def row_blocks(rows_count: int, cells: list[CellBox]) -> list[tuple[int, int]]:
    """Runs of rows that must stay on one page (tied together by rowspans)."""
    end_of = list(range(rows_count))
    for box in cells:
        last = min(box.placed.row + box.placed.rowspan, rows_count) - 1  # a rowspan stops at the end
        end_of[box.placed.row] = max(end_of[box.placed.row], last)
    blocks, start = [], 0
    while start < rows_count:
        end = start
        r = start
        while r <= end:
            end = max(end, end_of[r])
            r += 1
        blocks.append((start, end))
        start = end + 1
    return blocks


# --------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------
@dataclass
class PlacedWidget:
    widget: Widget
    page: int  # 0-based
    rect: tuple[float, float, float, float]  # x, y, w, h in mm from the top left
    multiline: bool = False


EXTRA_TEXT_OPS = ("BT /F3 ", "BT /F4 ")  # text in a file's own subsets (`BatchFonts`): never reused
PAINTED_LIMIT = 20_000  # cached operator lists per writer
MEMO_PER_PART = 256  # memoised layouts per cell or line of a form (see `FormWriter._memo`)


class Painter:
    """Draws laid-out text, boxes and ticks on an fpdf2 document; records widget places."""

    def __init__(self, pdf: FPDF, painted: dict | None = None, static: set[int] | None = None):
        self.pdf = pdf
        self.widgets: list[PlacedWidget] = []
        self.painted = painted  # (layout id, x, top, line width) -> operators, kept by the writer
        self.static = static or set()  # ids of the writer's stable layouts (labels, notes, memoised cells)

    def layout(self, laid: Layout, x: float, top: float) -> None:
        """Draw ``laid`` with its top left at (x, top).

        On a batch canvas, a stable layout (a label, a note, a cell laid out for a value seen
        before) drawn at a place it was drawn before gets the same operators again instead of
        being drawn anew: every filled form of a batch prints the same static text and mostly
        the same ticks, at the same places.  The canvas's line width is part of the key (a
        box sets it only when it changes) and is restored after; text in a file's own font
        subsets (F3/F4, codes numbered per file) is never reused.
        """
        if self.painted is None or id(laid) not in self.static:
            self._paint(laid, x, top)
            return
        canvas = self.pdf
        key = (id(laid), x, top, canvas.line_width)
        hit = self.painted.get(key)
        if hit is not None:
            ops, canvas.family, canvas.size, canvas.line_width = hit
            canvas.pages[-1].extend(ops)
            return
        out, page, widgets = canvas.pages[-1], canvas.page, len(self.widgets)
        start = len(out)
        self._paint(laid, x, top)
        ops = out[start:]
        if canvas.page == page and len(self.widgets) == widgets and not any(op.startswith(EXTRA_TEXT_OPS) for op in ops):
            if len(self.painted) > PAINTED_LIMIT:
                self.painted.clear()
            self.painted[key] = (ops, canvas.family, canvas.size, canvas.line_width)

    def _paint(self, laid: Layout, x: float, top: float) -> None:
        if type(laid) is TextRun:
            self._paint_run(laid, x, top)
            return
        line_h = laid.line_height
        em = laid.size * PT
        spans: dict[int, list] = {}
        for n, line in enumerate(laid.lines):
            y = top + n * line_h
            baseline = y + line_h / 2 + BASELINE_EM * em
            self._line(line, x, y, baseline, laid.size, em, line_h)
            for atom, ax, w in line.items:
                if atom.widget is not None and atom.kind != "box":
                    spans.setdefault(id(atom.widget), [atom.widget, n, x + ax, y, x + ax + w, line_h])
                    span = spans[id(atom.widget)]
                    if span[1] == n:
                        span[4] = x + ax + w
        for widget, _, left, y, right, h in spans.values():
            self.add_widget(widget, (left, y, right - left, h))

    def _paint_run(self, run: TextRun, x: float, top: float) -> None:
        """What `_paint` draws for the one line of one text run (same arithmetic, same calls)."""
        line_h = run.line_height
        em = run.size * PT
        y = top + 0 * line_h
        baseline = y + line_h / 2 + BASELINE_EM * em
        self.pdf.set_font(run.font, size=run.size)
        self.pdf.text(x + run.x, baseline, run.text)

    def _line(self, line: LaidLine, x: float, y: float, baseline: float, size: float, em: float,
              line_h: float) -> None:
        run: list = []
        for atom, ax, w in line.items:
            if atom.kind == "text" and run and (run[0][0].font, run[0][0].underline) == (atom.font, atom.underline):
                run.append((atom, ax, w))
                continue
            self._text_run(run, x, baseline, size, em)
            run = [(atom, ax, w)] if atom.kind == "text" else []
            if atom.kind == "box":
                self.box(x + ax + BOX_LEAD_EM * em, y + (line_h - BOX_EM * em) / 2, BOX_EM * em,
                         atom.checked, atom.widget)
            elif atom.kind in ("blank", "space") and atom.underline:  # a value's underline runs on
                self.underline(x + ax, x + ax + w, baseline + 0.12 * em)
        self._text_run(run, x, baseline, size, em)

    def _text_run(self, run: list, x: float, baseline: float, size: float, em: float) -> None:
        if not run:
            return
        first = run[0][0]
        self.pdf.set_font(first.font, size=size)
        self.pdf.text(x + run[0][1], baseline, "".join(atom.text for atom, _, _ in run))
        if first.underline:
            left, right = x + run[0][1], x + run[-1][1] + run[-1][2]
            self.underline(left, right, baseline + 0.12 * em)

    def underline(self, left: float, right: float, y: float) -> None:
        self.pdf.set_line_width(0.2)
        self.pdf.line(left, y, right, y)

    def box(self, x: float, y: float, side: float, checked: bool, widget: Widget | None) -> None:
        self.pdf.set_line_width(0.25)
        self.pdf.rect(x, y, side, side)
        if checked:
            self.tick(x, y, side)
        if widget is not None:
            self.add_widget(widget, (x, y, side, side))

    def tick(self, x: float, y: float, side: float) -> None:
        self.pdf.set_line_width(TICK_LINE * side / 2.8)
        for (x1, y1), (x2, y2) in _tick_strokes(side):
            self.pdf.line(x + x1, y + y1, x + x2, y + y2)

    def add_widget(self, widget: Widget, rect, multiline: bool = False) -> None:
        self.widgets.append(PlacedWidget(widget, self.pdf.page - 1, rect, multiline))


def _tick_strokes(side: float) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The two strokes of a tick inside a box of ``side`` mm (y grows downwards)."""
    short = ((0.18 * side, 0.52 * side), (0.42 * side, 0.78 * side))
    long = ((0.42 * side, 0.78 * side), (0.86 * side, 0.16 * side))
    return [short, long]


class Document:
    """One PDF being written: pages of a form, the cursor, and the widgets placed so far."""

    def __init__(self, writer: "FormWriter", blank: bool, canvas: "Canvas | None" = None):
        self.writer = writer
        self.blank = blank  # the blank form: fillable fields, no values
        self.y = MARGIN
        if canvas is not None:  # filled forms of a batch: drawn straight into operators
            self.pdf = canvas
            reuse = type(canvas) is Canvas  # not the probe that collects the static characters
            self.painter = Painter(canvas, writer.painted if reuse else None, writer.stable)
            return
        form = writer.form
        from fpdf import FPDF
        pdf = FPDF(orientation="L" if form.orientation == "landscape" else "P", unit="mm",
                   format=form.paper)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_text_color(0)
        pdf.set_draw_color(0)
        pdf.formgen_cff_sources = {}  # fonts FastFontProducer embeds
        writer.fonts.attach(pdf)
        pdf.set_title(writer.title)
        pdf.set_author(writer.author)
        pdf.set_creator("formgen")
        pdf.set_lang("zh-CN")
        self.pdf = pdf
        self.painter = Painter(pdf)
        self.y = MARGIN

    # -- page flow --------------------------------------------------------------
    @property
    def width(self) -> float:
        return self.pdf.w - 2 * MARGIN

    @property
    def bottom(self) -> float:
        return self.pdf.h - MARGIN

    def new_page(self) -> None:
        self.pdf.add_page()
        self.y = MARGIN

    def room_for(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the cursor (an empty page always fits)."""
        if self.y + height > self.bottom + 1e-6 and self.y > MARGIN + 1e-6:
            self.new_page()

    def paragraph(self, paras: list[Para] | None, size: float, align: str, gap_after: float = 0.0,
                  laid: Layout | None = None) -> None:
        """Full-width text, line by line, continuing on a new page when the page is full."""
        laid = laid or lay_out(paras, self.width, size, align)
        for one in self.writer.line_layouts(laid):
            self.room_for(laid.line_height)
            self.painter.layout(one, MARGIN, self.y)
            self.y += laid.line_height
        self.y += gap_after

    # -- the form -----------------------------------------------------------------
    def form_page(self, page: layout.Page | None) -> None:
        writer = self.writer
        self.new_page()
        slot = Slot(page)
        header = [writer.line_layout(line, slot, self.width) for line in writer.form.header]
        span = self.begin_lines_reading([laid for laid, _ in writer.heading_layouts(self.width)] + header)
        self.heading()
        for laid in header:
            self.paragraph(None, BODY_PT, "left", laid=laid)
        if span:
            self.emit("EMC")
        self.y += 1.5
        self.grid(page)
        self.y += 1.5
        footer = [writer.line_layout(line, slot, self.width) for line in writer.form.footer]
        span = self.begin_lines_reading(footer)
        for laid in footer:
            self.paragraph(None, BODY_PT, "left", laid=laid)
        if span:
            self.emit("EMC")
        if writer.form.notes:
            self.y += 1.5
            for index, note in enumerate(writer.form.notes):
                self.paragraph(None, NOTE_PT, "left", laid=writer.note_layout(index, self.width))

    def heading(self) -> None:
        for laid, gap_after in self.writer.heading_layouts(self.width):
            self.paragraph(None, laid.size, "left", gap_after=gap_after, laid=laid)
        self.y += 2.0

    def grid(self, page: layout.Page | None) -> None:
        """The grid, block by block: a block of rows that does not fit starts a new page."""
        plan = self.writer.plan
        heights = list(plan.heights)
        layouts = self.cell_layouts(page, heights)
        tops = [0.0] * len(heights)
        cells = plan.cells
        for start, end, members in self.writer.grid_blocks():
            self.room_for(sum(heights[start:end + 1]))
            key = self.block_key(start, end, members, heights, layouts)
            if key is not None and self.replay(key):
                continue
            canvas = self.pdf
            mark = (len(canvas.pages[-1]), canvas.page, canvas.line_width) if key is not None else None
            for r in range(start, end + 1):
                tops[r] = self.y
                self.y += heights[r]
            rects = []
            span = self.begin_reading(" ".join([t for t in (layout_text(layouts[i]) for i in members) if t]))
            for i in members:
                box = cells[i]
                placed = box.placed
                rect = (MARGIN + box.x, tops[placed.row], box.width,
                        sum(heights[placed.row:placed.row + placed.rowspan]))
                self.cell(box, layouts[i], *rect)
                rects.append(rect)
            if span:
                self.emit("EMC")
            self.rules(rects)
            if key is not None:
                self.remember(key, mark)

    # A block of rows whose every cell shows a layout that lives as long as the writer (labels,
    # choices, values seen before) at the same place and heights prints the same operators in
    # every record: they are kept once and replayed (the cursor moves as drawing would move it).
    def block_key(self, start: int, end: int, members: list[int], heights: list[float], layouts) -> tuple | None:
        if self.painter.painted is None or type(self.pdf) is not Canvas:
            return None
        stable = self.writer.stable
        ids = tuple([id(layouts[i]) for i in members])
        if not stable.issuperset(ids):
            return None
        return ("block", start, self.y, tuple(heights[start:end + 1]), ids, self.pdf.line_width)

    def replay(self, key: tuple) -> bool:
        hit = self.painter.painted.get(key)
        if hit is None:
            return False
        ops, canvas = hit[0], self.pdf
        canvas.pages[-1].extend(ops)
        self.y, canvas.family, canvas.size, canvas.line_width = hit[1:]
        return True

    def remember(self, key: tuple, mark: tuple) -> None:
        """Keep what the block drew, unless it drew in the file's own font subsets (codes
        numbered per file) or ran onto a new page."""
        canvas, painted = self.pdf, self.painter.painted
        start, page, _ = mark
        ops = canvas.pages[-1][start:]
        if canvas.page != page or any(op.startswith(EXTRA_TEXT_OPS) for op in ops):
            return
        if len(painted) > PAINTED_LIMIT:
            painted.clear()
        painted[key] = (ops, self.y, canvas.family, canvas.size, canvas.line_width)

    def begin_reading(self, text: str) -> bool:
        """Open marked content whose /ActualText is ``text`` (closed with EMC by the caller when
        this returns True): text extraction (pdftotext, copy and paste, search) then reads a
        block of rows cell by cell, as a person does, instead of by poppler's column analysis.
        What is drawn is unchanged."""
        if isinstance(self.pdf, _Probe) or not text.strip():
            return False
        self.emit(begin_actual_text(text))
        return True

    def begin_lines_reading(self, lines: list[Layout]) -> bool:
        """`begin_reading` for full-width lines drawn one under the other (the title above the
        grid, the header's "填报人：…　联系电话：…" lines, the footer): poppler's column analysis
        would otherwise read a left-aligned label, then the centred title, then the label to
        its right.  Only when the lines fit below the cursor, as marked content cannot run
        onto the next page."""
        height = sum(laid.height for laid in lines) + 3.0  # the heading's gaps
        if self.y + height > self.bottom:
            return False
        return self.begin_reading("\n".join([t for t in (layout_text(laid) for laid in lines) if t]))

    def emit(self, operator: str) -> None:
        canvas = self.pdf
        if isinstance(canvas, Canvas):
            canvas.pages[-1].append(operator)
        else:
            canvas._out(operator)  # fpdf2 has no public call for marked content

    def rules(self, rects: list[tuple[float, float, float, float]]) -> None:
        """The cells' borders, each line drawn once (overlapping strokes print heavier).

        On a batch canvas the operators are kept per set of rectangles: a grid whose rows
        kept their heights (nearly every record) is not merged and written again.
        """
        cache = self.painter.painted
        if cache is not None:
            key = ("rules", tuple(rects), self.pdf.line_width)
            hit = cache.get(key)
            if hit is not None:
                ops, self.pdf.line_width = hit
                self.pdf.pages[-1].extend(ops)
                return
            out = self.pdf.pages[-1]
            start = len(out)
        self.pdf.set_line_width(GRID_LINE)
        half = GRID_LINE / 2  # reach into the corners
        for (x1, y1, x2, y2) in _merged_edges(rects):
            if y1 == y2:
                self.pdf.line(x1 - half, y1, x2 + half, y2)
            else:
                self.pdf.line(x1, y1 - half, x2, y2 + half)
        if cache is not None:
            if len(cache) > PAINTED_LIMIT:
                cache.clear()
            cache[key] = (out[start:], self.pdf.line_width)

    def cell_layouts(self, page: layout.Page | None, heights: list[float]) -> list[Layout]:
        """Each cell's text at its size; values shrink, then rows grow, so nothing is cut."""
        writer = self.writer
        layouts = list(writer.static_cell_layouts)
        value_cells = writer.value_cells
        for index, box in value_cells:
            placed = box.placed
            room = sum(heights[placed.row:placed.row + placed.rowspan]) - 2 * PAD_Y
            layouts[index] = writer.cell_layout(index, box, Slot(page, placed), room)
        # The rows already fit every static cell (`plan_grid`) and only grow: the values decide.
        grow_rows(heights, [(box.placed, layouts[index].height + 2 * PAD_Y) for index, box in value_cells])
        return layouts

    def cell(self, box: CellBox, laid: Layout, x: float, y: float, w: float, h: float) -> None:
        top = y + PAD_Y if box.valign == "top" else y + (h - laid.height) / 2
        self.painter.layout(laid, x + PAD_X, top)
        widget = self.whole_cell_widget(box)
        if widget is not None:
            multiline = h - 2 * PAD_Y > 2 * BODY_PT * PT * LINE_EM
            self.painter.add_widget(widget, (x + 0.4, y + 0.4, w - 0.8, h - 0.8), multiline)

    def whole_cell_widget(self, box: CellBox) -> Widget | None:
        """The text field over a cell that is a single text-like field of a blank form."""
        field_ = box.whole_field
        if self.blank and field_ is not None and field_.type in TEXT_LIKE:
            return Widget("text", Slot(None, box.placed).name(field_), self.writer.fill(field_.label),
                          max_len=field_.max_length)
        return None

    def output(self) -> bytes:
        if isinstance(self.pdf, Canvas):
            return self.pdf.output(self.writer.info)
        return bytes(self.pdf.output(output_producer_class=_fast_font_producer()))


# --------------------------------------------------------------------------
# Fillable fields: widgets and the AcroForm, added with pypdf (fpdf2 has no form fields)
# --------------------------------------------------------------------------
MM_TO_PT = 72 / 25.4
RADIO = 1 << 15  # field flag: a radio group
MULTILINE = 1 << 12  # field flag: a multi-line text field
FIELD_PT = 9  # the size of text typed into a field


class FieldBuilder:
    """Adds widget annotations and the /AcroForm to a PDF written by fpdf2."""

    def __init__(self, data: bytes):
        from pypdf import PdfReader, PdfWriter

        reader = PdfReader(BytesIO(data))
        self.writer = PdfWriter(clone_from=reader)
        self.writer.pdf_header = reader.pdf_header  # keep fpdf2's version (1.6 for CFF fonts)
        self.fields = pdfobj.ArrayObject()
        self.groups: dict[str, object] = {}

    def add(self, placed: PlacedWidget) -> None:
        page = self.writer.pages[placed.page]
        rect = _rect_in_points(float(page.mediabox.height), placed.rect)
        widget = placed.widget
        annotation = self.writer.add_annotation(placed.page, self.widget_dict(placed, rect))
        if widget.kind in ("radio", "multi"):
            parent = self.group(widget)
            annotation[pdfobj.NameObject("/Parent")] = parent.indirect_reference
            parent["/Kids"].append(annotation.indirect_reference)
        else:
            self.fields.append(annotation.indirect_reference)

    def group(self, widget: Widget):
        """The parent field of a radio group (choice) or of a multi_choice's check boxes."""
        if widget.name not in self.groups:
            parent = pdfobj.DictionaryObject({_n("/T"): _text(widget.name), _n("/Kids"): pdfobj.ArrayObject()})
            if widget.kind == "radio":
                parent.update({_n("/FT"): _n("/Btn"), _n("/Ff"): pdfobj.NumberObject(RADIO), _n("/V"): _n("/Off"),
                               _n("/Opt"): pdfobj.ArrayObject([_text(o) for o in widget.options])})
            self.writer._add_object(parent)  # pypdf has no public call for a non-annotation object
            self.fields.append(parent.indirect_reference)
            self.groups[widget.name] = parent
        return self.groups[widget.name]

    def widget_dict(self, placed: PlacedWidget, rect: list[float]) -> dict:
        widget = placed.widget
        width, height = rect[2] - rect[0], rect[3] - rect[1]
        annotation = {
            _n("/Type"): _n("/Annot"), _n("/Subtype"): _n("/Widget"),
            _n("/Rect"): pdfobj.ArrayObject([pdfobj.FloatObject(v) for v in rect]),
            _n("/F"): pdfobj.NumberObject(4),  # printable
            _n("/TU"): pdfobj.TextStringObject(widget.label),
            _n("/MK"): pdfobj.DictionaryObject(),  # no border or background: the page draws the form
        }
        if widget.kind == "text":
            annotation.update({
                _n("/FT"): _n("/Tx"), _n("/T"): pdfobj.TextStringObject(widget.name),
                _n("/V"): pdfobj.TextStringObject(""), _n("/DA"): pdfobj.TextStringObject(f"/Helv {FIELD_PT:g} Tf 0 g"),
                # typed text gets a white ground so it hides the printed 年 月 日 or sample under it
                _n("/MK"): pdfobj.DictionaryObject({_n("/BG"): pdfobj.ArrayObject([pdfobj.FloatObject(1)])}),
                _n("/Ff"): pdfobj.NumberObject(MULTILINE if placed.multiline else 0),
                _n("/AP"): pdfobj.DictionaryObject({_n("/N"): self.appearance(width, height, b"/Tx BMC EMC")}),
            })
            if widget.max_len:
                annotation[_n("/MaxLen")] = pdfobj.NumberObject(widget.max_len)
            return annotation
        on = _n(f"/{widget.option}" if widget.kind == "radio" else "/Yes")
        annotation.update({
            _n("/AS"): _n("/Off"),
            _n("/AP"): pdfobj.DictionaryObject({_n("/N"): pdfobj.DictionaryObject({
                on: self.appearance(width, height, _tick_appearance(width, height)),
                _n("/Off"): self.appearance(width, height, b""),
            })}),
        })
        if widget.kind in ("check", "multi"):
            name = widget.name if widget.kind == "check" else str(widget.option)
            annotation.update({_n("/FT"): _n("/Btn"), _n("/T"): pdfobj.TextStringObject(name), _n("/V"): _n("/Off")})
        return annotation

    def appearance(self, width: float, height: float, content: bytes):
        stream = pdfobj.DecodedStreamObject()
        stream.set_data(content)
        stream.update({
            _n("/Type"): _n("/XObject"), _n("/Subtype"): _n("/Form"),
            _n("/BBox"): pdfobj.ArrayObject([pdfobj.FloatObject(v) for v in (0, 0, width, height)]),
            _n("/Resources"): pdfobj.DictionaryObject(),
        })
        return self.writer._add_object(stream)  # streams must be indirect objects

    def output(self) -> bytes:
        helvetica = pdfobj.DictionaryObject({_n("/Type"): _n("/Font"), _n("/Subtype"): _n("/Type1"),
                                        _n("/BaseFont"): _n("/Helvetica"), _n("/Encoding"): _n("/WinAnsiEncoding")})
        fonts = pdfobj.DictionaryObject({_n("/Helv"): self.writer._add_object(helvetica)})
        acroform = pdfobj.DictionaryObject({
            _n("/Fields"): self.fields,
            _n("/DA"): _text(f"/Helv {FIELD_PT:g} Tf 0 g"),
            _n("/DR"): pdfobj.DictionaryObject({_n("/Font"): fonts}),
        })
        self.writer.root_object[_n("/AcroForm")] = self.writer._add_object(acroform)
        out = BytesIO()
        self.writer.write(out)
        return out.getvalue()


def _n(name: str):
    return pdfobj.NameObject(name)


def _text(text: str):
    return pdfobj.TextStringObject(text)


def add_fields(data: bytes, widgets: list[PlacedWidget]) -> bytes:
    builder = FieldBuilder(data)
    for placed in widgets:
        builder.add(placed)
    return builder.output()


def _rect_in_points(page_height: float, rect) -> list[float]:
    """A rectangle in mm from the top left as a PDF /Rect in points from the bottom left."""
    x, y, w, h = rect
    return [round(x * MM_TO_PT, 2), round(page_height - (y + h) * MM_TO_PT, 2),
            round((x + w) * MM_TO_PT, 2), round(page_height - y * MM_TO_PT, 2)]


def _tick_appearance(width: float, height: float) -> bytes:
    """The same tick as a filled form's, in the widget's own space (points, y upwards)."""
    side_mm = min(width, height) / MM_TO_PT
    k = MM_TO_PT
    path = [f"{x1 * k:.2f} {height - y1 * k:.2f} m {x2 * k:.2f} {height - y2 * k:.2f} l S"
            for (x1, y1), (x2, y2) in _tick_strokes(side_mm)]
    line = TICK_LINE * side_mm / 2.8 * MM_TO_PT
    return f"q 0 G {line:.2f} w 1 J 1 j {' '.join(path)} Q".encode()


# --------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------
class FormWriter:
    """Writes a form as PDF: blank (with fillable fields) or filled from records."""

    extension = ".pdf"

    def __init__(self, form: Form, edition=None, **options):
        self.form = form
        self.edition = edition
        self.fonts = _Fonts(options.get("fonts"))
        self.fill = edition.fill if edition is not None else (lambda text: text)
        self.title = edition.form_title(form) if edition is not None else form.title
        number = edition.form_number(form.id) if edition is not None else None
        self.heading = layout.heading(number, self.title, self.fill(form.subtitle))
        self.author = (edition.edition.bureau if edition is not None else None) or "formgen"
        self.composer = Composer(self.fonts, self.fill, layout.bare_cells(form))
        width = _page_size(form)[0] - 2 * MARGIN
        self.plan = plan_grid(form, self.composer, width)
        self._notes: dict[int, Layout] = {}
        # shortcuts=False: every record laid out and drawn in full (the general path the
        # shortcuts must match byte for byte; tests compare the two)
        self.shortcuts = options.get("shortcuts", True)
        self.painted: dict | None = {} if self.shortcuts else None  # operators of stable layouts already drawn
        # Layouts that live as long as the writer (their ids key `painted`): never freed, so
        # an id is never reused by another layout.
        self.stable: set[int] = {id(laid) for laid in self.plan.static_layouts.values()}
        self._kept: dict = {}  # memoised layouts, by what they are made from
        self._cell_fields = [[s.field for s in box.placed.cell.all_segments() if s.field is not None]
                             for box in self.plan.cells]
        cells = self.plan.cells
        self.static_cell_layouts = [self.plan.static_layouts.get(i) for i in range(len(cells))]
        self.value_cells = [(i, box) for i, box in enumerate(cells) if not box.static]
        self.info = {"Title": self.title, "Author": self.author, "Creator": "formgen", "Producer": "formgen"}
        self.batch_fonts = None if options.get("fpdf") else BatchFonts.build(self)

    def note_layout(self, index: int, width: float) -> Layout:
        """A note laid out once per writer: notes are static text, often the longest on the page."""
        if index not in self._notes:
            self._notes[index] = self._keep(lay_out(self.composer.note(self.form.notes[index]), width,
                                                    NOTE_PT, "left"))
        return self._notes[index]

    def grid_blocks(self) -> list[tuple[int, int, list[int]]]:
        """The grid's blocks of rows (`row_blocks`), each with the indexes of its cells (once)."""
        if getattr(self, "_grid_blocks", None) is None:
            cells = self.plan.cells
            self._grid_blocks = [(start, end, [i for i, box in enumerate(cells) if start <= box.placed.row <= end])
                                 for start, end in row_blocks(len(self.plan.heights), cells)]
        return self._grid_blocks

    def static_ids(self) -> set[int]:
        """Ids of the layouts that never change within this writer: labels, notes, memoised values."""
        return self.stable

    def _keep(self, laid: Layout) -> Layout:
        self.stable.add(id(laid))
        return laid

    def _memo(self, key, make) -> Layout:
        """The layout made by ``make()`` for ``key``, made once.  A part of the form that keeps
        getting new values (names, ID numbers) stops being memoised after `MEMO_PER_PART` of
        them, so memory stays flat; entries are never dropped (their ids stay unique)."""
        if not self.shortcuts:
            return make()
        part = self._kept.setdefault(key[0], {})
        laid = part.get(key)
        if laid is None:
            laid = make()
            if len(part) < MEMO_PER_PART:
                part[key] = self._keep(laid)
        return laid

    def heading_layouts(self, width: float) -> list[tuple[Layout, float]]:
        """The edition's number of the form, the title and the subtitle, with the gap after each."""
        key = ("heading", width)
        part = self._kept.setdefault("heading", {})
        if key not in part:
            text = self.composer.text
            made = []
            heading = self.heading  # nothing said twice (`layout.heading`)
            if heading.number:
                made.append((lay_out([Para(text(heading.number, "sans"))], width, NUMBER_PT, "left"), 0.0))
            made.append((lay_out([Para(text(heading.title, "sans"))], width, TITLE_PT, "center"), 1.0))
            if heading.subtitle:
                made.append((lay_out([Para(text(heading.subtitle))], width, BODY_PT, "center"), 0.0))
            part[key] = [(self._keep(laid), gap) for laid, gap in made]
        return part[key]

    def line_layout(self, line: Line, slot: Slot, width: float) -> Layout:
        """A header or footer line with this page's values (memoised by them on filled forms)."""
        def make():
            return lay_out([self.composer.line(line, slot)], width, BODY_PT, line.align)
        if slot.blank:
            return make()  # the blank form's widgets are new objects every time
        values = tuple(_frozen(slot.value(s.field)) for s in line.segments if s.field is not None)
        return self._memo(("line", id(line), width, values), make)

    def cell_layout(self, index: int, box: "CellBox", slot: Slot, room: float) -> Layout:
        """A grid cell with this page's values, fitted to ``room`` (memoised by them on filled forms)."""
        count = counter(slot.page, box.placed)

        def make():
            fast = self.text_run(box, slot, room)
            if fast is not None:
                return fast
            paras = self.composer.cell(box.placed.cell, slot, box.inner_em, count)
            return fit(paras, box.width - 2 * PAD_X, room, BODY_PT, box.align, shrink=not slot.blank)
        if slot.blank:
            return make()
        values = tuple(_frozen(slot.value(f)) for f in self._cell_fields[index])
        return self._memo((index, count, values, room), make)

    def text_run(self, box: "CellBox", slot: Slot, room: float) -> TextRun | None:
        """The fast path (`TextRun`) for a cell that is one text-like field whose value, with no
        spaces or line breaks, fits on one line at the body size; None for everything else."""
        field_ = box.whole_field
        if not self.shortcuts or field_ is None or field_.type not in TEXT_LIKE or slot.blank or box.placed.cell.items \
                or box.placed.cell.counter:
            return None
        value = slot.value(field_)
        if not isinstance(value, str) or not value or SPACE.search(value):
            return None
        # as `Composer.text` and `_break_lines` measure it: piece by piece, running total
        unit = BODY_PT * PT
        width = box.width - 2 * PAD_X
        em = self.fonts.em
        used = 0.0
        for piece in LATIN.findall(value):
            used += em("serif", piece) * unit
        # strictly within the line (`_break_lines` would split a piece wider than it)
        if used > width or 1 * (BODY_PT * PT * LINE_EM) > room + 1e-6:
            return None
        factor = ALIGN_FACTOR[box.align]
        return TextRun(value, max(0.0, (width - used) * factor), BODY_PT, width, box.align, self.composer)

    def line_layouts(self, laid: Layout) -> list[Layout]:
        """``laid`` as one layout per line (a paragraph may continue on the next page);
        kept, and so stable, when ``laid`` is."""
        if id(laid) not in self.stable:
            return [Layout([line], laid.size) for line in laid.lines]
        part = self._kept.setdefault("lines", {})
        lines = part.get(id(laid))
        if lines is None:
            lines = part[id(laid)] = [self._keep(Layout([line], laid.size)) for line in laid.lines]
        return lines

    def value_problem(self, field_: FormField, text: str) -> str | None:
        """Checked before anything is written (`fill.build_records`): a value this PDF cannot show.

        A character the font lacks would be dropped (or drawn as an empty box), and a value
        taller than a whole page at MIN_PT would run off it; both are refused, never printed.
        """
        if len(text) < 100 and self.fonts.printable("serif").issuperset(text):  # nearly every value
            return None
        missing = self.fonts.missing("serif", text)
        if missing:
            codes = ", ".join(f"U+{ord(c):04X}" for c in missing)
            return (f"'{missing}' ({codes}) cannot be printed in PDF: the font "
                    f"{self.fonts.parsed['serif'].name} has no glyph for it; fill this form as docx "
                    f"or xlsx, or set {FONT_ENV['serif']} to a font that has it")
        room = self._rooms().get(field_.id)
        if room is None or len(text) < 100:
            return None
        width, height = room
        need = lay_out([Para(self.composer.text(text))], width, MIN_PT, "left").height
        if need > height:
            return (f"{len(text)} characters do not fit in the box even at {MIN_PT:g} pt on a whole "
                    f"page; shorten it")
        return None

    def _rooms(self) -> dict[str, tuple[float, float]]:
        """Per field: the narrowest box it is drawn in, and the most height a page gives that box."""
        if getattr(self, "_room_cache", None) is None:
            page_room = _page_size(self.form)[1] - 2 * MARGIN
            heights = self.plan.heights
            blocks = row_blocks(len(heights), self.plan.cells)
            rooms: dict[str, tuple[float, float]] = {}
            for box in self.plan.cells:
                start, end = next(b for b in blocks if b[0] <= box.placed.row <= b[1])
                own = range(box.placed.row, box.placed.row + box.placed.rowspan)
                others = sum(heights[r] for r in range(start, end + 1) if r not in own)
                room = (box.width - 2 * PAD_X, page_room - others - 2 * PAD_Y)
                for segment in box.placed.cell.all_segments():
                    if segment.field is not None:
                        old = rooms.get(segment.field.id, room)
                        rooms[segment.field.id] = (min(old[0], room[0]), min(old[1], room[1]))
            self._room_cache = rooms
        return self._room_cache

    def write(self, records: list[layout.Record] | None, target: Path) -> None:
        """The blank form (``records`` None), or every record's pages in order, to ``target``."""
        if records is not None and not records:
            raise RenderError(f"nothing to write to {target}: no records")
        Path(target).write_bytes(self.to_bytes(records))

    def to_bytes(self, records: list[layout.Record] | None) -> bytes:
        """The PDF `write` writes, as bytes (a batch writes them with `output.OutputFolder`)."""
        if records is not None and not records:
            raise RenderError("nothing to write: no records")
        canvas = None
        if records is not None and self.batch_fonts is not None:
            canvas = Canvas(self.batch_fonts, *_canvas_size(self.form), quick=self.shortcuts)
        document = Document(self, blank=records is None, canvas=canvas)
        if records is None:
            document.form_page(None)
        for record in records or []:
            for page in layout.pages(self.form, record):
                document.form_page(page)
        data = document.output()
        if document.painter.widgets:
            data = add_fields(data, document.painter.widgets)
        return data


# --------------------------------------------------------------------------
# Filled forms without fpdf2: operators written directly, fonts subset once per batch
#
# Every filled form of a batch prints the same static text, so each font's glyphs for
# that text are subset, compressed and serialised once (`BatchFonts`).  A record's own
# characters that the static subset lacks go into a second, small subset of the same
# font made per file, so any name prints, however rare its characters.  Pages are drawn
# by the same `Document` and `Painter` code into a `Canvas` that writes the operators as
# fpdf2 would; the file is assembled around the prepared font objects.
# --------------------------------------------------------------------------
K = 72 / 25.4  # points per mm
CONTENT_LEVEL = 1  # deflate level of a page's operators: a third of level 6's time, 5% bigger


class Canvas:
    """The part of FPDF's interface `Document` and `Painter` use, writing content operators."""

    def __init__(self, fonts: "BatchFonts", w: float, h: float, quick: bool = True):
        self.fonts = fonts
        self.w, self.h = w, h
        self.quick = quick  # text all in the static subset written in one step (`text`)
        self.pages: list[list[str]] = []
        self.page = 0
        self.line_width = None
        self.family, self.size = "serif", BODY_PT
        self.extra: dict[str, dict[str, int]] = {role: {} for role in fonts.roles}  # char -> code, per file
        self.extra_hex: dict[str, dict[str, str]] = {role: {} for role in fonts.roles}  # the same codes in hex

    def add_page(self) -> None:
        self.pages.append([])
        self.page += 1
        self.line_width = None

    def set_line_width(self, width: float) -> None:
        if width != self.line_width:
            self.line_width = width
            self.pages[-1].append(f"{width * K:.2f} w")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        h = self.h
        self.pages[-1].append(f"{x1 * K:.2f} {(h - y1) * K:.2f} m {x2 * K:.2f} {(h - y2) * K:.2f} l S")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.pages[-1].append(f"{x * K:.2f} {(self.h - y) * K:.2f} {w * K:.2f} {-h * K:.2f} re S")

    def set_font(self, family: str, size: float) -> None:
        self.family, self.size = family, size

    def text(self, x: float, y: float, text: str) -> None:
        """Text at a baseline; characters outside the static subset switch to the file's own."""
        fonts, role, size = self.fonts, self.family, self.size
        hexes = fonts.hexes[role] if self.quick else {}
        try:  # the usual case, every character in the static subset: one operator
            codes = "".join([hexes[char] for char in text])
        except KeyError:
            pass
        else:
            if codes:
                self.pages[-1].append(f"BT /{fonts.names[role]} {size:.2f} Tf {x * K:.2f} {(self.h - y) * K:.2f} Td "
                                      f"<{codes}> Tj ET")
            return
        self._mixed_text(x, self.h - y, text)

    def _mixed_text(self, x: float, y: float, text: str) -> None:
        """Text with characters outside the static subset: one operator per run of one font,
        each run starting where the widths of the characters before it end (added one by
        one, in order, so the positions are those of a character-by-character walk)."""
        fonts, role, size = self.fonts, self.family, self.size
        static = fonts.hexes[role]
        static_font, extra_font = fonts.names[role], fonts.extra_names[role]
        out, run, run_font, run_x, cursor = self.pages[-1], [], None, x, x
        passed: list[str] = []  # pieces printed since the cursor was last moved on
        for piece in fonts.runs[role].findall(text):  # alternately static and other characters
            if piece[0] in static:
                font, codes = static_font, [static[char] for char in piece]
            else:
                piece = self._with_glyphs(role, piece)
                font, codes = extra_font, self._extra_codes(role, piece)
                if not codes:
                    continue
            if font != run_font and run:
                out.append(_text_op(run_font, size, run_x, y, run))
                advance = fonts.advances(role, size)
                for passed_piece in passed:
                    for char in passed_piece:
                        cursor += advance[char]
                run, run_x, passed = [], cursor, []
            run_font = font
            run += codes
            passed.append(piece)
        if run:
            out.append(_text_op(run_font, size, run_x, y, run))

    def _with_glyphs(self, role: str, piece: str) -> str:
        """``piece`` less the characters the font lacks (reported once, never printed)."""
        glyphs = self.fonts.glyphs[role]
        if all(ord(char) in glyphs for char in piece):
            return piece
        for char in piece:
            if ord(char) not in glyphs:
                self.fonts.missing(role, char)
        return "".join(char for char in piece if ord(char) in glyphs)

    def _extra_codes(self, role: str, piece: str) -> list[str]:
        """The codes of characters in this file's own subset of the font (numbered as met)."""
        extra, extra_hex, codes = self.extra[role], self.extra_hex[role], []
        for char in piece:
            code = extra_hex.get(char)
            if code is None:
                number = extra[char] = len(extra) + 1
                code = extra_hex[char] = f"{number:04X}"
            codes.append(code)
        return codes

    def output(self, info: dict) -> bytes:
        return self.fonts.assemble(self, info)


class _Advances(dict):
    """Character -> how far it moves the pen at one size (mm), filled in as characters come."""

    def __init__(self, widths, size: float):
        super().__init__()
        self.widths, self.size = widths, size

    def __missing__(self, char: str) -> float:
        advance = self[char] = self.widths[ord(char)] / 1000 * self.size * PT
        return advance


def _text_op(font: str, size: float, x: float, y: float, codes: list[str]) -> str:
    """A text operator; ``codes`` are the characters' codes in hex, as written."""
    return f"BT /{font} {size:.2f} Tf {x * K:.2f} {y * K:.2f} Td <{''.join(codes)}> Tj ET"


class BatchFonts:
    """The fonts of one writer's filled forms: static subsets prepared once, extras per file."""

    roles = ("serif", "sans")

    def __init__(self, writer: "FormWriter", static_chars: dict[str, set[str]]):
        self.sources = {role: _cff_source(writer.fonts.parsed[role]) for role in self.roles}
        self.parsed = writer.fonts.parsed
        self.glyphs = {role: self.parsed[role].glyph_ids for role in self.roles}
        self.widths = {role: self.parsed[role].cw for role in self.roles}
        self.names = {"serif": "F1", "sans": "F2"}
        self.extra_names = {"serif": "F3", "sans": "F4"}
        self.codes: dict[str, dict[str, int]] = {}
        self.hexes: dict[str, dict[str, str]] = {}  # char -> its code as written in a text operator
        self.runs: dict[str, re.Pattern] = {}  # finds runs of static characters and of the others
        self._advances: dict[tuple[str, float], dict[str, float]] = {}
        self.static_objects: list[bytes] = []  # objects 3 onwards: the two static fonts
        self.warned: set[str] = set()
        self._infos: dict[tuple, bytes] = {}  # the document information dictionary, made once
        number = 3
        self.font_refs = {}
        for role in self.roles:
            chars = sorted(c for c in static_chars[role] if ord(c) in self.glyphs[role])
            self.codes[role] = {c: n for n, c in enumerate(chars, 1)}
            self.hexes[role] = {c: f"{n:04X}" for c, n in self.codes[role].items()}
            static_class = "".join(re.escape(c) for c in self.codes[role]) or "\\x00"
            self.runs[role] = re.compile(f"[{static_class}]+|[^{static_class}]+", re.DOTALL)
            objects = self._font_objects(role, self.codes[role], number)
            self.font_refs[self.names[role]] = number
            self.static_objects += objects
            number += len(objects)
        self.first_free = number

    @classmethod
    def build(cls, writer: "FormWriter") -> "BatchFonts | None":
        """The batch fonts, or None when a font is not a CID-keyed CFF (then fpdf2 writes)."""
        if any(_cff_source(writer.fonts.parsed[role]) is None for role in cls.roles):
            return None
        probe = _Probe(*_canvas_size(writer.form))
        document = Document(writer, blank=False, canvas=probe)
        document.form_page(layout.pages(writer.form, layout.Record())[0])
        return cls(writer, probe.chars)

    def advances(self, role: str, size: float) -> dict[str, float]:
        """How far each character moves the pen at ``size`` (in mm), worked out once."""
        table = self._advances.get((role, size))
        if table is None:
            table = self._advances[(role, size)] = _Advances(self.widths[role], size)
        return table

    def missing(self, role: str, char: str) -> None:
        if char not in self.warned:
            self.warned.add(char)
            LOG.warning("font %s has no glyph for %r; those characters are not printed", self.parsed[role].name, char)

    # -- serialising -------------------------------------------------------------
    def _font_objects(self, role: str, codes: dict[str, int], first: int, per_file: bool = False) -> list[bytes]:
        """Type0 font, CIDFont, descriptor, CFF program and ToUnicode as objects ``first``…``first+4``.

        A file's own small subset (``per_file``) is stored uncompressed: glyph outlines
        compress by about a tenth, not worth a deflate per file; the batch's static subsets
        are compressed once.
        """
        parsed = self.parsed[role]
        glyphs = [(code, self.glyphs[role][ord(char)]) for char, code in codes.items()]
        cff = self.sources[role].subset(glyphs)
        cff_keys = "/Subtype /CIDFontType0C"
        if not per_file:
            cff, cff_keys = zlib.compress(cff, 6), cff_keys + " /Filter /FlateDecode"
        tag = _tag(f"{parsed.name}{sorted(glyphs)}")
        name = f"{tag}+{parsed.name}"
        d = parsed.desc
        widths = " ".join(f"{code} [{round(self.widths[role][ord(char)])}]" for char, code in codes.items())
        tounicode = _to_unicode(codes)
        n = first
        return [
            f"<</Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
            f"/DescendantFonts [{n + 1} 0 R] /ToUnicode {n + 4} 0 R>>".encode(),
            f"<</Type /Font /Subtype /CIDFontType0 /BaseFont /{name} /CIDSystemInfo <</Registry (Adobe) "
            f"/Ordering (Identity) /Supplement 0>> /FontDescriptor {n + 2} 0 R /DW {d.missing_width} "
            f"/W [{widths}]>>".encode(),
            f"<</Type /FontDescriptor /FontName /{name} /Ascent {d.ascent} /Descent {d.descent} "
            f"/CapHeight {d.cap_height} /Flags {getattr(d.flags, 'value', d.flags)} /FontBBox {d.font_b_box} /ItalicAngle {d.italic_angle} "
            f"/StemV {d.stem_v} /MissingWidth {d.missing_width} /FontFile3 {n + 3} 0 R>>".encode(),
            _stream(cff, cff_keys),
            _stream(tounicode, "") if per_file else _stream(zlib.compress(tounicode, 6), "/Filter /FlateDecode"),
        ]

    def _info(self, info: dict) -> bytes:
        key = tuple(info.items())
        made = self._infos.get(key)
        if made is None:
            made = self._infos[key] = ("<<" + " ".join(f"/{k} {_pdf_text(v)}" for k, v in info.items()) + ">>").encode()
        return made

    def _static_block(self) -> tuple[bytes, list[int]]:
        """Objects 3 onwards (the static fonts) as written in every file of the batch, with
        each one's offset from the block's start: serialised once, copied into each file."""
        if getattr(self, "_block", None) is None:
            block, offsets = bytearray(), []
            for n, body in enumerate(self.static_objects, 3):
                offsets.append(len(block))
                block += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
            self._block = (bytes(block), offsets)
        return self._block

    def assemble(self, canvas: Canvas, info: dict) -> bytes:
        objects: dict[int, bytes] = {}
        number = self.first_free
        refs = dict(self.font_refs)
        for role in self.roles:
            if canvas.extra[role]:
                made = self._font_objects(role, canvas.extra[role], number, per_file=True)
                refs[self.extra_names[role]] = number
                for body in made:
                    objects[number] = body
                    number += 1
        fonts = " ".join(f"/{name} {ref} 0 R" for name, ref in sorted(refs.items()))
        kids = []
        for ops in canvas.pages:
            content = zlib.compress("\n".join(ops).encode("latin-1"), CONTENT_LEVEL)
            objects[number] = _stream(content, "/Filter /FlateDecode")
            objects[number + 1] = (f"<</Type /Page /Parent 2 0 R /MediaBox [0 0 {canvas.w * K:.2f} {canvas.h * K:.2f}] "
                                   f"/Resources <</Font <<{fonts}>> /ProcSet [/PDF /Text]>> "
                                   f"/Contents {number} 0 R>>").encode()
            kids.append(number + 1)
            number += 2
        info_number = number
        objects[info_number] = self._info(info)
        objects[1] = b"<</Type /Catalog /Pages 2 0 R /Lang (zh-CN)>>"
        objects[2] = (f"<</Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)}>>").encode()
        parts = [b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n"]  # joined once at the end: the file is copied once
        at = len(parts[0])
        offsets = [0] * (number + 1)
        block, block_offsets = self._static_block()
        for first, last in ((1, 2), (self.first_free, number)):
            if first == self.first_free:  # objects 3 … first_free - 1 in between, as prepared
                offsets[3:first] = [at + offset for offset in block_offsets]
                parts.append(block)
                at += len(block)
            for n in range(first, last + 1):
                offsets[n] = at
                parts += (f"{n} 0 obj\n".encode(), objects[n], b"\nendobj\n")
                at += len(parts[-3]) + len(objects[n]) + 8
        parts.append((f"xref\n0 {number + 1}\n0000000000 65535 f \n"
                      + "".join(f"{offset:010d} 00000 n \n" for offset in offsets[1:])
                      + f"trailer\n<</Size {number + 1} /Root 1 0 R /Info {info_number} 0 R>>\n"
                      f"startxref\n{at}\n%%EOF\n").encode())
        return b"".join(parts)


def _stream(data: bytes, keys: str) -> bytes:
    keys = f"{keys} " if keys else ""
    return f"<<{keys}/Length {len(data)}>>\nstream\n".encode() + data + b"\nendstream"


def _to_unicode(codes: dict[str, int]) -> bytes:
    entries = [f"<{code:04X}> <{char.encode('utf-16-be').hex().upper()}>\n" for char, code in codes.items()]
    blocks = "".join(f"{len(entries[i:i + 100])} beginbfchar\n{''.join(entries[i:i + 100])}endbfchar\n"
                     for i in range(0, len(entries), 100))
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend").encode("latin-1")


def _pdf_text(text: str) -> str:
    """A PDF text string: UTF-16BE with its byte-order mark, in hex."""
    return "<FEFF" + str(text).encode("utf-16-be").hex().upper() + ">"


def begin_actual_text(text: str) -> str:
    """The operator opening marked content whose /ActualText is ``text`` (closed by EMC): what
    text extraction reads for whatever is drawn inside (ISO 32000 §14.9.4)."""
    return f"/Span <</ActualText {_pdf_text(text)}>> BDC"


def _tag(seed: str) -> str:
    number = zlib.crc32(seed.encode())
    return "".join(chr(65 + (number >> (5 * i)) % 26) for i in range(6))


class _Probe(Canvas):
    """A canvas that only notes which characters each font draws: a form's static text."""

    def __init__(self, w: float, h: float):
        self.w, self.h = w, h
        self.pages, self.page, self.line_width = [], 0, None
        self.family, self.size = "serif", BODY_PT
        self.chars: dict[str, set[str]] = {"serif": set("0123456789-年月日"), "sans": set("0123456789")}

    def text(self, x: float, y: float, text: str) -> None:
        self.chars[self.family].update(text)


def _canvas_size(form: Form) -> tuple[float, float]:
    """The page in mm exactly as fpdf2 has it (from its sizes in points), so both paths print alike."""
    short, long = {"A4": (595.28, 841.89), "A3": (841.89, 1190.55)}[form.paper]
    return (long / K, short / K) if form.orientation == "landscape" else (short / K, long / K)


def _page_size(form: Form) -> tuple[float, float]:
    short, long = PAPER[form.paper]
    return (long, short) if form.orientation == "landscape" else (short, long)
