"""WordprocessingML details shared by the Word writers (the forms' `docx` and the booklet's
`booklet_docx`); python-docx only, so a booklet does not import docxtpl for them."""
from __future__ import annotations

from docx.oxml import OxmlElement
from docx.oxml.ns import qn


def set_rpr_font(rpr, name: str, latin_lang: str | None = None) -> None:
    """``name`` for every script of the run properties ``rpr`` (no theme font, which would win
    over it) and zh-CN as their East Asian language, so Word and LibreOffice pick Chinese
    glyphs; ``latin_lang`` also sets the language of Latin text."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(key), name)
    for key in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(key), None)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    if latin_lang:
        lang.set(qn("w:val"), latin_lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
