"""The ``museforge`` command. Imports stay light here: no torch on ``--help``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from museforge.assistant.jobs import QueueFull, QueueUnavailable
from museforge.config import Settings, load_settings
from museforge.storage.errors import DatabaseUnavailable, NotFound, StorageError
from museforge.storage.models import Actor, SessionInfo, VersionInfo
from museforge.storage.store import Store

if TYPE_CHECKING:
    from museforge.bots.service import Studio

app = typer.Typer(
    name="museforge",
    help="A conversational co-creation assistant for pictures and music.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Image and audio model presets and their weights.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")
console = Console()
err = Console(stderr=True, soft_wrap=True)

SessionOpt = Annotated[str, typer.Option("--session", "-s", help="Session name.")]


class UsageError(Exception):
    """Bad arguments: exit status 2."""


def open_store(settings: Settings | None = None, *, create: bool = True
               ) -> tuple[Settings, Store, Actor]:
    """The configured store and the local user. ``create=False``: a SQLite database that
    does not exist yet is not made (an empty in-memory one stands in for it)."""
    settings = settings or load_settings()
    store = Store.open(settings, create=create)
    return settings, store, Actor(store.local_user())


def local_session(store: Store, actor: Actor, name: str) -> SessionInfo:
    return store.local_session(actor, name)


def _has_session(store: Store, actor: Actor, name: str) -> bool:
    try:
        store.local_session(actor, name)
    except NotFound:
        return False
    return True


def open_studio(settings: Settings, store: Store) -> Studio:
    """The door every turn goes through, over ``store`` (already open)."""
    from museforge.assistant import PlannerUnavailable
    from museforge.bots.service import Studio

    try:
        return Studio.open(settings, store=store, workers=1)
    except PlannerUnavailable as exc:
        raise UsageError(str(exc)) from exc


# -- chat and ask ----------------------------------------------------------------------


@app.command()
def chat(session: SessionOpt = "default") -> None:
    """Chat with the assistant in the terminal (the work is saved as you go)."""
    from museforge.bots.terminal import TerminalChat
    from museforge.storage.models import Scope

    settings, store, actor = open_store()
    with store, open_studio(settings, store) as studio:
        info = store.session(actor, Scope.local(session))
        TerminalChat(studio, actor, info, console).run()


@app.command()
def ask(
    message: Annotated[str, typer.Argument(help="What to ask, in plain words.")],
    session: SessionOpt = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print the turn as one JSON object.")]
    = False,
    plan_only: Annotated[bool, typer.Option("--plan-only", help="Plan, but run nothing.")]
    = False,
    attach: Annotated[list[Path] | None, typer.Option(
        "--attach", help="An image or MIDI file to bring in first (repeatable).")] = None,
) -> None:
    """Run one turn and print the reply (or, with --json, the whole turn)."""
    from museforge.storage.models import Scope

    # --plan-only writes nothing: no database file is made, and a session that does not
    # exist yet is planned in as an empty one instead of being created.
    settings, store, actor = open_store(create=not plan_only)
    if plan_only and not store.in_memory and not _has_session(store, actor, session):
        store.close()
        store = Store.scratch(settings.home)
        actor = Actor(store.local_user())
    from museforge.bots.service import turn_request

    with store, open_studio(settings, store) as studio:
        info = store.session(actor, Scope.local(session))
        result = studio.ask(turn_request(actor, info, message, attach or [], front_end="cli",
                                         plan_only=plan_only))
    if as_json:
        _print_json(result.to_json())
        return
    console.print(result.reply, highlight=False, markup=False)
    for a in [*result.imported, *result.artifacts]:
        files = "  ".join(f"{role}: {path}" for role, path in a.files.items())
        console.print(f"  #{a.artwork} v{a.version} {a.title}  {files}", highlight=False,
                      markup=False, soft_wrap=True)


# -- front-ends --------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (beyond 127.0.0.1 needs "
                                           "MUSEFORGE_WEB_TOKEN or people with tokens of "
                                           "their own: museforge users add).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the web chat.")] = 8000,
    with_discord: Annotated[bool, typer.Option(
        "--discord", help="Run the Discord bot too, on the same job queue.")] = False,
) -> None:
    """Serve the web chat (and, with --discord, the Discord bot beside it)."""
    from museforge.bots.web.server import (
        ServeError,
        address,
        check_bind,
        is_loopback,
        make_server,
        web_token,
    )
    from museforge.bots.web.server import serve as serve_web

    settings = load_settings()
    if not with_discord:
        try:
            serve_web(settings, host, port)
        except ServeError as exc:
            raise UsageError(str(exc)) from exc
        return
    import asyncio

    from museforge.bots.discord.bot import BotSetupError, start, token_of
    from museforge.bots.service import Studio

    token = web_token(settings)
    try:
        if token is not None or is_loopback(host):
            check_bind(host, token)  # before the studio opens: a bad token fails at once
    except ServeError as exc:
        raise UsageError(str(exc)) from exc
    studio = Studio.open(settings)
    try:  # beyond loopback without the shared token: people's own tokens will do
        check_bind(host, token, accounts=studio.store.web_accounts_exist())
        discord_token = token_of(settings)
    except (ServeError, BotSetupError) as exc:
        studio.close()
        raise UsageError(str(exc)) from exc

    async def both() -> None:
        server = make_server(studio, host, port, token)
        console.print(f"museforge web chat on {address(host, port, token)} and the Discord "
                      "bot, on one queue (Ctrl-C stops both)", highlight=False, markup=False)
        await asyncio.gather(server.serve(), start(studio, token=discord_token))

    try:
        asyncio.run(both())
    except BotSetupError as exc:
        raise UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    finally:
        studio.close()


@app.command()
def worker(
    preset: Annotated[str | None, typer.Option(help=(
        "The image preset this worker paints with (the queue `images` is "
        "museforge.images.PRESET); default MUSEFORGE_IMAGE_MODEL."))] = None,
    queues: Annotated[str, typer.Option(help=(
        "The model families whose turns this worker runs, comma-separated: images (the "
        "preset's), images-PRESET, music, audio. A turn goes to the family of the tools "
        "it will call (a mixed one to its heaviest: images, then audio)."))] = (
        "images,music,audio"),
    name: Annotated[str | None, typer.Option(help=(
        "This worker's name in the cluster; default host:pid."))] = None,
    device: Annotated[str | None, typer.Option(help=(
        "The GPU this worker uses (cuda:0, cuda:1...); default MUSEFORGE_DEVICE."))] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Run turns for the front-ends (MUSEFORGE_QUEUE=celery): one turn at a time, models
    kept loaded between turns. Start one per GPU (--device cuda:N)."""
    from museforge.assistant import PlannerUnavailable
    from museforge.assistant.routes import worker_routes
    from museforge.bots.worker import run_worker

    settings = load_settings()
    if device is not None:
        settings = settings.model_copy(update={"device": device})
    try:
        routes = worker_routes(queues.split(","), preset or settings.image_model)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    try:
        run_worker(settings, routes, preset=preset, name=name, loglevel=loglevel)
    except PlannerUnavailable as exc:
        raise UsageError(str(exc)) from exc


@app.command("discord")
def discord_bot() -> None:
    """Run the Discord bot (token from MUSEFORGE_DISCORD_TOKEN)."""
    from museforge.bots.discord.bot import run

    run(load_settings())


# -- history, show, export -------------------------------------------------------------


@app.command()
def history(
    session: Annotated[str | None, typer.Argument(help="Session name; omit to list them.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List your sessions, or show one session's conversation in order."""
    _, store, actor = open_store()
    with store:
        if session is None:
            sessions = store.list_sessions(actor)
            if as_json:
                _print_json([{"session": s.name, "artworks": s.artwork_count,
                              "updated": s.created_at.isoformat()} for s in sessions])
                return
            table = Table("session", "artworks", "started", title="Sessions")
            for s in sessions:
                table.add_row(escape(s.name), str(s.artwork_count),
                              f"{s.created_at:%Y-%m-%d %H:%M}")
            console.print(table if sessions else "No sessions yet.")
            return
        info = local_session(store, actor, session)
        messages = store.history(actor, info)
        if as_json:
            _print_json([{"role": m.role, "text": m.text, "tool_calls": m.tool_calls,
                          "planner": m.planner, "at": m.created_at.isoformat()}
                         for m in messages])
            return
        for m in messages:
            style = {"user": "bold cyan", "assistant": "green", "tool": "yellow"}[m.role]
            console.print(f"[{style}]{m.role}[/]: {escape(m.text)}", highlight=False)
            for call in m.tool_calls:
                if isinstance(call, dict):
                    mark = "ok" if call.get("ok") else f"error: {call.get('error')}"
                    console.print(escape(f"    ↳ {call.get('name')}({_args(call.get('args'))}) "
                                         f"{mark}"),
                                  style="dim", highlight=False)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Artwork: #N, '#N vM', latest.")],
    session: SessionOpt = "default",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show an artwork's version tree, the chosen version's recipe and its files."""
    _, store, actor = open_store()
    with store:
        info = local_session(store, actor, session)
        art, chosen = store.resolve(actor, info, ref)
        versions = store.versions(actor, info, art.number)
        if as_json:
            _print_json({"artwork": f"#{art.number}", "kind": art.kind, "title": art.title,
                         "head": art.head_number, "version": chosen.number,
                         "versions": [_version_json(v) for v in versions]})
            return
        tree = Tree(f"[bold]#{art.number}[/] {escape(art.title)} [dim]({art.kind})[/]")
        nodes: dict[int | None, Any] = {None: tree}
        for v in versions:  # parents always come before children
            mark = " [bold blue]← head[/]" if v.number == art.head_number else ""
            label = f"v{v.number} [dim]{v.operation}[/]{mark}"
            nodes[v.number] = nodes.get(v.parent_number, tree).add(label)
        console.print(tree)
        console.print(f"\n[bold]v{chosen.number}[/] recipe:")
        console.print_json(json.dumps(chosen.recipe, default=str))
        for role, path in chosen.files.items():  # whole, on one line, even when piped
            console.print(f"  {role}: {path}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def export(
    session: Annotated[str, typer.Argument(help="Session name.")],
    dest: Annotated[Path, typer.Argument(help="Folder to write (created if missing).")],
) -> None:
    """Write every asset of a session plus an index.html gallery to DEST."""
    from museforge.storage.export import export_session

    _, store, actor = open_store()
    with store:
        info = local_session(store, actor, session)
        index = export_session(store.export_data(actor, info), dest)
    console.print(f"Exported '{session}' to {index}", highlight=False, markup=False,
                  soft_wrap=True)


@app.command()
def replay(
    ref: Annotated[str, typer.Argument(help="The version to re-make: #N or '#N vM'.")],
    session: SessionOpt = "default",
) -> None:
    """Re-make a version from its recipe; exit 0 when the pixels are identical, 1 when not."""
    from museforge.tools.base import ToolContext, ToolError
    from museforge.tools.replay import replay as remake

    settings, store, actor = open_store()
    with store:
        info = local_session(store, actor, session)
        try:
            report = remake(ToolContext(store, actor, info, settings), ref)
        except ToolError as exc:
            err.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
            raise typer.Exit(1) from exc
    mark = "[green]identical[/]" if report.identical else "[red]differs[/]"
    console.print(f"{escape(report.ref)}: {mark} — {escape(report.detail)}", highlight=False)
    raise typer.Exit(0 if report.identical else 1)


@app.command("train-style")
def train_style(
    name: Annotated[str, typer.Argument(help="The style's name, e.g. 'Aird' or 'Pip'.")],
    files: Annotated[list[Path], typer.Argument(help="Pictures (PNG, JPEG, WebP) or MIDI "
                                                     "files to learn from.")],
    character: Annotated[bool, typer.Option(
        "--character", help="Pictures of one subject: its name becomes its trigger word.")
    ] = False,
    steps: Annotated[int | None, typer.Option(help="Training steps (default: the "
                                                   "model's).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the training.")] = 0,
    session: SessionOpt = "default",
) -> None:
    """Learn a style from files (learn_style for scripts): each file comes into the
    session through the safe loaders (a refused one is said and left out), then the style
    is trained with progress on stderr; exit 0 when it was learnt, 1 when not."""
    from museforge.assistant.attachments import AttachmentError, import_attachment
    from museforge.storage.models import Scope
    from museforge.tools.base import ToolContext, ToolError
    from museforge.tools.registry import get_tool

    settings, store, actor = open_store()
    with store:
        info = store.session(actor, Scope.local(session))

        def progress(what: str, step: int, total: int) -> None:
            err.print(f"{escape(what)}: {step}/{total}", highlight=False)

        ctx = ToolContext(store, actor, info, settings, progress=progress)
        refs = []
        for path in files:
            try:
                made = import_attachment(ctx, path)
            except (AttachmentError, ToolError) as exc:
                err.print(f"[yellow]{escape(str(path))}: left out — "
                          f"{escape(_one_line(exc))}[/]", highlight=False)
                continue
            if made is not None:
                refs.append(made.ref)
        if not refs:
            err.print("[red]error:[/] no file could be brought in", highlight=False)
            raise typer.Exit(1)
        args: dict[str, Any] = {"name": name, "artworks": refs, "seed": seed}
        if character:
            args["character"] = True
        if steps is not None:
            args["steps"] = steps
        try:
            said = get_tool("learn_style").run(ctx, args).message
        except (ToolError, StorageError) as exc:
            err.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
            raise typer.Exit(1) from exc
    console.print(escape(said), highlight=False)


# -- doctor ----------------------------------------------------------------------------


@app.command()
def doctor(
    clean: Annotated[bool, typer.Option("--clean", help="Remove orphaned asset files.")] = False,
) -> None:
    """Check the installation: exit 0 when the core works; optional parts are warnings."""
    from museforge.doctor import run_checks

    settings = load_settings()
    results = run_checks(settings, clean=clean)
    failed = False
    for check in results:
        icon = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}[check.level]
        console.print(f"{icon} {check.name}: {check.detail}", highlight=False)
        failed |= check.level == "fail"
    raise typer.Exit(1 if failed else 0)


# -- users: people with a web token of their own -------------------------------------

users_app = typer.Typer(help="People with a web token of their own: each is their own user, "
                             "with their own sessions and place in the queue.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
UserName = Annotated[str, typer.Argument(help="The person's name (letters, digits, . - _).")]


def _users_store() -> Store:
    return Store.open(load_settings())


def _print_token(name: str, token: str) -> None:
    """The token alone on stdout (TOKEN=$(museforge users add NAME)); the rest on stderr."""
    sys.stdout.write(token + "\n")
    err.print(f"That is {escape(name)}'s token, shown this once (only its hash is kept). They "
              "open the web chat's address with ?token=TOKEN once, or paste it on the page's "
              "sign-in form.", highlight=False)


@users_app.command("add")
def users_add(name: UserName) -> None:
    """Add a person and print their web token (once)."""
    from museforge.storage.errors import InvalidName

    with _users_store() as store:
        try:
            _user, token = store.add_web_user(name)
        except InvalidName as exc:
            raise UsageError(str(exc)) from exc
    _print_token(name, token)


@users_app.command("token")
def users_token(name: UserName) -> None:
    """Give a person a new token: the old one stops working; a removed person is back.

    Their sessions and artworks are where they left them."""
    from museforge.storage.errors import InvalidName

    with _users_store() as store:
        try:
            _user, token = store.issue_web_token(name)
        except InvalidName as exc:
            raise UsageError(str(exc)) from exc
    _print_token(name, token)


@users_app.command("remove")
def users_remove(name: UserName) -> None:
    """Revoke a person's token: the web refuses it (401) from now on.

    Their sessions and artworks stay in the store; `museforge users token NAME` gives
    access back."""
    from museforge.storage.errors import InvalidName

    with _users_store() as store:
        try:
            revoked = store.revoke_web_user(name)
        except InvalidName as exc:
            raise UsageError(str(exc)) from exc
    console.print(f"Revoked {escape(name)}'s token." if revoked
                  else f"{escape(name)} had no token left to revoke.", highlight=False)


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the people with a web token (tokens themselves are never shown again)."""
    with Store.open(load_settings(), create=False) as store:
        accounts = store.web_accounts()
    if as_json:
        _print_json([{"name": a.name, "active": a.active, "tokens": a.tokens,
                      "sessions": a.sessions, "added": a.created_at.isoformat(),
                      "revoked": a.revoked_at.isoformat() if a.revoked_at else None}
                     for a in accounts])
        return
    table = Table("name", "access", "sessions", "added", title="People")
    for a in accounts:
        access = "[green]active[/]" if a.active else f"[dim]removed {a.revoked_at:%Y-%m-%d}[/]"
        table.add_row(escape(a.name), access, str(a.sessions), f"{a.created_at:%Y-%m-%d %H:%M}")
    console.print(table if accounts else "No one has a web token yet (museforge users add NAME).")


# -- models ----------------------------------------------------------------------------


@models_app.command("list")
def models_list() -> None:
    """Show the image and audio presets and whether their weights are present locally."""
    from museforge.doctor import configured_audio_model
    from museforge.models.audio.generation import AUDIO_PRESETS, local_audio_model
    from museforge.models.image.presets import PRESETS, local_weights

    settings = load_settings()
    table = Table("preset", "model", "weights", "notes", title="Images")
    for p in PRESETS.values():
        where = local_weights(p.name)
        chosen = " (configured)" if p.name == settings.image_model else ""
        table.add_row(p.name + chosen, p.repo_id,
                      "[green]present[/]" if where else "[dim]missing[/]", p.description)
    console.print(table)
    audio = Table("preset", "model", "weights", "notes", title="Audio (generate_audio)")
    configured = configured_audio_model(settings)
    for a in AUDIO_PRESETS.values():
        chosen = " (configured)" if a.name == configured else ""
        audio.add_row(a.name + chosen, a.repo_id,
                      "[green]present[/]" if local_audio_model(a.name) else "[dim]missing[/]",
                      a.description)
    console.print(audio)


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="A preset (museforge models list) or a Hugging "
                                             "Face id.")],
) -> None:
    """Download an image or audio model's weights into the Hugging Face cache (needs
    network)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from museforge.models.image.weights import pull

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=console) as bars:
        tasks: dict[str, Any] = {}

        def report(repo_id: str, done: int, total: int) -> None:
            if repo_id not in tasks:
                tasks[repo_id] = bars.add_task(repo_id, total=total or None)
            bars.update(tasks[repo_id], completed=done, total=total or None)

        try:
            paths = pull(name, report)
        except Exception as exc:  # no network, unknown id: one line, not a traceback
            why = _one_line(exc)
            if "Name or service not known" in why or "connect" in why.lower():
                why = f"the Hugging Face hub cannot be reached from here ({why})"
            err.print(f"[red]error:[/] could not download {escape(name)}: {escape(why)}",
                      highlight=False)
            raise typer.Exit(1) from exc
    for path in paths:
        console.print(f"downloaded {path}", highlight=False, markup=False)


@app.command("train-music")
def train_music(
    out: Annotated[Path, typer.Option("--out", help="Where to write the weights and card.")]
    = Path("museforge/models/music/weights"),
    seed: Annotated[int, typer.Option(help="Seed (training is reproducible for a seed).")] = 0,
    minutes: Annotated[float | None, typer.Option(
        help="Stop early after this many minutes (no longer reproducible).")] = None,
) -> None:
    """Train the melody model on the music21 corpus; writes weights and MODEL_CARD.md."""
    from museforge.models.music.train import train

    figures = train(out, seed=seed, minutes=minutes)
    console.print(f"Wrote {out}/MODEL_CARD.md", highlight=False, markup=False)
    _print_figures(figures)


@app.command("eval-music")
def eval_music(
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="A weights folder (default: the committed model).")] = None,
) -> None:
    """Reproduce the model card's figures from the weights and the held-out split."""
    from museforge.models.music.evaluate import card_figures, evaluate
    from museforge.models.music.model import WEIGHTS_DIR

    figures = evaluate(weights or WEIGHTS_DIR)
    _print_figures(card_figures(figures))


@app.command("train-phrases")
def train_phrases(
    out: Annotated[Path, typer.Option("--out", help="Where to write the weights and card.")]
    = Path("museforge/models/music/weights"),
    seed: Annotated[int, typer.Option(help="Seed (training is reproducible for a seed).")] = 0,
    minutes: Annotated[float | None, typer.Option(
        help="Stop early after this many minutes (no longer reproducible).")] = None,
) -> None:
    """Train the 16-bar phrase model (hierarchical VAE) on the music21 corpus; writes its
    weights and PHRASE_MODEL_CARD.md beside the 2-bar model's."""
    from museforge.models.music.phrase_eval import card_figures
    from museforge.models.music.phrase_train import train_phrases as train

    figures = train(out, seed=seed, minutes=minutes)
    console.print(f"Wrote {out}/PHRASE_MODEL_CARD.md", highlight=False, markup=False)
    _print_figures(card_figures(figures))


@app.command("eval-phrases")
def eval_phrases(
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="A weights folder (default: the committed models).")] = None,
) -> None:
    """Reproduce the phrase model card's figures from the weights and held-out phrases."""
    from museforge.models.music.model import WEIGHTS_DIR
    from museforge.models.music.phrase_eval import card_figures, evaluate_phrases

    _print_figures(card_figures(evaluate_phrases(weights or WEIGHTS_DIR)))


@app.command("train-planner")
def train_planner(
    epochs: Annotated[int, typer.Option(help="Training epochs (full batch).")] = 300,
) -> None:
    """Train the offline planner's intent model on the training families of the request
    corpus; writes the weights and figures.json (the model card quotes it)."""
    from museforge.assistant.intent.build import measure, train_model, write_card, write_figures
    from museforge.assistant.intent.evaluate import report
    from museforge.assistant.intent.model import TrainSettings

    model, info = train_model(TrainSettings(epochs=epochs))
    scores = measure(model)
    baseline = measure(None, "rules")
    write_card(write_figures(info, scores, baseline))
    for name, score in scores.items():
        console.print(report(score, name), highlight=False, markup=False)
    for name, score in baseline.items():
        console.print(f"rules alone, {name}: right {score.accuracy:.3f}, wrong actions "
                      f"{score.wrong_rate:.3f}", highlight=False, markup=False)


@app.command("eval-planner")
def eval_planner(
    planner: Annotated[str, typer.Option(
        help="offline (rules + intent model), rules (rules alone) or llm (the configured "
             "endpoint).")] = "offline",
    part: Annotated[str, typer.Option(
        help="train, held_out, unseen, conv_train, conv_held_out, conv_unseen or "
             "all.")] = "all",
    misses: Annotated[int, typer.Option(help="List this many misses per part.")] = 0,
) -> None:
    """Score a planner on the request corpus (real --plan-only turns in a scratch store)."""
    from museforge.assistant.intent.build import PARTS, measure
    from museforge.assistant.intent.evaluate import report
    from museforge.assistant.intent.model import default_model

    if planner not in ("offline", "rules", "llm"):
        raise UsageError("--planner is offline, rules or llm")
    if part not in (*PARTS, "all"):
        raise UsageError(f"--part is one of {', '.join(PARTS)} or all")
    scores = measure(default_model(), planner, PARTS if part == "all" else (part,))
    for name, score in scores.items():
        console.print(report(score, name, misses), highlight=False, markup=False)


def _print_figures(figures: dict[str, Any]) -> None:
    table = Table("figure", "value")
    for name, value in figures.items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


# -- helpers ---------------------------------------------------------------------------


def _version_json(v: VersionInfo) -> dict[str, Any]:
    return {"version": v.number, "parent": v.parent_number, "operation": v.operation,
            "recipe": v.recipe, "files": {k: str(p) for k, p in v.files.items()},
            "created": v.created_at.isoformat()}


def _args(args: object) -> str:
    if not isinstance(args, dict):
        return ""
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


def main() -> None:
    """Entry point: errors become one readable line (exit 1; usage errors exit 2)."""
    try:
        code = app(standalone_mode=False)
        raise SystemExit(code if isinstance(code, int) else 0)
    except (typer.Exit, SystemExit) as done:
        code = getattr(done, "exit_code", None)
        if code is None:
            code = getattr(done, "code", 0)
        raise SystemExit(code or 0) from None
    except typer.Abort:
        err.print("Aborted.")
        raise SystemExit(130) from None
    except (UsageError, _click_usage_errors()) as exc:
        err.print(f"[red]usage:[/] {escape(_one_line(exc))}", highlight=False)
        raise SystemExit(2) from None
    except DatabaseUnavailable as exc:
        err.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
        raise SystemExit(1) from None
    except (QueueUnavailable, QueueFull) as exc:
        err.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
        raise SystemExit(1) from None
    except StorageError as exc:
        err.print(f"[red]error:[/] {escape(_one_line(exc))}", highlight=False)
        raise SystemExit(1) from None


def _click_usage_errors() -> type[Exception]:
    # typer >= 0.20 vendors click; TyperException is the base of its usage errors.
    return typer.TyperException


def _one_line(exc: BaseException) -> str:
    fmt = getattr(exc, "format_message", None)
    return " ".join((fmt() if callable(fmt) else str(exc)).split())
