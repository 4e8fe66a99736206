"""The offline planner: rules and slot filling, no model. It splits a message into
requests ("paint a fox and then make it grayscale"), gives each to the rule that
recognises it best, and says briefly what it can do when none does."""

from __future__ import annotations

import re

from museforge.assistant import language, prompts
from museforge.assistant.planning import Plan, PlanContext, PlannedCall
from museforge.assistant.rules import Rule, all_rules

_HELP = re.compile(r"^\s*(help|\?|what\s+can\s+you\s+do|how\s+does\s+this\s+work|commands)\W*$",
                   re.I)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good\s+(morning|evening|afternoon)|thanks|thank\s+you"
                       r"|cool|nice|great|ok|okay)\b[\s!.]*$", re.I)
_POLITE = re.compile(r"^\s*(?:(?:please|pls|can\s+you|could\s+you|would\s+you|will\s+you|"
                     r"i(?:'d|\s+would)\s+like\s+(?:you\s+)?to|i\s+want\s+(?:you\s+)?to|"
                     r"let's|lets|now|ok(?:ay)?|and|so|hey)\b[\s,]*)+", re.I)


class OfflinePlanner:
    name = "offline"

    def __init__(self, rules: list[Rule] | None = None):
        self.rules = sorted(rules if rules is not None else all_rules(),
                            key=lambda r: -r.priority)

    def plan(self, message: str, context: PlanContext) -> Plan:
        if _HELP.match(message):
            return Plan(reply=prompts.CAPABILITIES)
        if _GREETING.match(message):
            return Plan(reply=prompts.GREETING)
        calls: list[PlannedCall] = []
        unknown: list[str] = []
        lead = ""  # "on #2, redo": a request may name its artwork up front
        for request in language.split_requests(message, self._starts_request):
            if _only_a_reference(request):
                lead = request
                continue
            if lead:
                request, lead = f"{lead}, {request}", ""
            matched = self.match(request, context)
            if matched is None:
                unknown.append(request)
            else:
                calls.extend(matched)
        if lead:
            unknown.append(lead)
        if not calls:
            return Plan(reply=prompts.not_understood(message))
        reply = prompts.partly_understood(unknown) if unknown else None
        return Plan(calls=calls, reply=reply)

    def match(self, request: str, context: PlanContext) -> list[PlannedCall] | None:
        text = _POLITE.sub("", request).strip()
        for rule in self.rules:  # highest priority first
            if rule.when.search(text):
                calls = rule.build(text, context)
                if calls:  # a rule that recognises a request but fills nothing passes it on
                    return calls
        return None

    def _starts_request(self, text: str) -> bool:
        text = _POLITE.sub("", text).lstrip()
        return any(r.starts is not None and r.starts.match(text) for r in self.rules)


_LEADING = re.compile(r"^(?:on|for|with|to|in|about|as\s+for|regarding)\s+", re.I)


def _only_a_reference(text: str) -> bool:
    """"on #2", "for the fox one": a request that only names an artwork."""
    rest = " ".join(_LEADING.sub("", _POLITE.sub("", text)).split()).strip(" :,-")
    return bool(rest) and language.natural_ref(rest) == rest
