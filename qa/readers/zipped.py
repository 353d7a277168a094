"""Word and PowerPoint files are zip archives: checked before their library opens them, so a text file named
.docx or a zip bomb named .pptx is refused with a reason instead of failing a build."""

from __future__ import annotations

import io
import zipfile

from qa.errors import UnreadableDocument

MAX_UNPACKED_BYTES = 200_000_000  # what the archive's parts may take once unpacked: a 20 MB deck is ~60 MB
MAX_RATIO = 200  # a part a hundred times smaller packed than unpacked is usual for XML; thousands is a bomb


def check_zip(data: bytes, name: str, part: str, kind: str) -> None:
    """Refuse data unless it is a sound zip archive holding part, that unpacks to a reasonable size.

    Raises:
        UnreadableDocument: saying what the file is instead ("not a zip archive", "unpacks to 5 GB").
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise UnreadableDocument(f"{name}: not {kind} (not a zip archive: {error}); save it again from its "
                                 "program") from None
    if part not in {member.filename for member in members}:
        raise UnreadableDocument(f"{name}: not {kind} (it has no {part}); save it again from its program")
    unpacked = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members) or 1
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_RATIO * max(packed, 100_000):
        raise UnreadableDocument(f"{name}: unpacks to {unpacked / 1e6:.0f} MB from {len(data) / 1e6:.1f} MB, "
                                 "too much to be a document (a zip bomb?); not read")
