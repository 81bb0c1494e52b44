"""Uploaded export files: checked, staged in a per-upload folder, removed afterwards.

Each upload gets a folder named by a random id under the staging root (the
workspace's `uploads/` folder, or a private temporary folder for a PostgreSQL
workspace), holding `state.json` (who uploaded what, the chosen source and mapping)
and the files, each in its own numbered subfolder. A client's file name is only
ever used, cleaned, as the last part of a path we build; it never chooses a folder.

Files are refused (415, naming the file) when the extension is not CSV/TSV/TXT/XLSX
or when the content is not what the extension says: a program, archive, image or
old .xls renamed to .csv, binary noise, or an .xlsx that is not an Excel workbook.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, Field

from crmroi.errors import UploadRefused, UserError
from crmroi.ingest.reading import TEXT_EXTENSIONS, XLSX_EXTENSIONS, detect_encoding
from crmroi.messages import M_, N_, Message

MAX_FILES = 20
MAX_AGE_SECONDS = 24 * 3600
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
SNIFF_BYTES = 64 * 1024
CHUNK = 1024 * 1024
ALLOWED = TEXT_EXTENSIONS | XLSX_EXTENSIONS

# Leading bytes of formats that are never a text export.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", N_("a Windows program")),
    (b"\x7fELF", N_("a Linux program")),
    (b"\xcf\xfa\xed\xfe", N_("a macOS program")),
    (b"%PDF", N_("a PDF document")),
    (b"PK\x03\x04", N_("a ZIP archive")),
    (b"\x89PNG", N_("a PNG image")),
    (b"GIF8", N_("a GIF image")),
    (b"\xff\xd8\xff", N_("a JPEG image")),
    (b"\x1f\x8b", N_("a gzip archive")),
    (b"BZh", N_("a bzip2 archive")),
    (b"7z\xbc\xaf", N_("a 7-Zip archive")),
    (b"Rar!", N_("a RAR archive")),
    (b"\xd0\xcf\x11\xe0", N_("an old Excel (.xls) or Office file; save it as XLSX or CSV")),
)
UPLOAD_GONE = M_("upload_gone", "this upload is gone (committed, cancelled or expired)")


class StagedFile(BaseModel):
    """One staged file: the cleaned name shown to users and its place in the folder."""

    name: str
    relative: str
    size: int


class UploadState(BaseModel):
    """What the wizard knows about one upload (kept as state.json in its folder)."""

    upload_id: str
    username: str
    created: float
    files: list[StagedFile]
    source: str = "generic"
    mapping_yaml: str | None = None
    mode: str = Field(default="preset", description="preset, yaml or columns")
    choices: dict[str, object] | None = None


def staging_root(workspace_folder: Path | None, location: str) -> Path:
    """Where uploads are staged: in the workspace folder, or a temp folder for a URL."""
    if workspace_folder is not None:
        return workspace_folder / "uploads"
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"crmroi-uploads-{digest}"


def clean_name(client_name: str | None, index: int) -> str:
    """A safe file name from what the client sent (no folders, no odd characters)."""
    raw = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    raw = unicodedata.normalize("NFC", raw).strip()
    kept = "".join(ch if ch.isalnum() or ch in " -_.()" else "_" for ch in raw)
    kept = re.sub(r"\s+", " ", kept).strip(" .")
    suffix = Path(kept).suffix.lower()
    stem = kept[: -len(suffix)] if suffix else kept
    if not stem or stem.startswith("."):
        stem = f"upload-{index + 1}"
    return stem[:100] + suffix


class UploadArea:
    """The staging folders of one workspace."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def folder(self, upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id):
            raise UserError(M_("upload_unknown", "unknown upload"))
        return self.root / upload_id

    def stage(
        self, username: str, files: Iterable[tuple[str | None, BinaryIO]], source: str
    ) -> UploadState:
        """Check and save `files` (client name, stream) into a new upload folder."""
        pairs = list(files)
        if not pairs:
            raise UserError(M_("upload_no_files", "choose at least one CSV or XLSX file"))
        if len(pairs) > MAX_FILES:
            raise UserError(
                M_("upload_too_many", "at most %(count)s files per import", count=MAX_FILES)
            )
        self.remove_stale()
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir(parents=True, exist_ok=False, mode=0o700)
        try:
            staged = [self._save(folder, i, name, stream) for i, (name, stream) in enumerate(pairs)]
            state = UploadState(
                upload_id=upload_id,
                username=username,
                created=time.time(),
                files=staged,
                source=source,
            )
            self.save(state)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return state

    def _save(
        self, folder: Path, index: int, client_name: str | None, stream: BinaryIO
    ) -> StagedFile:
        name = clean_name(client_name, index)
        shown = client_name or name
        suffix = Path(name).suffix.lower()
        if suffix not in ALLOWED:
            refused = M_(
                "upload_unsupported_type",
                "%(file)s: only CSV, TSV, TXT and XLSX files can be imported",
                file=shown,
            )
            raise UploadRefused(refused, 415)
        target = folder / "files" / str(index) / name
        target.parent.mkdir(parents=True)
        size = 0
        with target.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    limit = self.max_bytes / 1024 / 1024
                    shown_limit = f"{limit:g}"
                    too_large = M_(
                        "upload_too_large",
                        "%(file)s: larger than the %(limit)s MB limit",
                        file=shown,
                        limit=shown_limit,
                    )
                    raise UploadRefused(too_large, 413)
                out.write(chunk)
        if size == 0:
            raise UserError(M_("upload_empty", "%(file)s: the file is empty", file=shown))
        problem = sniff(target, suffix)
        if problem:
            raise UploadRefused(
                M_("upload_unsupported_type", "%(file)s: %(reason)s", file=shown, reason=problem),
                415,
            )
        return StagedFile(name=name, relative=str(target.relative_to(folder)), size=size)

    def load(self, upload_id: str) -> UploadState:
        path = self.folder(upload_id) / "state.json"
        try:
            return UploadState.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserError(UPLOAD_GONE) from None

    def save(self, state: UploadState) -> None:
        path = self.folder(state.upload_id) / "state.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(state.model_dump_json(), encoding="utf-8")
        temporary.replace(path)

    def paths(self, state: UploadState) -> list[Path]:
        folder = self.folder(state.upload_id)
        return [folder / f.relative for f in state.files]

    def remove(self, upload_id: str) -> None:
        shutil.rmtree(self.folder(upload_id), ignore_errors=True)

    def remove_stale(self, max_age: float = MAX_AGE_SECONDS) -> None:
        """Remove uploads abandoned for longer than `max_age` seconds (and request bodies
        left `incoming-` by a server that was killed while receiving them)."""
        if not self.root.is_dir():
            return
        cutoff = time.time() - max_age
        for folder in self.root.iterdir():
            ours = UPLOAD_ID.match(folder.name) or folder.name.startswith("incoming-")
            if ours and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


def sniff(path: Path, suffix: str) -> Message | None:
    """Why the content does not match the extension, or None when it does."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if suffix in XLSX_EXTENSIONS:
        return _check_workbook(path, head)
    for magic, what in MAGIC:
        if head.startswith(magic):
            kind = Message("upload_kind", what)
            return M_("upload_not_text", "this is %(what)s, not a CSV text file", what=kind)
    if _looks_binary(head):
        return M_("upload_binary", "this is binary data, not a CSV text file")
    return None


def _check_workbook(path: Path, head: bytes) -> Message | None:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return M_("upload_xls", "this is an old Excel (.xls) file; save it as XLSX or CSV")
    if not head.startswith(b"PK\x03\x04"):
        return M_("upload_not_xlsx", "this is not an Excel workbook (XLSX)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return M_("upload_damaged_xlsx", "this is a damaged or incomplete Excel workbook")
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        return M_("upload_zip_not_xlsx", "this ZIP archive is not an Excel workbook (XLSX)")
    return None


def _looks_binary(head: bytes) -> bool:
    """Control characters or undecodable bytes in more than 2% of the decoded sample."""
    if not head:
        return False
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="replace")
    if len(head) == SNIFF_BYTES:
        text = text[:-4]  # the sample may cut a character in two
    if not text:
        return False
    odd = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f\v"))
    odd += text.count("\x7f")
    return odd > max(2, len(text) * 0.02)
