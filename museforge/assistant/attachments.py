"""Files a person brings into a conversation ("make this brighter" + a PNG) become new
artworks through the safe loaders of the image and music rooms (MIDI; ABC and MusicXML
scores, read by tools/note_tools.py). A suffix with no loader
yet is refused with a clear error; the turn goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from museforge.tools.audio_tools import import_audio
from museforge.tools.base import Artifact, ToolContext
from museforge.tools.image_support import import_image
from museforge.tools.music_support import import_midi
from museforge.tools.note_tools import import_abc, import_musicxml

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
Loader = Callable[[ToolContext, Path, bool], Artifact | None]

# suffix -> loader(ctx, path, dry_run). Anything else goes to the image loader, which
# looks at the bytes, not the name, and says what a refused file is ("this is a TIFF
# image; send a PNG, JPEG, WebP or GIF image").
LOADERS: dict[str, Loader] = {".mid": import_midi, ".midi": import_midi, ".kar": import_midi,
                              ".smf": import_midi, ".rmi": import_midi,
                              ".abc": import_abc, ".musicxml": import_musicxml,
                              ".mxl": import_musicxml, ".xml": import_musicxml,
                              **dict.fromkeys((".wav", ".wave", ".flac", ".ogg", ".oga",
                                               ".opus", ".mp3"), import_audio)}
DEFAULT_LOADER: Loader = import_image


class AttachmentError(Exception):
    pass


def import_attachment(ctx: ToolContext, path: Path, *, dry_run: bool = False) -> Artifact | None:
    if not path.is_file():
        raise AttachmentError("no such file")
    size = path.stat().st_size
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(f"the file is {size / 2**20:.0f} MB; the limit is "
                              f"{MAX_ATTACHMENT_BYTES // 2**20} MB")
    loader = LOADERS.get(path.suffix.lower(), DEFAULT_LOADER)
    return loader(ctx, path, dry_run)
