"""Per-user defaults and per-server settings for the Discord bot, kept in one small JSON
file in the data dir (``discord.json``). They are front-end choices (how to reply, which
model preset to ask for), not conversation state, so they live apart from the store.

Writes go to a temp file that is fsynced and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
PREFS_FILE = "discord.json"
MAX_JOBS = 3  # the job queue's own per-user limit
MAX_UPLOAD_MB = 25


@dataclass(frozen=True)
class UserPrefs:
    """A member's defaults: the image model preset to ask for, the finish /imagine uses
    when none is given, and whether replies to their slash commands are private."""

    preset: str | None = None
    style: str | None = None
    private: bool = False


@dataclass(frozen=True)
class GuildPrefs:
    """A server's settings, changed by members with Manage Server: the model preset for
    everyone (None: the host's default), whether members may pick their own, how many
    requests a member may have in progress, and the size cap for attached files."""

    model: str | None = None
    allow_presets: bool = True
    max_jobs: int = MAX_JOBS
    max_upload_mb: int = 8


def _load(cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        return cls()
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in known})


class Prefs:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._users: dict[str, UserPrefs] = {}
        self._guilds: dict[str, GuildPrefs] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._users = {k: _load(UserPrefs, v) for k, v in data.get("users", {}).items()}
                self._guilds = {k: _load(GuildPrefs, v) for k, v in data.get("guilds", {}).items()}
            except (OSError, ValueError, TypeError) as exc:
                # A broken file must not stop the bot; it is replaced on the next change.
                log.warning("ignoring unreadable %s: %s", self.path, exc)

    def user(self, user_id: int | str) -> UserPrefs:
        return self._users.get(str(user_id), UserPrefs())

    def guild(self, guild_id: int | str | None) -> GuildPrefs:
        return self._guilds.get(str(guild_id), GuildPrefs()) if guild_id else GuildPrefs()

    def set_user(self, user_id: int | str, **changes: Any) -> UserPrefs:
        with self._lock:
            new = replace(self.user(user_id), **changes)
            self._users[str(user_id)] = new
            self._save()
        return new

    def set_guild(self, guild_id: int | str, **changes: Any) -> GuildPrefs:
        with self._lock:
            new = replace(self.guild(guild_id), **changes)
            self._guilds[str(guild_id)] = new
            self._save()
        return new

    def preset_for(self, user_id: int | str, guild_id: int | str | None) -> str | None:
        """The model preset a request by this member asks for: their own where the server
        allows it, else the server's, else None (the host's default)."""
        mine, server = self.user(user_id), self.guild(guild_id)
        if mine.preset and (guild_id is None or server.allow_presets):
            return mine.preset
        return server.model

    def _save(self) -> None:
        data = {"users": {k: asdict(v) for k, v in self._users.items()},
                "guilds": {k: asdict(v) for k, v in self._guilds.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
