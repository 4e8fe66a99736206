"""The JSON shapes of the web API (what FastAPI's OpenAPI document shows). Files are
never paths: each is a URL under ``/api/sessions/{id}/artworks/...`` that the server
answers after the store's access check."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from museforge.bots.actions import ActionName
from museforge.bots.web.uploads import MAX_PENDING


class SessionIn(BaseModel):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$",
                      description="The session's name; the CLI's `--session NAME` names "
                                  "the same session.")


class SessionOut(BaseModel):
    id: int
    name: str
    title: str
    platform: str
    artworks: int = Field(description="How many artworks (#1..#N) the session holds.")
    created_at: datetime


class ActionOut(BaseModel):
    """A button under a result: pressing it runs a turn with ``message``."""

    action: ActionName
    label: str
    artwork: int
    version: int = Field(description="The version it was shown under (it acts on that one).")
    message: str


class ArtifactOut(BaseModel):
    artwork: int
    ref: str = Field(description="'#N' as the user sees it.")
    version: int
    kind: Literal["image", "music", "audio"]
    title: str
    files: dict[str, str] = Field(description="role -> URL: a picture's png; a piece's mid, "
                                              "ogg and png (piano roll; abc or musicxml for "
                                              "a score a person sent); a clip's wav, ogg and "
                                              "png (waveform and spectrogram)")
    actions: list[ActionOut] = Field(default_factory=list)


class DownloadOut(BaseModel):
    """A score ``export_music`` wrote in this session (ABC, MusicXML or MIDI)."""

    name: str = Field(description="The file's name, e.g. '2-v1-my-tune.musicxml'.")
    format: Literal["abc", "musicxml", "midi"]
    artwork: int
    version: int
    url: str = Field(description="Where to download it (the session's access rule applies).")


class ToolCallOut(BaseModel):
    name: str
    ok: bool
    error: str | None = None


class FileError(BaseModel):
    file: str | None = Field(default=None, description="The uploaded file's display name.")
    error: str


class TurnOut(BaseModel):
    reply: str
    planner: str
    tool_calls: list[ToolCallOut]
    artifacts: list[ArtifactOut]
    batches: list[list[int]] = Field(
        default_factory=list,
        description="Artwork numbers made together by one call (a batch gets V1..V4).")
    errors: list[FileError] = Field(default_factory=list)
    downloads: list[DownloadOut] = Field(default_factory=list)


class MessageOut(BaseModel):
    id: int
    role: Literal["user", "assistant", "tool"]
    text: str
    created_at: datetime
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    artifacts: list[ArtifactOut] = Field(default_factory=list)
    batches: list[list[int]] = Field(default_factory=list)
    downloads: list[DownloadOut] = Field(default_factory=list)


class ArtworkOut(BaseModel):
    number: int
    ref: str
    kind: Literal["image", "music", "audio"]
    title: str
    head: int | None = Field(description="The current version (undo/redo/revert move it).")
    versions: int
    can_undo: bool
    can_redo: bool
    thumbnail: str | None = Field(description="URL of the head version's PNG.")
    created_at: datetime


class VersionOut(BaseModel):
    number: int
    parent: int | None = Field(description="The version this one was made from (a tree).")
    operation: str
    head: bool
    created_at: datetime
    files: dict[str, str]
    recipe: dict[str, object]


class TurnIn(BaseModel):
    """Either a message in words, or a button's ``action`` on an ``artwork`` (``revert``
    also needs a ``version``). ``uploads`` are ids from ``POST .../uploads``."""

    message: str = Field(default="", max_length=4000)
    uploads: list[str] = Field(default_factory=list, max_length=MAX_PENDING)
    action: ActionName | None = None
    artwork: int | None = Field(default=None, ge=1)
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_kind(self) -> TurnIn:
        if self.action is None:
            if not self.message.strip() and not self.uploads:
                raise ValueError("say something (a message), press a button (an action) "
                                 "or attach a file")
            return self
        if self.message.strip() or self.uploads:
            raise ValueError("give either a message or an action, not both")
        if self.artwork is None:
            raise ValueError(f"the '{self.action}' action needs an artwork")
        if self.action == "revert" and self.version is None:
            raise ValueError("the 'revert' action needs a version")
        return self


class JobOut(BaseModel):
    id: str
    session: int
    message: str = Field(description="The turn's text as the assistant reads it.")
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    position: int = Field(description="Place in the queue while waiting (1 = next); 0 after.")
    wait_s: int | None = Field(default=None, description=(
        "While waiting: about how many seconds until it starts (from recent turns' times; "
        "none before the first)."))
    events: str = Field(description="URL of this job's server-sent events.")
    result: TurnOut | None = None
    error: str | None = None


class UploadOut(BaseModel):
    id: str = Field(description="Pass it in a turn's `uploads`.")
    name: str
    size: int


class InfoOut(BaseModel):
    user: str = Field(description="Who the page acts as: the local user ('you'), or the "
                                  "person whose token signed in.")
    signed_in: bool = Field(default=False, description=(
        "Signed in with a person's own token (the page offers to sign out)."))
    planner: str
    max_upload_bytes: int
    waiting: int = Field(description="Turns waiting in the shared queue now.")
