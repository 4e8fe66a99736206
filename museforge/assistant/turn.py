"""One turn: message -> planner -> resolved, validated tool calls -> reply, all stored.

A turn never raises to the front-end: a failed tool becomes a sentence the user can act
on, and the rest of the turn still runs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from museforge.assistant import prompts
from museforge.assistant.attachments import AttachmentError, import_attachment
from museforge.assistant.planned import PlannedTurn, plan_basis
from museforge.assistant.planning import (
    ArtworkBrief,
    CallOutcome,
    Plan,
    PlanContext,
    PlannedCall,
    Planner,
)
from museforge.assistant.references import Resolver
from museforge.config import Settings, load_settings
from museforge.storage.errors import StorageError
from museforge.storage.models import Actor, SessionInfo
from museforge.storage.store import Store, no_step
from museforge.tools.base import (
    Artifact,
    Cancelled,
    Change,
    ProgressFn,
    Services,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
)
from museforge.tools.costs import TurnBudget
from museforge.tools.registry import UnknownTool, get_tool

log = logging.getLogger(__name__)
RECENT_MESSAGES = 20  # how far back "it" looks
RECENT_ARTWORKS = 12  # what a planner is told about
HISTORY_WINDOW = 12  # messages a planner sees word for word
SUMMARY_BATCH = 10  # older messages folded into the running summary at a time


@dataclass
class CallRecord:
    name: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    message: str | None = None
    ms: float = 0.0
    artifacts: list[Artifact] = field(default_factory=list)
    touched: list[tuple[int, str]] = field(default_factory=list)
    ran: bool = True
    cancelled: bool = False  # stopped (or never started) by the cancel

    def stored(self, *, turn_cancelled: bool = False) -> dict[str, Any]:
        out = {"name": self.name, "args": self.args, "ok": self.ok, "error": self.error,
               "result": self.message, "ms": round(self.ms, 2),
               "artifacts": [f"#{a.artwork} v{a.version}" for a in self.artifacts],
               "touched": [list(t) for t in self.touched]}
        if turn_cancelled:
            # Nothing of a cancelled turn is what "it" means next, nor what undo acts on.
            out.update(touched=[], cancelled=True)
        return out


@dataclass
class TurnResult:
    session: str
    planner: str
    reply: str
    calls: list[CallRecord] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    imported: list[Artifact] = field(default_factory=list)
    # When nothing ran: "ask", "refuse", "chat", "unknown" (from the planner) or "say" (the
    # calls were refused with a reason: "there is no #9 in this session").
    answer: str | None = None
    # The cancel came while the turn ran: its tool stopped at the next step, the rest of
    # its calls did not run, nothing more was stored, and ``kept`` is what it had stored
    # before the cancel (the reply names it: "#3 was already made ... and is kept").
    cancelled: bool = False
    kept: list[Change] = field(default_factory=list)
    # A --plan-only turn's plan, as a worker elsewhere may run it (``planned.py``); None
    # when it cannot travel. A run says whether it ran such a plan (``ran_planned``).
    planned: PlannedTurn | None = None
    ran_planned: bool = False

    @property
    def artifacts(self) -> list[Artifact]:
        return [a for c in self.calls for a in c.artifacts]

    def to_json(self) -> dict[str, Any]:
        """The ``museforge ask --json`` contract of DESIGN.md."""
        return {
            "session": self.session,
            "planner": self.planner,
            "reply": self.reply,
            "tool_calls": [{"name": c.name, "args": c.args, "ok": c.ok, "error": c.error}
                           for c in self.calls],
            "artifacts": [_artifact_json(a) for a in [*self.imported, *self.artifacts]],
            "errors": self.errors,
        }


def _artifact_json(a: Artifact) -> dict[str, Any]:
    return {"artwork": f"#{a.artwork}", "version": a.version, "kind": a.kind,
            "files": {role: str(path) for role, path in a.files.items()}, "recipe": a.recipe}


class Assistant:
    def __init__(self, store: Store, planner: Planner, *, settings: Settings | None = None,
                 services: Services | None = None):
        self.store = store
        self.planner = planner
        self.settings = settings or load_settings()
        self.services = services if services is not None else Services()

    def turn(
        self,
        actor: Actor,
        session: SessionInfo,
        message: str,
        attachments: Sequence[Path] = (),
        *,
        plan_only: bool = False,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        planned: PlannedTurn | None = None,
    ) -> TurnResult:
        """One turn. ``planned``: the plan made for it elsewhere (``planned.py``), run
        as it is when the conversation is still the one it was made against."""
        started = time.perf_counter()
        result = TurnResult(session.name, self.planner.name, "")
        cancel = cancel or threading.Event()
        user_msg = None
        if not plan_only:
            user_msg = self.store.add_message(actor, session, "user", message)
        ctx = ToolContext(self.store, actor, session, self.settings,
                          message_id=user_msg.id if user_msg else None,
                          progress=progress, cancel=cancel, services=self.services,
                          budget=TurnBudget.for_settings(self.settings))
        focus = self._focus(actor, session)
        before = user_msg.id if user_msg else None
        # A plan's basis is the conversation before the files come in: a --plan-only run
        # only pretends to bring them in, so the context after differs from a real run's.
        basis = None
        if attachments and (plan_only or planned is not None):
            basis = plan_basis(message, self._context(actor, session, focus, before))
        for path in attachments:
            self._attach(ctx, Path(path), result, focus, plan_only)

        t_plan = time.perf_counter()
        context = self._context(actor, session, focus, before=before)
        if basis is None and (plan_only or planned is not None):
            basis = plan_basis(message, context)
        if planned is not None and planned.basis == basis:
            plan, result.ran_planned = planned.plan, True
        elif not message.strip() and attachments:
            plan = Plan()  # only files: bringing them in was the whole request
        else:
            plan = self._plan(message, context, result)
        if plan_only and basis is not None:
            result.planned = PlannedTurn.of(self.planner, basis, plan)
        result.planner = plan.planner or self.planner.name
        plan, capped = self._cap(plan)
        plan = self._without_refused_files(plan, result, message)
        plan_ms = (time.perf_counter() - t_plan) * 1000

        resolver = Resolver(self.store, actor, session, focus=list(focus))
        for wanted in plan.calls:
            for call in self._expand(wanted, resolver):
                # Once cancelled, each call left is listed as cancelled, not run.
                record = self._call(ctx, resolver, call, plan_only)
                result.calls.append(record)
                if record.touched:
                    resolver.focus = list(record.touched)

        result.answer = plan.answer
        if result.calls and not any(c.ok for c in result.calls):
            result.answer = "say"
        result.reply = self._reply(plan, result)
        if cancel.is_set():
            # From here on nothing is stored but this reply, which says what was kept.
            result.cancelled, result.kept = True, list(ctx.changes)
            result.reply = cancelled_reply(result.kept)
        elif not plan_only and plan.calls:
            written = self._written_reply(message, context, plan, result)
            if written:  # the model's words, after what happened to the files
                result.reply = "\n".join([*self._file_lines(result), written,
                                          *([capped] if capped else [])])
        if not plan_only:
            total_ms = (time.perf_counter() - started) * 1000
            self.store.add_message(
                actor, session, "assistant", result.reply,
                tool_calls=[c.stored(turn_cancelled=result.cancelled) for c in result.calls],
                planner=result.planner,
                timings={"plan_ms": round(plan_ms, 2), "total_ms": round(total_ms, 2),
                         "tools_ms": round(sum(c.ms for c in result.calls), 2)},
            )
            self._fold_summary(actor, session)
        return result

    # -- steps -------------------------------------------------------------------------

    @staticmethod
    def _without_refused_files(plan: Plan, result: TurnResult, message: str) -> Plan:
        """A refused attachment stops what was meant for it: "upscale it" with a broken
        file must not upscale the previous artwork. Calls that name their artwork ("undo
        #1") still run."""
        if not any("file" in e for e in result.errors) or not plan.calls:
            return plan
        about_it = re.search(r"\b(?:it|this|that|these|those|them)\b", message, re.I) is not None
        kept = [c for c in plan.calls if _names_its_artworks(c, about_it)]
        if len(kept) == len(plan.calls):
            return plan
        note = prompts.refused_file_stops(len(plan.calls) - len(kept))
        return _with_note(plan, kept, note, answer=plan.answer if kept else "say")

    def _cap(self, plan: Plan) -> tuple[Plan, str | None]:
        """At most ``max_generations`` new artworks per message; what is left out is said."""
        limit = self.settings.max_generations
        kept: list[PlannedCall] = []
        dropped: list[PlannedCall] = []
        made = 0
        for call in plan.calls:
            try:
                makes = get_tool(call.name).makes == "artwork"
            except UnknownTool:
                makes = False
            count = call.args.get("count", 1)
            n = (max(1, int(count)) if isinstance(count, int) else 1) if makes else 0
            if made + n > limit and n:
                room = limit - made
                if room > 0 and "count" in call.args:
                    kept.append(PlannedCall(call.name, {**call.args, "count": room}))
                    made = limit
                dropped.append(call)
                continue
            made += n
            kept.append(call)
        if not dropped:
            return plan, None
        note = prompts.capped(limit, len(dropped))
        return _with_note(plan, kept, note, answer=plan.answer), note

    def _focus(self, actor: Actor, session: SessionInfo) -> list[tuple[int, str]]:
        """What "it" means at the start of the turn: the artworks the last call that
        touched any was about."""
        for msg in reversed(self.store.recent_messages(actor, session, RECENT_MESSAGES)):
            for call in reversed(msg.tool_calls):
                touched = call.get("touched") if isinstance(call, dict) else None
                if touched:
                    return [(int(n), str(k)) for n, k in touched]
        return []

    def _attach(self, ctx: ToolContext, path: Path, result: TurnResult,
                focus: list[tuple[int, str]], plan_only: bool) -> None:
        try:
            artifact = import_attachment(ctx, path, dry_run=plan_only)
        except (AttachmentError, ToolError, StorageError) as exc:
            result.errors.append({"file": str(path), "error": str(exc)})
            return
        if artifact is not None:
            result.imported.append(artifact)
            focus[:] = [(artifact.artwork, artifact.kind)]

    def _context(self, actor: Actor, session: SessionInfo, focus: list[tuple[int, str]],
                 before: int | None = None) -> PlanContext:
        recent = self.store.recent_artworks(actor, session, RECENT_ARTWORKS)
        briefs = {a.number: ArtworkBrief(a.number, a.kind, a.title, head=a.head_number,
                                         versions=a.version_count,
                                         prompt=a.prompt if a.prompt != a.title else "")
                  for a in recent}
        history = [(m.role, m.text) for m in
                   self.store.recent_messages(actor, session, HISTORY_WINDOW + 1)
                   if before is None or m.id < before][-HISTORY_WINDOW:]
        summary = self.store.summary(actor, session)[0] if self._summarizes else ""
        return PlanContext(
            focus=[briefs.get(n) or ArtworkBrief(n, k, "") for n, k in focus],
            recent=[briefs[a.number] for a in reversed(recent)],
            history=history,
            summary=summary,
        )

    @property
    def _summarizes(self) -> bool:
        return callable(getattr(self.planner, "summarize", None))

    def _fold_summary(self, actor: Actor, session: SessionInfo) -> None:
        """Fold messages that left the planner's window into the running summary, a
        batch at a time (only planners that read a summary keep one)."""
        if not self._summarizes:
            return
        summary, upto = self.store.summary(actor, session)
        window = self.store.recent_messages(actor, session, HISTORY_WINDOW + 3 * SUMMARY_BATCH)
        older = [m for m in window[:-HISTORY_WINDOW] if upto is None or m.id > upto]
        if len(older) < SUMMARY_BATCH:
            return
        try:
            folded = self.planner.summarize(  # type: ignore[attr-defined]
                summary, [(m.role, m.text) for m in older])
        except Exception as exc:  # the summary can wait for the next turn
            log.warning("could not update the summary: %s", exc)
            return
        if folded:
            self.store.set_summary(actor, session, folded, older[-1].id)

    @staticmethod
    def _file_lines(result: TurnResult) -> list[str]:
        lines = [f"I couldn't use {Path(e['file']).name}: {e['error']}"
                 for e in result.errors if "file" in e]
        return lines + [_added(a) for a in result.imported]

    def _plan(self, message: str, context: PlanContext, result: TurnResult) -> Plan:
        try:
            return self.planner.plan(message, context)
        except Exception as exc:  # a planner's failure is an answer, not a crash
            log.warning("planner %s failed: %s", self.planner.name, exc)
            result.errors.append({"error": f"planner: {exc}"})
            return Plan(reply=f"I couldn't plan that: {exc}")

    def _written_reply(self, message: str, context: PlanContext, plan: Plan,
                       result: TurnResult) -> str | None:
        """The planner's own wording of the reply, when it writes one (the LLM)."""
        writer = getattr(self.planner, "write_reply", None)
        if writer is None:
            return None
        outcomes = [CallOutcome(c.name, c.args, c.ok, c.message, c.error) for c in result.calls]
        try:
            return writer(message, context, plan, outcomes)  # type: ignore[no-any-return]
        except Exception as exc:  # the results stand; only the wording is lost
            log.warning("planner %s could not write the reply: %s", self.planner.name, exc)
            return None

    @staticmethod
    def _expand(planned: PlannedCall, resolver: Resolver) -> list[PlannedCall]:
        """A plural reference ("both", "the last two") given to a one-artwork argument is
        one call per artwork: "undo the last two" undoes each of them."""
        try:
            tool = get_tool(planned.name)
        except UnknownTool:
            return [planned]
        for name in tool.ref_fields:
            value = planned.args.get(name)
            if not isinstance(value, str) or not value:
                continue
            try:
                refs = resolver.resolve(value, tool.ref_kinds.get(name))
            except (ToolError, StorageError):
                return [planned]  # the call itself reports the error
            if len(refs) > 1:
                return [PlannedCall(planned.name, {**planned.args, name: ref}) for ref in refs]
        return [planned]

    def _call(self, ctx: ToolContext, resolver: Resolver, planned: PlannedCall,
              plan_only: bool) -> CallRecord:
        args = dict(planned.args)
        record = CallRecord(planned.name, args, ok=False, ran=not plan_only)
        try:
            tool = get_tool(planned.name)
        except UnknownTool as exc:
            record.error = str(exc)
            return record
        if ctx.cancel.is_set():
            record.error, record.ran, record.cancelled = "cancelled", False, True
            return record
        try:
            self._resolve_refs(tool, args, resolver)
            tool.args.model_validate(args)
        except ValidationError as exc:
            record.error = explain(exc)
            return record
        except (ToolError, StorageError) as exc:
            record.error = str(exc)
            return record
        if plan_only:
            version = args.get("version")
            ref = args.get("artwork")
            # a stored artwork named by number (not one this plan would make first)
            number = int(ref[1:].split()[0]) if isinstance(ref, str) and ref.startswith("#") \
                else None
            if number in resolver.provisional:
                number = None
            if isinstance(version, int) and number is not None:
                try:  # "revert #2 to v7": resolving only reads, and says what is missing
                    resolver.resolve_one(f"#{number} v{version}")
                except (ToolError, StorageError) as exc:
                    record.error = str(exc)
                    return record
            if tool.name in ("undo", "redo") and number is not None \
                    and not resolver.stepped & {("undo", str(ref)), ("redo", str(ref))}:
                # "undo" of a picture just made, "redo" with nothing undone: the store's
                # own sentence, before anything would run (after an undo planned in the
                # same message, a redo has its step)
                art = self.store.artwork(ctx.actor, ctx.session, number)
                resolver.stepped.add((tool.name, str(ref)))
                if not (art.can_undo if tool.name == "undo" else art.can_redo):
                    record.error = no_step(art.number, back=tool.name == "undo")
                    return record
            record.ok = True
            record.touched = _predicted_touch(tool, args, resolver)
            return record
        t0 = time.perf_counter()
        changed = len(ctx.changes)
        try:
            out: ToolResult = tool.run(ctx, args)
        except Cancelled:
            # Stopped at a step, or its result was thrown away before it was stored;
            # what it had stored before the cancel (a batch's first pictures) is kept.
            record.error, record.cancelled = "cancelled", True
            record.artifacts = self._artifacts(ctx, ctx.changes[changed:])
        except (ToolError, StorageError) as exc:
            record.error = str(exc)
        except Exception as exc:  # a bug in a tool must not end the turn
            log.exception("tool %s failed", tool.name)
            record.error = f"an internal error ({type(exc).__name__}: {exc})"
        else:
            record.ok = True
            record.message = out.message
            record.artifacts = out.artifacts
            record.touched = list(out.touched)
        record.ms = (time.perf_counter() - t0) * 1000
        return record

    def _artifacts(self, ctx: ToolContext, changes: list[Change]) -> list[Artifact]:
        """The versions ``changes`` made (or moved to), as front-ends show them."""
        out: list[Artifact] = []
        for change in dict.fromkeys(changes):
            try:
                art, version = self.store.resolve(ctx.actor, ctx.session,
                                                  f"#{change.artwork} v{change.version}")
            except StorageError as exc:  # shown without it; the reply still names it
                log.warning("could not read back #%s v%s: %s", change.artwork,
                            change.version, exc)
                continue
            out.append(Artifact.of(art, version))
        return out

    @staticmethod
    def _resolve_refs(tool: Tool, args: dict[str, Any], resolver: Resolver) -> None:
        for name in tool.ref_fields:
            value = args.get(name)
            if value is None or value == "":
                continue
            kind = tool.ref_kinds.get(name)
            if isinstance(value, list):
                refs: list[str] = []
                for item in value:
                    refs.extend(resolver.resolve(str(item), kind))
                args[name] = refs
            else:
                args[name] = resolver.resolve_one(str(value), kind)

    def _reply(self, plan: Plan, result: TurnResult) -> str:
        head = self._file_lines(result)
        body: list[str] = []
        for call in result.calls:
            if call.ok and call.ran:
                body.append(call.message or f"Done: {call.name}.")
            elif call.ok:
                body.append(f"Would run {call.name}({_brief(call.args)}).")
            elif call.error and call.error.endswith("Which one?"):
                body.append(call.error)
            else:
                body.append(prompts.failed(call.name, call.error or "unknown error"))
        said = prompts.resolve_reply(plan.reply)
        if said:
            # Alone, the planner's words are the answer; beside results, a footnote.
            body = [said, *body] if not result.calls else [*body, said]
        parts = head + body
        return "\n".join(parts) if parts else "Done."


def _added(a: Artifact) -> str:
    """"Added tune as #3." and, for a score, what was read from it, so the person can
    correct it ("I read: 1 part (melody), 8 notes in 2 bars, 4/4, G major, ...")."""
    echo = a.recipe.get("echo")
    if not echo:
        return f"Added {a.title} as #{a.artwork}."
    said = "".join(f" ({n})" for n in a.recipe.get("said") or [])
    return f"Added {a.title} as #{a.artwork}. {echo}{said}."


def _with_note(plan: Plan, calls: list[PlannedCall], note: str, answer: str | None) -> Plan:
    """``plan`` left with ``calls``, and ``note`` said after its own words."""
    return replace(plan, calls=calls, answer=answer,
                   reply=f"{plan.reply}\n{note}" if plan.reply else note)


def _names_its_artworks(call: PlannedCall, about_it: bool) -> bool:
    """Every artwork argument is an explicit "#N" (so the call was not about a file); a new
    artwork asked for without "it"/"this" ("paint a fox") was not about the file either."""
    try:
        tool = get_tool(call.name)
    except UnknownTool:
        return False
    refs = [call.args.get(name) for name in tool.ref_fields]
    if not any(refs) and tool.makes == "nothing":
        return True  # "list my artworks"
    if not any(refs):
        return not about_it  # "paint one like this" was about the file
    flat = [r for v in refs if v for r in (v if isinstance(v, list) else [v])]
    return all(isinstance(r, str) and r.strip().startswith("#") for r in flat)


def _predicted_touch(tool: Tool, args: dict[str, Any],
                     resolver: Resolver) -> list[tuple[int, str]]:
    """In a --plan-only run, what the call would make, so that a later "it" resolves."""
    if tool.makes == "artwork":
        count = int(args.get("count", 1) or 1)
        made: list[tuple[int, str]] = []
        for _ in range(count):
            number = max([0, *resolver.provisional, *_stored_max(resolver)]) + 1
            title = str(args.get("prompt", "")) or tool.name
            resolver.provisional[number] = (tool.kind or "image", title)
            made.append((number, tool.kind or "image"))
        return made
    ref = args.get("artwork")
    if isinstance(ref, str) and ref.startswith("#"):
        number = int(ref[1:].split()[0])
        return [(number, tool.kind or dict(resolver.focus).get(number, "image"))]
    return []


def cancelled_reply(kept: Sequence[Change]) -> str:
    """What a cancelled turn says: exactly what it had stored before the cancel.

    "Cancelled; nothing was made." / "Cancelled. #3 was already made before the cancel
    and is kept." / "... The change to #1 (now at v2) was also done before the cancel
    and is kept."
    """
    made = list(dict.fromkeys(f"#{c.artwork}" if c.what == "artwork"
                              else f"#{c.artwork} v{c.version}"
                              for c in kept if c.what != "head"))
    moved = list(dict.fromkeys(f"#{c.artwork} (now at v{c.version})"
                               for c in kept if c.what == "head"))
    if not made and not moved:
        return "Cancelled; nothing was made."
    parts = ["Cancelled."]
    if made:
        one = len(made) == 1
        parts.append(f"{_join(made)} {'was' if one else 'were'} already made before the "
                     f"cancel and {'is' if one else 'are'} kept.")
    if moved:
        one = len(moved) == 1
        also = " also" if made else " already"
        parts.append(f"The change{'' if one else 's'} to {_join(moved)} "
                     f"{'was' if one else 'were'}{also} done before the cancel and "
                     f"{'is' if one else 'are'} kept.")
    return " ".join(parts)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _stored_max(resolver: Resolver) -> list[int]:
    newest = resolver.store.recent_artworks(resolver.actor, resolver.session, 1)
    return [a.number for a in newest]


def _brief(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}={prompts.quoted(repr(v))}" for k, v in args.items())


def explain(exc: ValidationError) -> str:
    """A pydantic error as one sentence: 'version: must be at least 1 (got 0)'."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        msg = str(err.get("msg", "is not valid"))
        msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
        got = err.get("input")
        if err.get("type") == "extra_forbidden":
            parts.append(f"'{where}' is not an argument of this tool")
        elif err.get("type") == "missing":
            parts.append(f"'{where}' is required")
        else:
            parts.append(f"{where} {msg[0].lower() + msg[1:]} (got {prompts.quoted(repr(got))})")
    return "; ".join(parts)
