"""Files a person brings into a conversation ("make this brighter" + a PNG) become new
artworks through the safe loaders of the image and music rooms. A suffix with no loader
yet is refused with a clear error; the turn goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from museforge.tools.base import Artifact, ToolContext

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024

# suffix -> loader(ctx, path, dry_run) -> Artifact. The image and music tools register
# theirs here when they exist.
LOADERS: dict[str, Callable[[ToolContext, Path, bool], Artifact | None]] = {}


class AttachmentError(Exception):
    pass


def import_attachment(ctx: ToolContext, path: Path, *, dry_run: bool = False) -> Artifact | None:
    if not path.is_file():
        raise AttachmentError("no such file")
    size = path.stat().st_size
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(f"the file is {size / 2**20:.0f} MB; the limit is "
                              f"{MAX_ATTACHMENT_BYTES // 2**20} MB")
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        known = ", ".join(sorted(LOADERS)) or "none yet"
        raise AttachmentError(f"I can't bring in {path.suffix or 'extension-less'} files "
                              f"(supported: {known})")
    return loader(ctx, path, dry_run)
