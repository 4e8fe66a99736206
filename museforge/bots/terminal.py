"""The terminal chat (``museforge chat``): rich output, artifact paths, an inline preview
where the terminal can show images (kitty, iTerm2, WezTerm), progress while a tool runs,
slash commands, and Ctrl-C that cancels the running tool but keeps the session."""

from __future__ import annotations

import base64
import os
import sys
from concurrent.futures import CancelledError
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from museforge.assistant.output import present
from museforge.assistant.turn import TurnResult
from museforge.bots.service import Studio, turn_request
from museforge.storage.export import export_session
from museforge.storage.models import Actor, Scope, SessionInfo
from museforge.tools.base import Artifact

HELP = """[bold]Talk to me[/] in plain words, e.g. “paint a fox in the snow”, then “warmer”, “undo”.
[bold]Commands[/]
  /help             this help
  /history          the conversation so far
  /undo             undo the last change
  /export [DIR]     write the session's files and an index.html gallery
  /session [NAME]   show or switch the session
  /quit             leave (Ctrl-D works too); Ctrl-C cancels a running tool"""


class TerminalOutput:
    """The terminal's implementation of ``assistant.output.Output``."""

    def __init__(self, console: Console, status: Status | None = None, *,
                 no_inline: bool = False):
        self.console = console
        self.status = status
        self.inline = None if no_inline else _inline_protocol()

    def text(self, text: str) -> None:
        self.console.print(f"[bold magenta]museforge[/] › {escape(text)}", highlight=False)

    def image(self, artifact: Artifact) -> None:
        self._paths(artifact)
        png = artifact.files.get("png")
        if png is not None and self.inline:
            _show_inline(png, self.inline, self.console)

    def audio(self, artifact: Artifact) -> None:
        self._paths(artifact)
        roll = artifact.files.get("png")
        if roll is not None and self.inline:
            _show_inline(roll, self.inline, self.console)

    def progress(self, what: str, step: int, total: int) -> None:
        if self.status is not None:
            self.status.update(f"{what} — step {step}/{total}")

    def error(self, text: str) -> None:
        self.console.print(f"[red]{escape(text)}[/]", highlight=False)

    def _paths(self, a: Artifact) -> None:
        files = "  ".join(f"{role}: {path}" for role, path in a.files.items())
        # soft wrap: a path stays one line to copy (a pipe is 80 columns to rich, and a
        # hard wrap would cut every path in two); the terminal wraps it on screen
        self.console.print(f"  [cyan]#{a.artwork} v{a.version}[/] {escape(a.title)}  "
                           f"[dim]{escape(files)}[/]", highlight=False, soft_wrap=True)


class TerminalChat:
    def __init__(self, studio: Studio, actor: Actor, session: SessionInfo,
                 console: Console | None = None):
        self.studio = studio
        self.store = studio.store
        self.actor = actor
        self.session = session
        self.console = console or Console()
        self.no_inline = studio.settings.no_inline

    def run(self) -> None:
        c = self.console
        c.print(f"[bold]museforge[/] — session [cyan]{escape(self.session.name)}[/], "
                f"planner [cyan]{self.studio.assistant.planner.name}[/]. /help for help, /quit to "
                "leave.", highlight=False)
        interactive = sys.stdin.isatty()
        while True:
            try:
                line = c.input("[bold cyan]you[/] › ") if interactive else _read_line()
            except EOFError:
                break
            except KeyboardInterrupt:
                c.print("\n[dim](Ctrl-D or /quit to leave)[/]")
                continue
            if line is None:
                break
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    break
                continue
            self.say(line)
        c.print("Bye — your work is saved.")

    def say(self, message: str) -> TurnResult | None:
        """One turn, through the studio's door. Ctrl-C cancels it: the tool stops at its
        next step and nothing more is stored. The turn is still waited for, so that
        nothing of it can land after the next one."""
        cancelled = False
        with self.console.status("thinking…", spinner="dots") as status:
            out = TerminalOutput(self.console, status, no_inline=self.no_inline)

            def on_cancel() -> None:
                nonlocal cancelled
                cancelled = True
                status.update("cancelling… (stopping at the next step)")

            request = turn_request(self.actor, self.session, message, front_end="terminal")
            try:
                result = self.studio.ask(request, on_progress=out.progress,
                                         on_cancel=on_cancel)
            except CancelledError:  # cancelled before it started
                result = None
            except Exception as exc:  # the queue reports a crashed worker this way
                TerminalOutput(self.console).error(f"That turn did not finish ({exc}).")
                return None
        out = TerminalOutput(self.console, no_inline=self.no_inline)
        if result is None:
            out.error("That turn did not finish.")
            return None
        present(result, out)  # a cancelled turn's reply says what, if anything, was kept
        if cancelled and not result.cancelled:
            self.console.print("[yellow]It had already finished when you cancelled; "
                               "everything is kept.[/]")
        return result

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, rest = line[1:].partition(" ")
        name, rest = name.lower(), rest.strip()
        c = self.console
        if name in ("quit", "exit", "q"):
            return False
        if name in ("help", "h", "?"):
            c.print(HELP)
        elif name == "history":
            for m in self.store.history(self.actor, self.session):
                who = {"user": "[cyan]you[/]", "assistant": "[magenta]museforge[/]"}.get(
                    m.role, m.role)
                c.print(f"{who}: {escape(m.text)}", highlight=False)
        elif name == "undo":
            self.say("undo " + rest if rest else "undo")
        elif name == "export":
            dest = Path(rest or f"museforge-{self.session.name}").expanduser()
            index = export_session(self.store.export_data(self.actor, self.session), dest)
            c.print(f"Exported to {index}", highlight=False, markup=False)
        elif name == "session":
            if rest:
                self.session = self.store.session(self.actor, Scope.local(rest))
            c.print(f"Session [cyan]{escape(self.session.name)}[/].")
        else:
            c.print(f"Unknown command /{escape(name)}. /help lists them.")
        return True


def _read_line() -> str | None:
    line = sys.stdin.readline()
    return line if line else None


def _inline_protocol() -> str | None:
    """Which inline-image protocol the terminal speaks, if any. The terminals' own
    variables (TERM, KITTY_WINDOW_ID...) are read here: they are not our settings."""
    if not sys.stdout.isatty():
        return None
    term, program = os.environ.get("TERM", ""), os.environ.get("TERM_PROGRAM", "")
    if "kitty" in term or os.environ.get("KITTY_WINDOW_ID"):
        return "kitty"
    if program in ("iTerm.app", "WezTerm") or os.environ.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    return None


def _show_inline(path: Path, protocol: str, console: Console) -> None:
    try:
        data = path.read_bytes()
    except OSError:
        return
    payload = base64.b64encode(data).decode()
    if protocol == "iterm":
        seq = f"\033]1337;File=inline=1;width=40;preserveAspectRatio=1:{payload}\a"
    else:  # kitty graphics protocol, PNG (f=100), sent in 4 KB chunks
        chunks = [payload[i:i + 4096] for i in range(0, len(payload), 4096)] or [""]
        parts = []
        for i, chunk in enumerate(chunks):
            more = 1 if i < len(chunks) - 1 else 0
            head = "a=T,f=100,c=40," if i == 0 else ""
            parts.append(f"\033_G{head}m={more};{chunk}\033\\")
        seq = "".join(parts)
    console.file.write(seq + "\n")
    console.file.flush()
