"""Evidence uploads: which files are accepted, decided from their first bytes and their extension.

The browser's Content-Type is not trusted. A file is accepted when its extension is on the list
below and its content starts the way that kind of file starts (text kinds: valid UTF-8 without NUL
bytes). HTML, SVG, scripts and executables are refused: evidence is downloaded as an attachment,
but nothing a browser would run is stored in the first place.
"""

from __future__ import annotations

import re
import unicodedata

from soc2kit.errors import UserError
from soc2kit.evidence.store import check_name

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
MAGIC: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".zip": _ZIP,
    ".xlsx": _ZIP,
    ".docx": _ZIP,
    ".pptx": _ZIP,
    ".odt": _ZIP,
    ".ods": _ZIP,
    ".gz": (b"\x1f\x8b",),
    ".parquet": (b"PAR1",),
}
TEXT = (".txt", ".csv", ".tsv", ".json", ".jsonl", ".md", ".log", ".yaml", ".yml", ".xml")
ALLOWED = tuple(sorted(set(MAGIC) | set(TEXT)))


_MARKUP_START = re.compile(rb"<(?:!doctype\s+(?:html|svg)|html|head|body|script|svg|iframe|frameset|object|embed|meta|style|img)(?=[\s/>:]|$)")


def _starts_with_markup(data: bytes) -> bool:
    """Whether a text file opens with an HTML or SVG element, once a byte-order mark, whitespace, XML
    declarations or processing instructions and comments in front of it are set aside."""
    head = data[:8192].lower().removeprefix(b"\xef\xbb\xbf")
    while True:
        head = head.lstrip()
        for opener, closer in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if head.startswith(opener):
                end = head.find(closer, len(opener))
                head = b"" if end < 0 else head[end + len(closer):]
                break
        else:
            return _MARKUP_START.match(head) is not None


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def clean_name(raw: str | None) -> str:
    """The uploaded file's name, NFC-normalised and checked by the evidence store (no separators, no '..')."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise UserError("the upload has no file name", hint="choose a file to upload")
    return check_name(name)


def check_content(name: str, data: bytes) -> str:
    """The kind of file (its extension) when ``data`` looks like one; a UserError otherwise."""
    ext = _extension(name)
    if ext not in MAGIC and ext not in TEXT:
        raise UserError(f"files of type {ext or '(no extension)'!r} are not accepted as evidence",
                        hint="upload one of: " + ", ".join(ALLOWED) + " (export web pages as PDF)")
    if not data:
        raise UserError("the uploaded file is empty")
    if ext in MAGIC:
        if not data.startswith(MAGIC[ext]):
            raise UserError(f"the file is named {ext} but its content is not a {ext[1:].upper()} file", hint="upload the original file, not a renamed one")
        return ext
    if b"\x00" in data:
        raise UserError(f"the file is named {ext} but holds binary data", hint="upload a text file, or the original binary format")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"the {ext} file is not UTF-8 text", hint="save it as UTF-8") from None
    if _starts_with_markup(data):
        raise UserError("the file holds HTML or SVG markup, which is not accepted as evidence", hint="export the page as PDF")
    return ext
