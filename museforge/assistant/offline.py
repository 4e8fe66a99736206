"""The offline planner: rules, slot filling and a small learned intent model, no LLM.

A message is read (text-speak spelled out, typos of known words fixed), split into
requests ("paint a fox and then make it grayscale"), and each request is decided:

1. the rules recognise what they were written for and fill its arguments;
2. the intent model (``intent/``, trained on a corpus of requests, measured on families
   it never saw) says which kind of action the request asks for; where it is confident
   and the rules disagree or found nothing, it wins and the rules of its intent fill
   the arguments;
3. which tool follows from the artwork the request is about (``intents.py``): "make it
   sadder" on music is the minor mode, on a picture a cooler, darker adjustment;
4. when neither is sure, it asks one short question and runs nothing; what it cannot
   do (3D, video, sung lyrics, other file formats) it says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from museforge.assistant import (
    complaints,
    corrections,
    followups,
    intents,
    language,
    linking,
    naming,
    prompts,
    slots,
    spelling,
)
from museforge.assistant.intent.corpus import LABEL_OF_TOOL
from museforge.assistant.intent.model import IntentModel, Prediction, default_model
from museforge.assistant.planning import ArtworkBrief, Plan, PlanContext, PlannedCall
from museforge.assistant.rules import Rule, all_rules, images, music, notes, styles

_HELP = re.compile(r"^\s*(help|\?|what\s+can\s+you\s+do|how\s+does\s+this\s+work|commands)\W*$",
                   re.I)
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|yo|good\s+(?:morning|evening|afternoon|night)|thanks|thank\s+you|"
    r"thx|ty|ta|cheers|cool|nice|great|ok|okay|perfect|awesome|amazing|brilliant|lovely|wonderful|"
    r"night(?:\s+night)?|nighty[\s-]+night|nite|ta[\s-]+ra|ta[\s-]+ta|"
    r"(?:much\s+|way\s+|a\s+lot\s+|that'?s\s+)?better|"
    r"love\s+it|i\s+love\s+it|great\s+(?:job|work)|nice\s+(?:one|work|job)|well\s+done|lol|haha+|"
    r"that'?s\s+more\s+like\s+it|bye|goodbye|for\s+now|for\s+today|take\s+care|talk\s+soon|that'?s\s+all|good\s*night(?:\s+from\s+(?:both\s+of\s+|all\s+of\s+)?(?:us|me))?|"
    r"is\s+(?:this|it)\s+(?:thing\s+)?(?:on|working)|anyone\s+there|you\s+there|"
    r"see\s+(?:you|ya)(?:\s+later)?|"
    r"you'?re\s+(?:awesome|great|the\s+best|amazing)|that'?s\s+(?:funny|"
    r"great|cool|nice|perfect|lovely|amazing|it)|mate|a\s+lot|so\s+much|very\s+much|"
    r"museforge|there|k|kk|bye+|gracias|muchas|merci|beaucoup|danke|sch[oö]n|sehr|grazie|mille|"
    r"obrigad[oa]|arigat[oō]u?|domo|dhanyavaa?d|shukriya|xie\s+xie|hola|bonjour|ciao|salut|"
    r"hallo|namaste|amigo|amiga|lmf?ao+|rofl|xd+|ha+|yay+|woo+|gg|tysm|thnx|thanku|tnx|"
    r"let'?s\s+go+|le+t?s+\s*go+|lfg|w|dub|bot|based|slay|ya+s+|fr|no\s+cap|pog(?:gers)?|bet|"
    r"sheesh|yoo+|heyy+|hii+|ayy+)\b"
    r"[\s!.,?]*)+$", re.I)
_SMALL_TALK = re.compile(
    r"^\s*(?:how(?:'s|\s+is)\s+it\s+going|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|"
    r"what'?s\s+up|i'?m\s+bored|who\s+are\s+you|what\s+are\s+you|are\s+you\s+(?:a\s+)?"
    r"(?:robot|bot|human|real|an?\s+ai)|do\s+you\s+(?:dream|sleep|like\s+\w+))[\s!.?]*$", re.I)
_THANKED = re.compile(r"^\s*(?:(?:ok(?:ay)?|oh|aw+|wow)[\s,!.]+)*(?:thanks|thank\s+you|thank\s+u|"
                      r"thx|ty|ta|cheers|many\s+thanks)\b(?:\s+(?:so|very)\s+much|\s+a\s+lot)?"
                      r"[\s,!.]+", re.I)
_FILLER = re.compile(
    r"^\s*(?:h+m+|oops|whoops|ugh|argh|meh|nope|nah|no|yes|yeah|yep|ok(?:ay)?|actually|"
    r"well|oh|ah|hmm+|erm|um+|uh|so|right|alright|sorry|wait|i\s+changed\s+my\s+mind|"
    r"on\s+second\s+thought|never\s*mind|like|go\s+wild|go\s+crazy|ok\s+so(?:\s+like)?|so\s+like|hi|hello|hey|"
    r"i\s+(?:don't|didn't|do\s+not|did\s+not)\s+like\s+(?:it|that|this)(?:\s+(?:much|at\s+all))?|"
    r"if\s+it'?s\s+not\s+too\s+much\s+trouble|that'?s\s+(?:wrong|bad|not\s+right|worse|awful)|"
    r"not\s+(?:quite|great|good)|hm+\s+no|go\s+on\s+then)(?:[\s,!.]+(?:h+m+|oops|ugh|nope|no|yes|yeah|ok|"
    r"actually|well|oh|ah|sorry|wait))*[\s,!.]*$", re.I)
_POLITE = re.compile(
    r"^\s*(?:(?:please|kindly|can\s+you|could\s+you|would\s+you|will\s+you|"
    r"would\s+you\s+(?:be\s+so\s+kind\s+as\s+to|mind)|do\s+you\s+think\s+you\s+could|"
    r"i(?:'d|\s+would)\s+(?:like|love)\s+(?:you\s+)?to|i\s+want\s+(?:you\s+)?to|"
    r"i\s+need\s+you\s+to|(?:are\s+you\s+)?able\s+to|is\s+it\s+possible\s+to|"
    r"let's|lets|now|ok(?:ay)?|and|so|hey|hi|hello|yo|um+|hmm+|well|alright|right|"
    r"pretty\s+please|any\s+chance\s+(?:of|you\s+could)|do\s+(?:me\s+|us\s+)?(?=(?:a|an|some|"
    r"another|two|three)\b)|(?:could|can|may)\s+i\s+(?:please\s+)?"
    r"(?:have|get)|do\s+me|if\s+it'?s\s+not\s+too\s+much\s+trouble|i\s+was\s+wondering\s+if\s+"
    r"(?:you\s+could|i\s+could\s+(?:have|get))|would\s+it\s+be\s+possible\s+to|"
    r"museforge|@museforge|what\s+i(?:'d|\s+would)\s+(?:love|like)\s+is|what\s+i\s+(?:want|need)\s+is|"
    r"all\s+i\s+want\s+is|i(?:'m|\s+am)\s+(?:after|looking\s+for)|looking\s+for|"
    r"i\s+was\s+(?:thinking|hoping\s+for|imagining)(?:\s+(?:of|about))?(?:\s+(?:maybe|perhaps))?|"
    r"(?:something|anything)\s+like(?=\s+(?:a|an|some|the)\b)|"
    r"(?:maybe|perhaps)(?=\s+(?:a|an|some)\b)|"
    r"(?:cool|nice|great|perfect|awesome|lovely|brilliant|sweet|wow|ooh)(?=[\s,!.]+(?:now|and|"
    r"then|so|can|could|please|pls|make|give|let'?s|next|how\s+about|what\s+about|music|a|an|"
    r"some)\b))\b[\s,!:.]*)+",
    re.I)

# Below these the model does not overrule the rules / act alone / even ask.
OVERRULE = 0.6
ACT = 0.5
ASK = 0.3
KEEP_RULE = 0.03  # the model gives the rules' intent at least this much: keep the rules

_REFUSALS = [
    (re.compile(r"\b(?:3\s*-?\s*d|three[\s-]dimensional)\b(?!\s+(?:style|look|effect|"
                r"render(?:ing)?\s+style))|\b(?:stl|obj|fbx|glb|gltf)\s+(?:file|model)|"
                r"\b(?:made|make|turn|turned)\s+(?:it\s+|them\s+)?into\s+(?:an?\s+)?(?:sculpture|statue|"
                r"figurine|3d\s+model)s?\b(?!\s+(?:style|look))|\b(?:turn|spin|rotate)\s+(?:it\s+|them\s+)?"
                r"around\s+on\s+(?:the\s+)?screen\b|"
                r"\bmesh\b|\bprintable\s+model", re.I),
     "I can't make 3D models; I can paint a picture of it (try “a picture of …, 3D "
     "render style”)."),
    (re.compile(r"\b(?:video|animat\w*|movie|film\s+clip|moving\s+picture|motion|gif|mp4|mov|avi|"
                r"mkv|webm|cinemagraph|timelapse|time-lapse|frames?\s+per\s+second|fps)\b|"
                r"\b\d+\s*(?:-\s*)?(?:second|sec|minute|min)s?\s+(?:long\s+)?clip\b|"
                r"\bmake\s+(?:it|#\d+|the\s+[\w-]+(?:\s+[\w-]+)?)\s+(?:actually\s+)?(?:move|swim|fly|"
                r"walk|run|dance|spin|sparkle\s+and\s+move|blink|wave)\b|\b(?:waves?|clouds?|it|they)"
                r"\s+(?:move|moving)\b|\b(?:across|around|round|over)\s+the\s+screen\b|\b(?:short|little|quick)\s+clip\b|"
                r"\bblink(?:s|ing)?\b|\blike\s+moving\b|\b(?:cut|make|edit|put\s+together|create|"
                r"film)\s+(?:me\s+)?(?:a|an|the|my)\s+(?:\w+\s+)?(?:trailer|teaser|montage|slide\s*show|"
                r"showreel)\b(?!\s+(?:music|tune|song|theme|track|soundtrack|score|poster|picture|"
                r"image|art))", re.I),
     "I can't make videos or animations; I can paint still pictures and compose music "
     "(a series of pictures: “three pictures of …”)."),
    (re.compile(r"\bstems?\s+(?:of|for|from)\s+(?:the\s+|this\s+|that\s+|my\s+|#\s*\d+|it\b)?"
                r"(?:[\w'-]+\s+)?(?:song|track|tune|theme|piece|music|mix|beat|jig|reel|loop|\d)|"
                r"\b(?:export|give|send|want|need|get|make|separate|split)\s+(?:me\s+|us\s+)?(?:the\s+)?"
                r"(?:[\w'-]+\s+)?stems\b(?!\s+(?:of|on)\s+(?:the\s+)?(?:flowers?|roses?|plants?|tulips?))|"
                r"\b(?:separate|split|isolated?)\s+"
                r"(?:the\s+)?(?:tracks|parts|instruments|stems)\b|\bmulti-?tracks?\b|"
                r"\btrack\s+by\s+track\b", re.I),
     "I can't give separate stems; a piece comes as one MIDI file (which a DAW splits by "
     "instrument), an OGG render and a piano-roll PNG."),
    (re.compile(r"\b(?:a|an|the|my|our)\s+(?:little\s+|simple\s+|video\s+|computer\s+)?"
                r"(?:game|app|website|web\s*site|program|quiz)\s+(?:where|that|which|with|for\s+"
                r"(?:him|her|them|me|us)\b|to\s+play)|\b(?:playable|interactive|clickable)\b|"
                r"\b(?:code|program|build|make|write)\s+(?:me\s+)?(?:a|an)\s+(?:game|app|website)\b",
                re.I),
     "I can't make games, apps or websites; I can paint pictures and compose music for one "
     "(“a pixel art knight”, “a chiptune loop”)."),
    (re.compile(r"\b(?:lyrics|sing(?:s|ing)?|sung|vocals?|vocal\s+track|singer|rap(?:s|ping)?|"
                r"a\s+cappella|acapella|real\s+voices?|human\s+voices?|voice\s+(?:reading|saying|"
                r"narrating|speaking)|read(?:s|ing)?\s+(?:a|the|my)\s+(?:poem|story|text)|"
                r"words\s+to\s+(?:the|this|a)\s+(?:song|tune)|voice\s+over|voiceover|"
                r"narrat\w*|speech|text[\s-]to[\s-]speech)\b", re.I),
     "I can't write or sing lyrics; I compose instrumental music (a choir or voice sound "
     "can play the melody: “play it on the choir”)."),
    (re.compile(r"\b(?:send|e-?mail|post|text|whatsapp|message|share)\s+(?:it|them|this|that|these|"
                r"those|the\s+\w+|(?:it\s+)?all|everything)\b.*\b(?:to|by|via|over|on)\s+"
                r"(?:her|him|them|me|my|e-?mail|post|whatsapp|text|instagram|facebook|twitter)\b|"
                r"\b(?:by|via|through)\s+e-?mail\b|\b(?:e-?mail|whatsapp|text)\s+(?:it|them|this|that|"
                r"these|those)\s+(?:to|over)\b|\bprint\s+(?:it|them|this)\s+(?:out|for\s+me)\b",
                re.I),
     "I can't send, share or print things; `museforge export` (or the web page's download "
     "links) gives you the files to send or print yourself."),
    (re.compile(r"\b(?:mp3|wav|flac|aac|m4a|svg|pdf|eps|psd|tiff?|ai\s+file|vector|"
                r"score\s+pdf)\b", re.I),
     "I can't write that format; pictures come as PNG, music as MIDI, OGG audio and a "
     "piano-roll PNG (`museforge export` gives them all), and a score as ABC or MusicXML "
     "(“export #2 as MusicXML” opens in MuseScore, which prints it)."),
]
_AUDIO_MODEL = re.compile(r"\b(?:stable[\s-]*audio|ace[\s-]*step|musicgen|audio|recording|"
                          r"sound\s+effect)\b", re.I)
_REFUSE_ASKS = re.compile(
    r"\b(?:make|create|generate|render|turn|convert|export|save|give|send|produce|build|"
    r"animate|sing|write|add|compose|design|model|print|output|can|could|as|into|in|to|"
    r"download|need|want|get|file|version|clip|of|put|have|use|with|sung)\b", re.I)


@dataclass
class Decision:
    calls: list[PlannedCall] = field(default_factory=list)
    question: str | None = None
    refusal: str | None = None
    chat: str | None = None
    said: str | None = None  # a specific reason nothing can run ("#2 has no v7")
    weak: bool = False  # only a catch-all reading ("a ..." is a picture of the words)

    @property
    def spoken(self) -> tuple[str, str] | None:
        """(the kind of answer, its sentence) when nothing is to run and something is said."""
        for kind, text in (("say", self.said), ("refuse", self.refusal),
                           ("ask", self.question), ("chat", self.chat)):
            if text:
                return kind, text
        return None


class OfflinePlanner:
    name = "offline"

    def __init__(self, rules: list[Rule] | None = None,
                 model: IntentModel | None | bool = True):
        self.rules = sorted(rules if rules is not None else all_rules(),
                            key=lambda r: -r.priority)
        # True: the committed model; None/False: the rules alone.
        self.model = default_model() if model is True else (model or None)
        self._weak = False
        self._alone = True  # the request being decided is the whole message
        self._certain = False  # the rule that matched is certain (priority >= 10)

    def plan(self, message: str, context: PlanContext) -> Plan:
        given = notes.given_notes(message)  # before spelling, which reads "sol" as a typo
        if given is not None:  # "here's my tune: C D E C | E F G", an ABC tune
            return Plan(calls=notes.plan_given(
                given, context, lambda words, after: self.plan(words, after).calls))
        titles = [w for b in context.recent for w in re.findall(r"[a-z]+", b.title.lower())]
        message = spelling.normalise(message, titles)
        message = re.sub(r"\bright\s+(?=(?:the\s+|a\s+|some\s+)?(?:words?|text|name|title|caption|"
                         r"message|letters|date)\b)", "write ", message, flags=re.I)  # homophone
        message = corrections.take_back(message)  # "on guitar, no wait, piano": on piano
        message = language.comparatives(message)  # "more moody" is "moodier"
        message = language.spelled_values(message)  # "seed twelve" is "seed 12"
        message = language.listed(message)  # "1) a fox 2) an owl", "two tunes: one on lute, …"
        if styles.asks_for_styles(message):  # "what styles have you learnt?"
            return Plan(calls=styles._list(message, context))
        if _HELP.match(message):
            return Plan(reply=prompts.CAPABILITIES, answer="chat")
        if _GREETING.match(_EMOTICON.sub(" ", message)):
            return Plan(reply=prompts.GREETING, answer="chat")
        if _SMALL_TALK.match(message):
            return Plan(reply=prompts.capabilities(), answer="chat")
        explained = prompts.explained(_HELLO.sub("", message).strip())
        if explained:  # "what's quantize?", "how different is a variation from the original?"
            return Plan(reply=explained, answer="chat")
        if _HOW_TO.match(message.strip()) or _HOW_TO.match(_HELLO.sub("", message).strip()):
            return Plan(reply=prompts.capabilities(), answer="chat")
        if _THANKED.match(message) and not _ASKS_FOR.search(_THANKED.sub("", message)) \
                and not _CHANGE_WORDS.search(message):
            return Plan(reply=prompts.GREETING, answer="chat")  # "thank you, we're very happy"
        answered = self._answer(message, context)
        if answered is not None:
            return answered
        moved = followups.follow_up(message, context, _POLITE, self.plan)
        if moved is not None:  # "no, the music", "and the song too", "all of them"
            return moved
        if _AGAIN.match(message):  # "again", "even more": the last request, once more
            previous = next((text for role, text in reversed(context.history[:-1])
                             if role == "user" and not _AGAIN.match(text)), None)
            if previous:
                repeated = self.plan(previous, replace(context, history=[]))
                if repeated.calls and all(c.name not in _CREATE for c in repeated.calls):
                    return repeated
        whole = _QUOTES.sub(lambda m: " " * len(m.group(0)), message)
        missing = _named_nothing(whole, naming.targets(whole, context), context)
        if missing:  # "the dragon picture from earlier, can you make it match?": no dragon
            return Plan(reply=missing, answer="say")
        calls: list[PlannedCall] = []
        unknown: list[str] = []
        said: list[str] = []
        answer = None
        lead = ""  # "on #2, redo": a request may name its artwork up front
        previous = ""  # the piece that made the last calls
        chatted = False  # a piece was a remark or a bit about the person
        asked = False  # a piece asked how something works
        chatter: list[tuple[int, int]] = []  # (start, length) of calls only a catch-all made
        told: list[str] = []  # pieces that tell rather than ask ("my grandson wants a dragon")
        judged: list[str] = []  # pieces that only weigh an artwork ("it's a bit much")
        before = context  # the conversation as this message found it
        origin: dict[int, str] = {}  # id(call) -> the piece that made it
        pieces = [_wanting(p) for p in language.split_requests(message, self._starts_request)]
        pieces = [q for p in pieces for q in self._remark_first(p)]
        if len(pieces) > 1:  # "go on then, play it again": the "go on" urges the rest
            pieces = [p for p in pieces if not re.fullmatch(r"\s*(?:go\s+on|come\s+on)[\s,.!]*", p,
                                                            re.I)] or pieces
        # "OK. Can you make 3 more": a piece that asks for nothing leaves the other alone
        self._alone = len([p for p in pieces if not _FILLER.match(p)
                           and _POLITE.sub("", p).strip(" ,.!?")]) == 1
        if len(pieces) == 1 and remark(pieces[0]):  # "the whale is the best", "lol so cute"
            return Plan(reply=prompts.REMARK, answer="chat")
        if len(pieces) == 1 and _about_the_person(pieces[0], alone=True) and not re.match(
                r"\s*i\s+was\s+(?:thinking|hoping|imagining)\b.*\b(?:a|an|some)\s", pieces[0],
                re.I):  # "I teach year 3", not "I was thinking of a windmill"
            return Plan(reply=prompts.GREETING, answer="chat")
        if len(pieces) > 1 and _BACK_TO_A_VERSION.search(message) \
                and not _SEQUENCED.search(message) and len(language.explicit_refs(message)) <= 1:
            pieces = [message.strip(" .!?")]  # "v2 of the whale was best, go back to it"
        for request in pieces:
            if _FILLER.match(request) or not _POLITE.sub("", request).strip(" ,.!?"):
                continue  # "hmm, undo that": the "hmm" asks for nothing
            labelled = _LABELLED.match(_POLITE.sub("", request).strip())
            if labelled and not lead:  # "the jig: +1 semitone", "whale: add a small boat"
                head = labelled.group(1).strip()
                if not re.match(r"(?:the|this|that|my|#)", head, re.I):
                    head = f"the {head}"
                if _names_only(head, context):
                    lead, request = head, labelled.group(2)
            switch = _SWITCH.match(_POLITE.sub("", request).strip(" ,.!?")) or (
                _WHAT_ABOUT.match(_POLITE.sub("", request).strip(" ,.!?")) if len(pieces) > 1
                else None)  # "what about the music, redo that one"
            if switch and not lead and _names_only(switch.group(1), context) \
                    and not re.search(r"\b(?:v\s*\d|version|original|first\s+(?:one|version))\b",
                                      switch.group(1), re.I):
                lead = switch.group(1)  # "go back to the music and give me two variations"
                continue
            if len(pieces) > 1 and (remark(request) or _about_the_person(request)):
                chatted = True
                told.append(request)
                # "lol its so cute. make it bigger", "3rd one goes hard, upscale that 4x":
                # the remark asks for nothing, but the artwork it names is the one meant next
                if not lead:
                    lead = _named_in(request, context)
                continue
            if len(pieces) > 1 and _HOW_TO.match(_HELLO.sub("", request).strip()):
                asked = True  # "haha perfect. is that in a major key?": a question to answer
                continue
            chosen = _CHOICE.match(_POLITE.sub("", request).strip(" ,.!?"))
            if chosen and not lead and len(pieces) > 1 and \
                    len(naming.targets(chosen.group(1), context)) == 1:
                lead = chosen.group(1)  # "hmm go with #4 in the end. 2x": #4, at 2x
                continue
            steps = _STEPS_ONLY.match(_POLITE.sub("", request).strip(" ,.!?"))
            if steps and calls and calls[-1].name == "interpolate_music":
                calls[-1].args["steps"] = max(1, min(12, int(language.to_number(steps.group(1))
                                                             or 4)))
                continue  # "morph #4 into #5 then, 10 steps"
            if len(pieces) > 1 and _ASPECT_NAMED.match(request) and request is not pieces[-1]:
                continue  # "sorry, the colours. less orange": the next piece says what
            decision = self.decide(request, context)
            if len(decision.calls) == 1 and decision.calls[0].name == "edit_image" and \
                    _ONLY_REFS.match(str(decision.calls[0].args.get("instruction", ""))):
                decision = Decision()  # "1st and 3rd": which ones, not what to do with them
                if not lead and len(pieces) > 1 and request is not pieces[-1]:
                    lead = request
                    continue
            if _judged_only(request, decision, context) and not (
                    calls and calls[-1].name in _CREATE and id(calls[-1]) in origin
                    and _DESCRIBING.match(_POLITE.sub("", request).strip())):
                # "ooh. hmm it's a bit dark", "the text's fine. make it bigger", "hmm, a bit
                # of a mess. rotate it 180": the judgement is the reason, not a request; the
                # artwork it names is the one meant next ("the ice castle, it looks like a
                # funeral. cheer it up")
                judged.append(request)
                if not lead and len(pieces) > 1:
                    lead = _named_in(request, context)
                continue
            if not decision.calls and (_only_a_reference(request) or _names_only(request, context)
                                       or _REGION_ONLY.match(request)):
                lead = request  # "on #2," - unless it asks for something itself
                bare = _POLITE.sub("", request)
                named = naming.targets(bare, context)
                one = _one_named(named, bare)
                if len(named) == 2 and len(one) == 1:
                    lead = one[0].ref  # "the piano one, #4,": #4
                continue
            if lead:
                request, lead = f"{lead}, {request}", ""
                if len(pieces) == 2:
                    self._alone = True  # "#4: 2x" is one request about #4
                decision = self.decide(request, context)
            decision.calls = _each(decision.calls, request, context)
            if len(decision.calls) < 2 or len({c.args.get("seed") for c in decision.calls}) < \
                    len(decision.calls):  # a seed sweep keeps a seed a call
                decision.calls = [_said_outright(c, request) for c in decision.calls]
            made = calls[-1] if calls and calls[-1].name == "generate_image" and \
                id(calls[-1]) in origin else None
            leave_out = _NO_THING.match(_POLITE.sub("", request).strip(" .!"))
            if made is not None and leave_out:  # "…, 16:9. No text.": what to leave out
                had = str(made.args.get("negative_prompt", ""))
                made.args["negative_prompt"] = f"{had}, {leave_out.group(1)}" if had else \
                    leave_out.group(1)
                continue
            feel = _MAKE_IT_FEEL.match(_POLITE.sub("", request).strip(" .!"))
            if made is not None and feel and len(decision.calls) == 1 \
                    and decision.calls[0].name == "edit_image":
                # "a T-rex eating a birthday cake. make it fun": how the new one should be
                made.args["prompt"] = f"{made.args.get('prompt', '')}, {feel.group(1)}"
                continue
            if made is not None and _DESCRIBING.match(_POLITE.sub("", request).strip()) and (
                    all(c.name in ("edit_image", "inpaint_image", "adjust_image", "edit_music")
                        for c in decision.calls)
                    or (decision.weak or _GENERIC_PROMPT.match(str(made.args.get("prompt", ""))))
                    and all(c.name == made.name for c in decision.calls)):
                # "a picture of my late husband's boat. It was blue. On the sea at Whitby":
                # the sentences after a request describe what it makes
                made.args["prompt"] = _described(str(made.args.get("prompt", "")), request)
                continue
            if calls and calls[-1].name == "blend_images" and len(decision.calls) == 1 \
                    and decision.calls[0].name == "blend_images" \
                    and not language.explicit_refs(request) and len(request.split()) <= 6:
                # "2nd and 4th, blend them, foggy": them, and how to blend them
                said_how = decision.calls[0].args.get("prompt")
                if said_how:
                    calls[-1].args.setdefault("prompt", said_how)
                continue
            if decision.calls and calls and (not _SEQUENCED.search(message)
                                             or _ARG_PHRASE.match(request)) \
                    and _only_arguments(request, decision.calls, calls[-1], context):
                # "a heron in reeds. watercolour pls": more about the picture just asked for
                for k, v in decision.calls[0].args.items():
                    if k != "prompt":
                        calls[-1].args.setdefault(k, v)
                continue
            if decision.calls and calls and _only_a_remark(calls[-1]):
                calls.pop()  # "the castle looks freezing, give it some warmth": the remark
            if decision.calls and calls and not _SEQUENCED.search(message) and \
                    _joined(calls, decision.calls, previous):
                previous = request
                continue
            if decision.calls:
                if (decision.weak or len(pieces) > 1 and _STATEMENT.match(request)) \
                        and decision.calls[0].name in _CREATE \
                        and not _DESCRIBES.match(_POLITE.sub("", request)) or (
                            decision.weak and decision.calls[0].name == "edit_image"
                            and not _EDIT_WORDS.search(request)
                            and not re.match(r"^\s*(?:[^,:]{1,40}[,:]\s*)?"
                                             r"(?:(?:please|pls|now|and|then|so|ok|okay)\s+)*"
                                             r"(?:make|turn|change|let|have|can|could|would)\b",
                                             _POLITE.sub("", request), re.I)):
                    # a catch-all reading: "the fox pic could go on my cafe wall" is no edit
                    chatter.append((len(calls), len(decision.calls)))
                calls.extend(decision.calls)
                origin.update((id(c), request) for c in decision.calls)
                if not chatter or chatter[-1][0] != len(calls) - len(decision.calls):
                    # a catch-all that may yet be dropped as chatter makes no new "it"
                    context = _after(context, decision.calls)
                previous = request
            elif decision.spoken:
                kind, sentence = decision.spoken
                said.append(sentence)
                answer = kind if answer in (None, "ask") and kind == "refuse" else answer or kind
            else:
                unknown.append(request)
                if _TELLING.match(request):
                    told.append(request)
        calls = _told_apart(calls, origin, told, unknown, before)
        if lead and not calls and not said:
            found = naming.targets(lead, context)
            if found and found[0].ref.startswith("#"):
                return Plan(reply=f"What should I do with {found[0].ref}? For example: a "
                                  "variation, an edit in words, or “undo”.", answer="ask")
        if lead:
            unknown.append(lead)
        if chatter and answer == "refuse" and sum(n for _, n in chatter) == len(calls):
            calls = []  # "animate the blend, slow pan left to right": the pan is the video's
        if chatter and sum(n for _, n in chatter) < len(calls):
            # "morning! coffee in hand. the jig is too fast, slow it down": the chatter
            # beside a clear request is not a scene to paint - unless the request is a new
            # one that says nothing of what it shows ("a goblin shaman, sketch again"): then
            # the chatter was its subject
            gone = {id(c) for start, n in chatter for c in calls[start:start + n]}
            for call in calls:
                if id(call) in gone or call.name not in _CREATE \
                        or _substance(str(call.args.get("prompt", ""))) > 0:
                    continue
                subject = next((c for c in calls if id(c) in gone and c.name == call.name), None)
                if subject is not None:
                    call.args["prompt"] = subject.args.get("prompt", "")
            chatted_about = [str(c.args.get("artwork")) for c in calls if id(c) in gone
                             and c.name == "edit_image"
                             and str(c.args.get("artwork")) not in _PRONOUNS]
            for start, n in reversed(chatter):
                del calls[start:start + n]
            if len(set(chatted_about)) == 1:  # "the fox pic could go on my wall, crop it square"
                for call in calls:
                    if call.args.get("artwork") in _PRONOUNS:
                        call.args["artwork"] = chatted_about[0]
        calls = _purpose_apart(calls, origin, message)
        _same_subject(calls, before)
        calls = _dedupe(calls, before)
        calls = [c for i, c in enumerate(calls) if not (
            i + 1 < len(calls) and calls[i + 1].name == "undo" and c.name in _TOOL_KIND
            and (c.args.get("artwork") == calls[i + 1].args.get("artwork") or {
                c.args.get("artwork"), calls[i + 1].args.get("artwork")} <= set(_PRONOUNS))
            and id(c) in origin and not self._starts_request(origin[id(c)]))]
        # "I preferred it before the sky change, take that back": the words about the sky
        # say what to take back; an edit undone in the same breath was never asked for
        if not calls and not said and context.recent and (_DISSATISFIED.match(message) or (
                _JUDGED.match(message) and re.search(
                    r"\b(?:not|n'?t|too|bad|wrong|ugly|weird|off|creepy|scary|strange|odd|"
                    r"terrible|awful|horrible|boring|blurry)\b", message, re.I))):
            return Plan(reply=prompts.what_change(context), answer="ask")  # "not quite right"
        if not calls and not said and asked:
            return Plan(reply=prompts.capabilities(), answer="chat")
        if not calls and not said and judged and context.recent:
            if all(_PLEASED.search(j) for j in judged):  # "the text's fine"
                return Plan(reply=prompts.REMARK, answer="chat")
            return Plan(reply=prompts.what_change(context), answer="ask")  # "too busy"
        if not calls and not said and not unknown and chatted:
            return Plan(reply=prompts.GREETING, answer="chat")
        if not calls and not said and "?" in message and _ASKING.search(
                _HELLO.sub("", message).strip()):  # "can we use the music commercially?"
            return Plan(reply=prompts.unanswered(message), answer="chat")
        if not calls and not said and re.match(r"\s*(?:thanks|thank\s+you|thx|ty|cheers|great|"
                                               r"perfect|lovely|brilliant|wonderful)\b", message,
                                               re.I):
            return Plan(reply=prompts.GREETING, answer="chat")  # "thanks, she'll be thrilled"
        if not calls and not said:
            return Plan(reply=prompts.not_understood(message), answer="unknown")
        if unknown:
            said.append(prompts.partly_understood(unknown))
        return Plan(calls=calls, reply="\n".join(said) or None,
                    answer=None if calls else answer)

    def _answer(self, message: str, context: PlanContext) -> Plan | None:
        """"#2" or "the music" right after the planner asked which one: the earlier request,
        about that artwork."""
        if len(context.history) < 2:
            return None
        (role_q, question), (role_r, request) = context.history[-1], context.history[-2]
        meant = _MEANT.match(message.strip())
        if role_q != "assistant" or role_r != "user" or not (
                question.rstrip().endswith("?") or meant):
            return None
        bare = _POLITE.sub("", meant.group(1) if meant else message).strip(" ,.!?")
        found = naming.targets(bare, context)
        if len(found) != 1 or not _only_a_reference(bare) and found[0].span != (0, len(bare)):
            return None
        target = found[0]
        focus = context.focus
        named = naming.targets(request, context)
        said_name = request[named[0].span[0]:named[0].span[1]] if len(named) == 1 else "#"
        if not target.ref.startswith("#") and target.kind and len(named) == 1 \
                and not re.search(r"\d|#", said_name):
            # "Which one: the picture or the music?" - "the picture": the one of that kind
            # the question was about
            pool = [b for b in context.recent if b.kind == target.kind]
            fits = _titled(said_name, pool) or pool
            if fits:
                a, b = named[0].span
                request = f"{request[:a]}#{fits[-1].number}{request[b:]}"
                target = naming.Target(f"#{fits[-1].number}", target.kind, target.span)
        elif not target.ref.startswith("#") and target.kind and re.search(
                _ONE_OF, request, re.I):
            # "make one of them more cheerful" - "the song": the latest of that kind
            pool = [b for b in context.recent if b.kind == target.kind]
            if pool:
                request = re.sub(_ONE_OF, f"#{pool[-1].number}", request, count=1, flags=re.I)
                target = naming.Target(f"#{pool[-1].number}", target.kind, target.span)
        if target.ref.startswith("#"):
            number = int(target.ref[1:].split()[0])
            focus = [b for b in context.recent if b.number == number] or focus
        plan = self.plan(request, replace(context, focus=focus, history=[]))
        for call in plan.calls:
            if isinstance(call.args.get("artwork"), str):
                call.args["artwork"] = target.ref  # the answer is the artwork asked about
            elif call.args.get("inspired_by") in _PRONOUNS:
                call.args["inspired_by"] = target.ref
        return plan if plan.calls else None

    # -- one request ---------------------------------------------------------------------

    def decide(self, request: str, context: PlanContext) -> Decision:
        request = naming.made_by_operation(request, context)  # "the blend" is #7
        request = _wanting(request)  # "I think it wants a cello": give it a cello
        text = _POLITE.sub("", request).strip(" ,.!?") or request
        pred = self.model.predict(text) if self.model is not None else None
        refusal = _refusal(request, pred)
        if refusal:
            return Decision(refusal=refusal)
        # Quoted words are content ("write 'Jig Night' on it"), never a reference.
        masked = _QUOTES.sub(lambda m: " " * len(m.group(0)), text)
        for a, b in images.caption_spans(masked):  # "add THE MOON at the bottom"
            masked = masked[:a] + " " * (b - a) + masked[b:]
        found = naming.targets(masked, context)
        missing = _named_nothing(masked, found, context)
        if missing:  # "the whale one, make it sadder" with no whale: say so, touch nothing
            return Decision(said=missing)
        # The artwork the request names becomes "it" for the slot fillers, so "play the
        # piano melody on cello" is "play it on cello" about the piano melody.
        local, said = context, text
        if len(found) == 1 and not (pred is not None and pred.label in _HISTORY and
                                    _HISTORY_RULE.search(text)):
            first = found[0]
            said = text[: first.span[0]] + "it" + text[first.span[1]:]
            # "the second one, put Saltwick Light at the top": named up front, the request
            # is what follows (the artwork is now "it" for the slot fillers)
            said = re.sub(r"^\s*it\s*[,:;-]+\s*(?=(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?"
                          r"(?:add|put|write|make|turn|give|crop|rotate|flip|upscale|continue|"
                          r"transpose|play|change|set|remove|vary|blend|undo|redo|revert|show|"
                          r"list|zoom|extend|repaint|replace|swap|slow|speed|raise|lower|drop|"
                          r"bump|shorten|trim|loop|fade|mix|morph)\b)", "", said, flags=re.I)
            if first.kind and first.ref.startswith("#"):
                number = int(first.ref[1:].split()[0])
                brief = next((b for b in context.recent if b.number == number),
                             ArtworkBrief(number, first.kind, ""))
                local = replace(context, focus=[brief])
            elif first.kind:  # "the picture": that kind's "it", or its latest
                same = [b for b in context.focus if b.kind == first.kind] or \
                    [b for b in context.recent if b.kind == first.kind][-1:]
                if same:
                    local = replace(context, focus=same[:1])
        if _HOW_TO.match(text) or _HOW_TO.match(request.strip()) \
                or _HOW_TO.match(_HELLO.sub("", text).strip()):
            return Decision(chat=prompts.capabilities())
        if context.focus and _PRESENTING.match(text) and not _EDIT_WORDS.search(text):
            # "here is my recording" beside an attached clip shows it; it asks for nothing
            return Decision(question=prompts.what_change(replace(context,
                                                                 focus=context.focus[-1:])))
        across = _WOULD_BE_LIKE.match(text)
        if across and context.recent:  # "what would that sound like as music? piano"
            ref = found[0].ref if found else "it"
            of = found[0].kind if found and found[0].kind else naming.focus_kind(local)
            rest = text[across.end():]
            if linking._subject_words(across.group(1)):  # "the attic": what it shows
                rest = f"{across.group(1)} {rest}"
            as_what = (across.group(3) or "").lower()
            wants = "music" if re.match(r"music|song|tune|piece|melody", as_what) else \
                "image" if as_what else ("music" if across.group(2).lower() == "sound"
                                         else "image")
            if wants == "music" and of == "image":
                made = music._compose(rest or "music", context)
            elif wants == "image" and of == "music":
                made = images._generate(rest or "a picture", context)
            else:
                made = []
            if made:
                made[0].args["inspired_by"] = ref
                if not re.search(r"[a-z]{3,}", re.sub(r"\b(?:please|pls|music|a|an|song|tune|"
                                                      r"piece|picture|painting|oil|"
                                                      r"watercolou?r)\b", "",
                                                      str(made[0].args.get("prompt", "")),
                                                      flags=re.I)):
                    made[0].args["prompt"] = "music" if made[0].name == "compose_music" \
                        else "a picture"
                return Decision(calls=_retarget(made, found, context, text))
        ratio = _RATIO.search(text)
        if ratio and naming.focus_kind(local) == "image" and not _EDIT_WORDS.search(text) \
                and not _NEW_WORDS.search(text) and not slots.adjustments(text) \
                and (_REFERS.search(text) or found):
            # "could it be wide, like a banner? 16:9": a frame said by its ratio
            calls = _retarget([PlannedCall("reframe_image", {
                "artwork": "it", "aspect": f"{ratio.group(1)}:{ratio.group(2)}"})],
                found, context, text)
            mismatch = _wrong_kind(calls, found, context)
            return Decision(said=mismatch, calls=[] if mismatch else calls)
        shape = _only_an_aspect(said if said != text else text)
        if shape and (naming.focus_kind(local) == "image" or (
                not local.focus and naming.has_kind(local, "image"))):
            # "phone size", "wider please, like for the telly": the picture's frame
            calls = _retarget([PlannedCall("reframe_image", {"artwork": "it", "aspect": shape})],
                              found, context, text)
            mismatch = _wrong_kind(calls, found, context)
            return Decision(said=mismatch, calls=[] if mismatch else calls)
        kind_now = found[0].kind if len(found) == 1 and found[0].kind else \
            naming.focus_kind(local)
        if _AGAIN_DIFFERENT.search(text) and kind_now in ("image", "music"):
            # "play it again but a bit different": a variation of it
            strong = bool(re.search(r"\b(?:totally|completely|very|really|quite|much)\s+"
                                    r"different", text, re.I))
            made = [PlannedCall("vary_image", {"artwork": "it", "strength":
                                               "strong" if strong else "subtle"})
                    if kind_now == "image" else
                    PlannedCall("vary_music", {"artwork": "it", "amount": 0.6 if strong else 0.3})]
            return Decision(calls=_retarget(made, found, context, text))
        if kind_now == "image" and not found and _GIVE_HIM.match(_POLITE.sub("", text)):
            # "give him a party hat": the one in the picture, not a new picture
            given = intents.BUILDERS["edit"](said, local)
            if given and given[0].name in ("edit_image", "inpaint_image"):
                return Decision(calls=_retarget(given, found, context, text))
        bare_now = _POLITE.sub("", text).strip(" ,.!?")
        several = _N_MORE_OF.match(bare_now)
        if several and not found:
            # "three more of a cottage garden, minimal style", "4 different ones of a cat on
            # a windowsill": new ones of what is said (of "the fox" it would be variations)
            make = "compose_music" if naming.music_words(several.group(2)) else "generate_image"
            made = intents.BUILDERS[make](several.group(2), context)
            said_after = bare_now[several.end(2):]
            extra = intents.BUILDERS[make](f"{several.group(2)} {said_after}", context)
            if len(made) == 1 and len(extra) == 1:  # "…, but minimal style": its arguments
                for k, v in extra[0].args.items():
                    if k != "prompt":
                        made[0].args.setdefault(k, v)
            how_many = int(language.to_number(several.group(1)) or 2)
            if len(made) == 1:
                if make == "generate_image":
                    made[0].args["count"] = max(1, min(4, how_many))
                return Decision(calls=made)
        one_for = _ONE_FOR.match(bare_now)
        if one_for and not found and naming.focus_kind(local) in ("image", "music") \
                and len(local.focus) == 1:
            # "and one for monday" after a melody for sunday: another of the same kind
            make = "compose_music" if naming.focus_kind(local) == "music" else "generate_image"
            made = intents.BUILDERS[make](f"one {one_for.group(1)}", context)
            if len(made) == 1 and made[0].name == make:
                return Decision(calls=made)
        another = _ANOTHER_PIECE.match(_POLITE.sub("", text).strip(" ,.!?"))
        if another and kind_now == "music" and not found:
            # "now write another one in 3/4 so they can hear it": a new piece, as said
            made = music._compose(f"a piece {another.group(1)}", context)
            if made:
                return Decision(calls=made)
        if not found and _MORE_OF.match(_POLITE.sub("", text).strip(" ,.!?")):
            more = _terse(text, context, local, found)  # "can you make 3 more so he can pick"
            if more:
                return Decision(calls=more)
        retry = _TRY_AGAIN_WITH.match(_POLITE.sub("", text).strip(" ,.!?"))
        if retry and not found:  # "try again, a red sports car this time, photo"
            said_again = re.sub(r"[,\s]*\bthis\s+time\b", "", retry.group(1) + retry.group(2))
            made = (music._compose if naming.music_words(said_again) else
                    images._generate)(said_again, context)
            if made:
                return Decision(calls=made)
        bare_text = _POLITE.sub("", text).strip(" .!")
        subject = _NEW_SUBJECT.match(bare_text) or _NEXT_PIECE.match(bare_text)
        if subject and not found:
            # "A different subject then: the Venice canals at dawn", "boss theme next, 170 bpm"
            said_new = subject.group(1) if subject.re is _NEW_SUBJECT else \
                re.sub(r"\s+next\b", "", bare_text, count=1, flags=re.I)
            made = (music._compose if naming.music_words(said_new) else images._generate)(
                said_new, context)
            if made:
                return Decision(calls=made)
        restyled = _SAME_AS.match(_POLITE.sub("", text).strip(" .!"))
        if restyled and images._style_of(restyled.group(2))[0]:
            # "now the same still life as a pencil sketch": a new picture of it in that style
            made = images._generate(f"the same {restyled.group(1)} {restyled.group(2)}", context)
            if made:
                _same_subject(made, context)
                return Decision(calls=made)
        again = _again_but(text, local) if not found or found[0].kind == "image" else []
        if again:  # "same but seed 13 and 14", "again but negative prompt: people"
            return Decision(calls=again)
        if self._alone and not found and naming.focus_kind(local) == "music":
            # "cello", "marimba please" with a piece in focus: play it on that
            bare = re.sub(r"[\s,]*\b(?:please|pls|plz|thanks|thank\s+you|instead|now)\W*$", "",
                          _POLITE.sub("", text)).strip(" ,.!?")
            bare = re.sub(r"^(?:a|an|the|some)\s+", "", bare, flags=re.I)  # "nah. a vibraphone"
            instrument = music._instrument_in(f"on the {bare}")
            if instrument and bare.lower() in (instrument, instrument + "s"):
                return Decision(calls=[PlannedCall("edit_music", {"artwork": "it",
                                                                  "instrument": instrument})])
        if context.recent:  # "looks drained", "sounds like a funeral": correct the fault
            of = found[0].kind if len(found) == 1 and found[0].kind else None
            fixed = complaints.corrections(said, of or naming.focus_kind(local))
            if fixed:
                fixed = _retarget(fixed, found, context, text)
                mismatch = _wrong_kind(fixed, found, context)
                return Decision(said=mismatch, calls=[] if mismatch else fixed)
        if re.search(r"\b(?:one|two)\s+of\s+(?:the|my|them|these|those|em)\b", text, re.I) \
                and not language.explicit_refs(text) and not (
                    pred is not None and pred.label in _CREATE and pred.p >= ASK):
            return Decision(question=prompts.which_ones(context))
        clip = naming.focus_kind(local) == "audio" or any(t.kind == "audio" for t in found) or (
            naming.focus_kind(context) == "audio" and re.search(r"\b(?:it|this|that)\b", text,
                                                                re.I) is not None)
        if not clip and (_BLEND_WORDS.search(text) or (len(found) >= 2 and _INTO.search(text))):
            kinds = {t.kind for t in found[:2]}
            if kinds == {"image", "music"}:
                return Decision(said="I can blend two pictures or morph one piece of music into "
                                     "another, but not a picture into music (or back): try “a "
                                     "picture that fits #N” or “music for #N”.")
            blended = intents.blend_targets(text, found, context)
            if blended:
                return Decision(calls=blended)
        if _DELETE.match(text):
            return Decision(said="I don't delete artworks: every version is kept. “undo” or "
                                 "“revert #N to v1” takes one back, and “list my artworks” "
                                 "shows them all.")
        if _GIBBERISH.fullmatch(text) and not any(
                spelling.known(w)
                for w in re.findall(r"[a-z]+", text.lower())):
            return Decision()  # "asdfgh": said as not understood, with what it can do
        rule_calls = self._rules(text, said, local, context)
        label = _label(rule_calls)
        if rule_calls and label is None and self._certain:
            # a tool the intent model has no label for ("harmonise it", "export #2 as
            # ABC"): its rule is the only reading
            if all(c.name in _AS_WRITTEN for c in rule_calls):
                return Decision(calls=rule_calls)  # its references are its own
            calls = _retarget(rule_calls, found, context, text)
            mismatch = _wrong_kind(calls, found, context)
            return Decision(said=mismatch, calls=[] if mismatch else calls)
        catch_all = self._weak
        if not rule_calls and (_ELSEWHERE.match(text) or _ELSEWHERE.match(
                _POLITE.sub("", _HELLO.sub("", text)).strip())):
            return Decision(chat=prompts.elsewhere(text, self._alone))  # another app's job
        if rule_calls and label == "edit" and not context.recent and not _REFERS.search(text):
            # nothing exists yet and nothing is named: "a slow ballad on the saxophone" is
            # a new piece, not an edit of "it"
            make = "compose_music" if naming.music_words(text) or rule_calls[0].name == \
                "edit_music" else "generate_image"
            rule_calls = intents.BUILDERS[make](text, context)
            label = _label(rule_calls)
        elif rule_calls and label not in _CREATE and not context.recent and pred is not None \
                and pred.label in _CREATE and pred.p >= ASK:
            rule_calls, label = [], None  # nothing exists yet: an edit can't be what is meant
        if rule_calls and self._weak:
            cued = slots.strong_cue(said, local)
            if cued:
                rule_calls, label = cued, _label(cued)
                self._weak = False
        if rule_calls and self._weak and pred is not None and pred.label != label \
                and pred.p >= ASK and pred.label in intents.BUILDERS \
                and not (found and pred.label in _CREATE):
            rule_calls, label = [], None  # a catch-all rule yields to a clear intent
        new_one = _NEW_ONE.sub("", text)
        labelled_piece = _LABEL_PIECE.match(text)  # "Track: synth, 100bpm"
        fresh = _NEW_PIECE.match(text) or _NEW_PIECE.match(new_one) or (
            _NEW_PIECE.match(f"a {labelled_piece.group(1)}") if labelled_piece else None)
        if fresh and not found and label in ("edit", "vary"):
            # "a jig in 6/8 on the fiddle" is a new piece, not "it" on the fiddle
            rule_calls = intents.BUILDERS["compose_music" if fresh.group(1) else
                                          "generate_image"](new_one or text, context)
            label = _label(rule_calls)
        chosen: str | None = label
        calls = rule_calls
        keep = rule_calls and (pred is None or self._certain or pred.label == label
                               or pred.p < OVERRULE
                               or pred.p_of(label or "") >= KEEP_RULE
                               # the model's "edit" is broad; a rule's upscale/reframe/... is not
                               or (pred.label == "edit" and not self._weak
                                   and label in _SPECIFIC)
                               or (not self._weak and label in _SPECIFIC and pred.p < 0.9)
                               # "make #2 look like a watercolor" edits #2
                               or (found and label not in _CREATE and pred.label in _CREATE)
                               # "bigger waves": a thing in the picture, not the picture
                               or (pred.label == "upscale_image"
                                   and rule_calls[0].name == "edit_image"
                                   and re.search(r"\b(?:bigger|larger)\b", text, re.I)
                                   is not None))
        if pred is not None and not keep:
            if pred.label == "chat" and pred.p >= ACT and not rule_calls:
                return Decision(chat=prompts.not_understood(request))
            if pred.label == "ask" and pred.p >= ACT and not rule_calls:
                return Decision(question=prompts.what_change(local))
            if pred.label in intents.BUILDERS and \
                    pred.p >= (OVERRULE if rule_calls else ACT):
                chosen = pred.label
                calls = []
        fresh_takes = _TAKES_ON.search(text) if chosen == "vary" and not context.recent \
            and not _REFERS.search(text) else None
        if fresh_takes:  # "3 takes on a lighthouse in a storm" with nothing made yet
            make = "compose_music" if naming.music_words(fresh_takes.group(2)) else \
                "generate_image"
            made = intents.BUILDERS[make](fresh_takes.group(2), context)
            n = language.to_number(fresh_takes.group(1) or "") or 3
            if len(made) == 1:
                if make == "generate_image":
                    made[0].args["count"] = max(1, min(4, int(n)))
                return Decision(calls=made)
        if chosen in ("edit", "inpaint_image", "add_text") and not calls and not context.recent \
                and not _REFERS.search(text) and (chosen != "edit" or not re.search(
                    r"\b(?:the|my|your|our)\b", text, re.I)):
            # nothing exists yet and nothing is named: "fox", "a slow one on the harp" can
            # only be something new
            chosen = "compose_music" if naming.music_words(text) else "generate_image"
        linked = linking.crossmodal(text, context) if (
            (chosen in _CREATE or chosen is None or not found or pred is None
             or pred.label in _CREATE or _LINKED.search(text)) and not (
                _HISTORY_START.match(text) and not re.search(r"\b(?:sound|look)s?\b", text))) \
            else None
        if linked and (chosen in _CREATE or pred is None or pred.label in _CREATE
                       or pred.p < OVERRULE or _LINKED.search(text)):
            tool, ref, rest = linked
            rest = _DANGLING_LINK.sub(" ", rest)
            calls = (images._generate if tool == "generate_image" else music._compose)(
                rest, context)
            subject = _SUBJECT_AFTER.match(rest.strip())
            if calls and subject and not _nothing_said(subject.group(2)):
                # "a picture that goes with it: ten ladybirds on a leaf": the subject is
                # what follows the colon; the words before it say what for
                tail = (images._generate if tool == "generate_image" else music._compose)(
                    subject.group(2), context)
                if tail:
                    calls[0].args = {**calls[0].args, **tail[0].args}
            if calls:
                calls[0].args.pop("inspired_by", None)
                calls[0].args["inspired_by"] = ref
                calls[0].args["prompt"] = linking._unlinked(
                    str(calls[0].args.get("prompt", ""))) or calls[0].args.get("prompt", "")
                if tool == "generate_image" and re.fullmatch(
                        r"(?:(?:just|only|simply|maybe)\b\s*)?"
                        r"(?:a\s+|an\s+|some\s+)?(?:\d+\s+)?(?:album\s+)?(?:cover|poster|picture|"
                        r"image|painting|artwork|art|illustration|visual)s?(?:\s+art|\s+ideas?)?"
                        r"(?:\s+(?:for|of|to|that\s+fits|like))?|(?:for|of|to|like|with)?",
                        re.sub(r"^(?:just|only|simply|maybe)\b\s*", "",
                               str(calls[0].args.get("prompt", "")), flags=re.I), re.I):
                    calls[0].args["prompt"] = "a picture"
                return Decision(calls=calls)
        if chosen is None:
            # "fox", "snow", "cello", "3 more" said as a whole message
            terse = _terse(text, context, local, found) if self._alone else []
            if terse:
                return Decision(calls=terse)
            fallback = _fallback(text, said, local, found, pred)
            if fallback:
                fallback = _aspect_only(_retarget(fallback, found, context, text), text, local)
                if len(fallback) == 1 and fallback[0].name == "generate_image" and not found \
                        and naming.focus_kind(local) == "image" and _LESS_OF.match(text):
                    # "fewer flowers, just a path and a bench": less of what is in it
                    edited = intents.BUILDERS["edit"](said, local)
                    if edited:
                        return Decision(calls=edited)
                if len(fallback) == 1 and fallback[0].name == "edit_image" and _vague(
                        str(fallback[0].args.get("instruction", ""))):
                    return Decision(question=prompts.what_change(local))
                return Decision(calls=fallback, weak=fallback[0].name in (*_CREATE, "edit_image"))
            return Decision(question=_question(pred, context) if pred else None)
        if chosen == "generate_image" and naming.music_words(text) \
                and not re.search(r"\b" + naming.IMAGE_NOUN + r"s?\b", text, re.I):
            chosen, calls = "compose_music", []  # music words decide over the picture default
        elif chosen == "compose_music" and not naming.music_words(text) \
                and re.search(r"\b" + naming.IMAGE_NOUN + r"s?\b", text, re.I) \
                and not linking.inspired(text, context, "music")[0]:
            chosen, calls = "generate_image", []
        named = [t for t in found if t.kind is not None]
        if chosen in _CREATE and named and named[0].kind == (
                "music" if chosen == "compose_music" else "image") \
                and len(text[: named[0].span[0]].split()) <= 1 \
                and not re.search(r"\b(?:new|another|fresh|second|like|similar|based\s+on|"
                                  r"inspired|variations?|version\s+of)\b", text, re.I):
            chosen, calls = "edit", []  # "play the jig on a sitar" edits the jig
        if chosen == "revert" and language.version_number(text) is None \
                and not re.search(r"#\s*\d+\s*v\s*\d+|\b(?:first|original)\b|\bto\s+(?:number\s+)?"
                                  r"\d+\b(?!\s*(?:bpm|bars?|semitones?|x|%|:))", text, re.I):
            chosen, calls = "undo", []  # "revert that", "go back a version": one step back
        made_kind = {"generate_image": "image", "compose_music": "music"}.get(chosen or "")
        if made_kind and re.match(
                r"^(?:(?:please|pls|now|ok|okay|and|then|can\s+you|could\s+you)\s+)*"
                r"(?:make|turn|change|get|have|render|give|put|play)\s+(?:#\s*\d+|it|this|that)\b"
                r"(?!\s+(?:into|as)\s+(?:a|an)\s+(?:song|tune|piece|melody|picture|image|"
                r"painting|poster|cover))", text, re.I) and (
                (found and (chosen == "generate_image" or found[0].kind == "music"))
                or (not found and naming.focus_kind(local) == made_kind
                    and not re.search(r"\b(?:inspired\s+by|based\s+on|to\s+go\s+with|"
                                      r"that\s+(?:fits|matches|suits)|for\s+(?:it|this|that))\b",
                                      text, re.I))):
            # "make #2 look like a watercolor", "make it look like a pencil sketch", "put it
            # on a music box": a change to the one in hand, never a new one
            chosen, calls = "edit", []
        if chosen in _CREATE:
            calls = intents.BUILDERS[chosen](new_one or text, context)
        elif chosen == "blend":
            calls = intents.blend_targets(text, found, context) or calls \
                or intents.BUILDERS[chosen](text, context)
        elif chosen in intents.REBUILT or not calls:
            calls = intents.BUILDERS[chosen](said, local) or calls
        if not calls and rule_calls:
            calls = rule_calls
        if not calls and self._alone:
            # "harp", "stars", "steel drums": the model reads an edit its builders cannot
            # fill; said alone, the word leans on the artwork in focus
            calls = _terse(text, context, local, found)
        if not calls:
            return Decision(question=_question(pred, context) if pred else None)
        if len(calls) == 1 and calls[0].name == "edit_music" and not any(
                b.kind == "music" for b in context.recent) and not found and not re.search(
                r"\b(?:it|the|that|this|my|your|our)\s*(?:song|tune|music|piece|melody|track|"
                r"jig|reel|waltz|one)?\b", re.sub(r"\b(?:for|on|with)\s+(?:the|my|her|his|their|"
                                                  r"a|an)\b", " ", text), re.I) and re.search(
                r"\b(?:tune|song|piece|melody|music|something|anything|jingle|theme|lullaby|"
                r"waltz|jig|reel|march|intro|outro|loop|track|soundtrack)\b", text, re.I):
            # no music yet and none named: "a little birthday tune she could play on her
            # recorder", "something for the intro: slow and eerie, cello" is a new piece
            made = music._compose(text, context)
            if made:
                return Decision(calls=made)
        both = _both_kinds(found, text, context)
        if both and all(c.name not in _CREATE for c in calls):
            return Decision(question=both)  # "make the squirrel one brighter": which one?
        calls = _retarget(calls, found, context, text)
        mismatch = _wrong_kind(calls, found, context)
        if mismatch:
            other = _same_subject_other_kind(calls, found, text, context)
            if not other:
                return Decision(said=mismatch)
            calls = other  # "the owl in 4k": the owl picture, not the tune for the owl
        if chosen in ("undo", "redo", "show_versions") and len(found) > 1 \
                and len(calls) == 1 and all(t.ref.startswith("#") for t in found):
            calls = [PlannedCall(calls[0].name, {**calls[0].args, "artwork": t.ref})
                     for t in found]  # "undo the whale and the fox"
        if len(calls) == 1 and calls[0].name == "edit_music" and _LOOKS.search(text) \
                and not (found and found[0].kind == "music") \
                and naming.focus_kind(context) == "image":
            # "cheer it up a bit, it looks gloomy now": music cannot look, so "it" is the
            # picture in focus
            seen = intents.BUILDERS["edit"](said, replace(local, focus=[
                b for b in context.focus if b.kind == "image"][-1:]))
            if seen and seen[0].name in ("adjust_image", "edit_image"):
                return Decision(calls=seen)
            return Decision(question=prompts.what_change(local))
        if len(calls) == 1 and calls[0].name == "edit_image" and calls[0].args.get("artwork") \
                == "it" and not found and naming.focus_kind(local) == "music" \
                and not _LOOKS.search(text) and not _SOUNDS.search(text):
            # an edit in words of a picture, with a piece in focus and no picture named:
            # a misreading of something about the piece
            return Decision(question=prompts.what_change(local))
        if len(calls) == 1 and calls[0].name == "edit_image" and _SOUNDS.search(text) \
                and not (found and found[0].kind == "image"):
            # "make it sound less perfect": a picture has no sound, so "it" is the music
            tunes = [b for b in context.recent if b.kind == "music"][-1:]
            heard = intents.BUILDERS["edit"](said, replace(local, focus=tunes)) if tunes else []
            if heard and heard[0].name == "edit_music":
                return Decision(calls=heard)
            return Decision(question=prompts.what_change(replace(local, focus=tunes))
                            if tunes else None)
        ratio = _RATIO.search(text)
        if len(calls) == 1 and calls[0].name == "edit_image" and ratio \
                and (not _EDIT_WORDS.search(text) or re.search(
                    r"\b(?:make|turn)\s+(?:it|this|that|#\s*\d+)\s+(?:into\s+)?(?:a|an|my)\s+(?:\w+\s+)?"
                    r"(?:thumbnail|wallpaper|banner|header|story|post|avatar|background|"
                    r"poster|cover|screensaver|desktop)\b(?=\s*(?:[,.!]|$|\d|for\b|please|pls))",
                    text, re.I)):
            # "can it be tall, like a poster? 9:16": a frame said by its ratio
            return Decision(calls=[PlannedCall("reframe_image", {
                "artwork": calls[0].args.get("artwork", "it"),
                "aspect": f"{ratio.group(1)}:{ratio.group(2)}"})])
        if len(calls) == 1 and calls[0].name == "edit_image" and _ONLY_REFS.match(
                str(calls[0].args.get("instruction", ""))):
            return Decision()  # "1st and 3rd": which ones, not what to do with them
        if len(calls) == 1 and calls[0].name == "edit_image" and _vague(
                str(calls[0].args.get("instruction", ""))):
            return Decision(question=prompts.what_change(local))
        if len(calls) == 1 and calls[0].name == "edit_image" and pred is not None \
                and pred.label != "edit" and not _EDIT_WORDS.search(text) \
                and not (pred.label == "upscale_image"
                         and re.search(r"\b(?:bigger|larger)\b", text, re.I)):
            # only the catch-all read it as an edit in words, and the model reads something
            # else: a change made from a misreading is worse than one question
            return Decision(question=_question(pred, local) or prompts.what_change(local))
        if len(calls) == 1 and calls[0].name in _CREATE and set(calls[0].args) <= {"prompt"} \
                and _nothing_said(str(calls[0].args.get("prompt", ""))):
            return Decision(question=prompts.WHAT_TO_MAKE)  # "make something", "create"
        if len(calls) == 1 and calls[0].name == "edit_image" and said != text and len(found) == 1 \
                and re.search(r"\bit\b", str(calls[0].args.get("instruction", ""))):
            mention = text[found[0].span[0]:found[0].span[1]]
            if not re.search(r"#|\d|\b(?:picture|image|painting|photo|drawing|pic|one|it|this|"
                             r"that|last|first|latest)\b", mention, re.I):
                # "remove the fox": the fox is what to remove, not only which picture
                again = intents.BUILDERS["edit"](text, local)
                if again and again[0].name == "edit_image":
                    calls[0].args["instruction"] = again[0].args["instruction"]
        added = _ADDED_ON.match(text)
        if len(calls) == 1 and calls[0].name == "generate_image" and added and len(found) == 1 \
                and found[0].kind == "image" and found[0].ref.startswith("#") \
                and found[0].span[0] >= added.start(1):
            # "and a party hat on the dino", "a scarf for the fox": a thing put on one that
            # is already painted changes that picture
            return Decision(calls=[PlannedCall("edit_image", {
                "artwork": found[0].ref, "instruction": "add " + text[added.start("thing"):]
                .strip(" .!?")})])
        weak = catch_all and chosen == label and (pred is None or pred.label != chosen
                                                  or pred.p < OVERRULE)
        return Decision(calls=_aspect_only(calls, text, local), weak=weak)

    def _rules(self, text: str, said: str, context: PlanContext,
               whole: PlanContext | None = None) -> list[PlannedCall]:
        for rule in self.rules:  # highest priority first
            if rule.when.search(text) or (said != text and rule.when.search(said)):
                if rule.tool in _AS_WRITTEN:  # "mix it with the jig": two artworks named
                    calls = rule.build(text, whole or context)
                else:
                    calls = rule.build(text if rule.tool in _HISTORY else said, context)
                if calls:  # a rule that recognises a request but fills nothing passes it on
                    self._weak = rule.priority < 0  # a catch-all ("a ..." is a picture)
                    self._certain = rule.priority >= 10  # "undo the undo" is a redo
                    return calls
        self._weak = False
        self._certain = False
        return []

    def match(self, request: str, context: PlanContext) -> list[PlannedCall] | None:
        """The calls for one request, or None (kept for callers that want only calls)."""
        return self.decide(request, context).calls or None

    def _remark_first(self, piece: str) -> list[str]:
        """"#4 is bussin make that one 4x": a remark run on into a request, unpunctuated,
        is two pieces (the remark names the artwork, the request says what to do)."""
        for m in re.finditer(r",\s*", piece):  # "#3 is good, 4x it"
            head, rest = piece[: m.start()].strip(), piece[m.end():].strip()
            if len(head.split()) >= 2 and rest and remark(head) and not remark(rest) \
                    and not remark(piece) and (self._starts_request(rest)
                                               or images._UPSCALE.search(rest)):
                return [head, rest]
        for m in _RUN_ON.finditer(piece):
            head, rest = piece[: m.start()].strip(), piece[m.start():]
            if len(head.split()) >= 2 and remark(head) and self._starts_request(rest) and \
                    not re.search(r"\b(?:i|you|we|they|didn'?t|not|to|can'?t|never|will|would|"
                                  r"should|could|did|gonna|wanna)$", head, re.I):
                return [head, rest]
        return [piece]

    def _starts_request(self, text: str) -> bool:
        text = _POLITE.sub("", text).lstrip()
        return any(r.starts is not None and r.starts.match(text) for r in self.rules)


_ONLY_REFS = re.compile(r"^\s*(?:(?:the|and|&|,|or|#\s*\d+|\d+(?:st|nd|rd|th)|first|second|third|"
                        r"fourth|fifth|last|one|ones|both|them|these|those|it)\s*)+$", re.I)
_RATIO = re.compile(r"(?<![\d:])(1|2|3|4|5|9|16|21)\s*:\s*(1|2|3|4|5|9|16)(?![\d:])")
_NEW_WORDS = re.compile(r"\b(?:paint|draw|new|another|generate|create|make\s+(?:a|an|me|some)|"
                        r"picture\s+of|image\s+of|photo\s+of|version\s+of|variations?|"
                        r"crop|vary)\b", re.I)
_GIVE_HIM = re.compile(r"^\s*(?:give|put\s+on|let)\s+(?:him|her|them)\s+(?:have\s+)?"
                       r"(?:a|an|some)\s+\w+", re.I)
_ARG_PHRASE = re.compile(r"^\s*(?:on|in|at|with|for)\s+(?:a|an|the|\d)", re.I)
_ASPECT_NAMED = re.compile(r"^\s*(?:(?:sorry|oh|hmm+|no|well|i\s+mean(?:t)?)[\s,]+)*(?:the|its|his|"
                           r"her)\s+(?:colou?rs?|light(?:ing)?|sky|background|tempo|speed|"
                           r"rhythm|melody|tune|ending|start|beginning|middle|sound|mood|style|"
                           r"size|shape|crop|brightness|contrast)\s*$", re.I)
_TRY_AGAIN_WITH = re.compile(
    r"^(?:try|do\s+it|go|have\s+(?:another|a)\s+go|once\s+more|one\s+more\s+time)(?:\s+again)?"
    r"[,:.!]?\s+(?:but\s+)?(?:with\s+|make\s+it\s+|this\s+time\s+)?((?:a|an|some)\s+.+?)"
    r"(?:[,\s]+this\s+time)?(?=$|[,.!])(.*)$", re.I)
_TAKES_ON = re.compile(r"\b(?:(" + language.NUMBER_PATTERN + r"|a\s+few|some|several)\s+)?"
                       r"(?:takes|versions|variations|variants|options|goes|tries|ideas|spins)\s+"
                       r"(?:on|of|for)\s+((?:a|an|some|the)\s+.+)$", re.I)
_RUN_ON = re.compile(r"\s(?=(?:make|turn|give|upscale|add|paint|draw|compose|can\s+you|"
                     r"could\s+you|now|pls|please|just|do)\b)", re.I)
# Requests for things no tool here does ("book me a flight", "translate this"): said
# plainly, never turned into a picture of the words.
_ELSEWHERE = re.compile(
    r"^(?:book|order|buy|purchase|call|phone|email|e-mail|text|message|send|translate|"
    r"summari[sz]e|explain|solve|calculate|compute|find|search|google|look\s+up|remind|"
    r"schedule|debug|proofread|download|install|delete\s+my|pay|transfer|tell\s+me\s+(?:a|the|"
    r"about|what|who|how|why|when|where)|what(?:'s|\s+is)\s+the\s+(?:weather|time|capital|"
    r"date|news|score)|who\s+(?:is|was|won|are)|do\s+my|fix\s+my|check\s+my|read\s+my)\b",
    re.I)
_NEW_PIECE = re.compile(
    r"^(?:a|an|some|another|one|two|three|four|new|a\s+new)\s+(?!bit\b|little\b|lot\b|touch\b|tad\b|"
    r"few\s+(?:more|bars)|couple\s+of\s+(?:more|bars)|variation|version|different)"
    r"(?:[\w'-]+\s+){0,3}?(?:(jigs?|reels?|waltz(?:es)?|lullab(?:y|ies)|ballads?|marches|march|"
    r"hornpipes?|airs?|songs?|tunes?|melod(?:y|ies)|pieces?|tracks?|polkas?|minuets?|"
    r"nocturnes?|fanfares?|anthems?|jingles?|themes?|beats?(?!\s+(?:\w+er|more|less)\b)|loops?|intros?|outros?|hymns?|"
    r"shant(?:y|ies)|soundtracks?)|(pictures?|paintings?|drawings?|"
    r"images?|photos?|portraits?|posters?|sketches|watercolou?rs?|illustrations?))\b", re.I)
# "Now I want new one, a polka, in G", "Track: synth, 100bpm": a new piece said up front
_NEW_ONE = re.compile(r"^(?:(?:now|ok(?:ay)?|so|and|then|np|cool)[\s,.]+)*(?:(?:i\s+(?:also\s+)?"
                      r"(?:want|need)|i'?d\s+(?:also\s+)?like|give\s+me|let'?s\s+(?:do|have)|"
                      r"can\s+i\s+have|we\s+(?:also\s+)?need)\s+)?(?:(?:a\s+)?(?:new|fresh|different)\s+"
                      r"one\s*[,:-]?\s*|"
                      r"(?=(?:a|an|another)\s)|(?:a\s+)?different\s+subject(?:\s+then)?\s*[,:-]\s*)",
                      re.I)
_LABEL_PIECE = re.compile(r"^\s*(track|tune|song|jingle|beat|loop|theme|intro|outro|melody)"
                          r"\s*[:.,-]\s*\S", re.I)
_LINKED = re.compile(r"\b(?:inspired\s+by|based\s+on|to\s+go\s+with|that\s+(?:fits|matches|suits)|"
                     r"sounds?\s+like|looks?\s+like|soundtrack|cover\s+art|album\s+art|"
                     r"set\s+.+\s+to\s+music|into\s+(?:music|a\s+song|a\s+tune)|score\s+(?:it|this|the))\b",
                     re.I)
_SPECIFIC = ("upscale_image", "reframe_image", "inpaint_image", "add_text", "vary",
             "continue_music", "blend", "undo", "redo", "revert", "show_versions",
             "list_artworks")
_BLEND_WORDS = re.compile(r"\b(?:gradually\s+turn|go\s+from|smoothly|→|->)|"
                          r"\b(?<!that\s)(?<!the\s)(?<!this\s)(?<!my\s)(?:blend|mix|combine|merge|"
                          r"fuse|morph|interpolate|crossfade|"
                          r"mash\s*up|transition|double\s+exposure|as\s+one\s+picture)\b|\s\+\s|"
                          r"\b(?:put|bring|join)\s+(?:\w+\s+){0,3}?together\b|"
                          r"\b(?:make|turn|combine|put)\s+(?:them|the\s+two|both)\s+(?:\w+\s+)?"
                          r"into\s+one\b",
                          re.I)
_QUOTES = re.compile(r"[\"“”][^\"“”]*[\"“”]|(?<!\w)'[^']+'(?!\w)")
_CREATE = ("generate_image", "compose_music")
_HISTORY_START = re.compile(r"^(?:show|list|undo|redo|revert|restore|go\s+back|what|which|"
                            r"how\s+many)\b",
                            re.I)
_HISTORY = ("undo", "redo", "revert", "show_versions", "list_artworks")
_AS_WRITTEN = ("edit_audio",)  # rules that read the request's own references
_HISTORY_RULE = re.compile(r"\b(?:undo|redo|revert|restore|go\s+back|versions?|v\d+|back|"
                           r"original|list|history)\b", re.I)
_PRONOUNS = ("it", "that", "this", "this one", "that one", "the one", "the result")


_REFERS = re.compile(r"\b(?:it|this|that|these|those|them|its|it's)\b|#\s*\d|\bthe\s+(?:first|"
                     r"second|"
                     r"third|fourth|last|latest|other|previous|\d+(?:st|nd|rd|th))\b|"
                     r"\bthe\s+(?:two|both)\b", re.I)
# Words of commands that are not a scene to paint: never read as a description.
_COMMAND = re.compile(
    r"\b(?:show|list|undo|redo|revert|version|versions|interpolate|morph|blend|vary|variations?|"
    r"alternatives?|again|part|bars?|print|too|less|more|longer|shorter|faster|slower|louder|"
    r"quieter|keep|fix|edit|change|remove|delete|crop|rotate|upscale|zoom|go\s+wild|help)\b", re.I)
_ASKING = re.compile(r"^(?:what|how|why|when|where|who|which|is|are|do|does|did|can|could|"
                     r"should|would|will)\b|\?\s*$", re.I)


def _fallback(text: str, said: str, local: PlanContext, found: list[naming.Target],
              pred: Prediction | None = None) -> list[PlannedCall]:
    """When neither the rules nor the model are sure: what the words alone make certain
    (a caption, a region to repaint, an adjustment of a picture, an edit of a piece), and
    otherwise a description of a scene with nothing else to do is a request to make it
    (music when music words say so)."""
    cued = slots.strong_cue(said, local)
    if cued:
        return cued
    kind = naming.focus_kind(local)
    if kind == "image" and _SHAPE_ONLY.match(text):  # "vertical pls its for my phone"
        framed = intents.BUILDERS["reframe_image"](said, local)
        if framed:
            return framed
    if kind == "image" or (found and found[0].kind == "image"):
        fixes = slots.adjustments(said)
        if fixes:
            return [PlannedCall("adjust_image", {"artwork": "it", **fixes})]
        if _MORE_THING.match(said) or re.match(
                r"^(?:(?:please|pls|now|ok|okay|and|can\s+you|could\s+you)\s+)*(?:make|turn|have|"
                r"render|redo)\s+(?:it|this|that|them)\s+(?:look|into|as|in\s+the\s+style|like)\b",
                said, re.I):
            # "more mist, please", "make it look like a charcoal drawing": a change in words
            # to the picture in hand
            return [PlannedCall("edit_image", {"artwork": "it", "instruction": said.strip(" .!")})]
        if found and found[0].kind == "image" and len(said.split()) >= 3:
            if pred is not None and pred.p >= ASK and pred.label in _HISTORY:
                return []  # the model reads something else ("…at v2, restore that"): ask
            # "the whale should be jumping out of the water": a change in words
            return [PlannedCall("edit_image", {"artwork": "it", "instruction": said})]
    if kind == "music" or (found and found[0].kind == "music"):
        edited = intents.edit_music(said, None)  # slots, then moods ("more energetic")
        if edited:
            return edited
    if found or _REFERS.search(text) or _ASKING.search(text.strip()) or _COMMAND.search(text) \
            or re.fullmatch(r"(?:the|that|this)\s+(?:\w+\s+)?ones?", text.strip(), re.I):
        return []
    if pred is not None and pred.label not in _CREATE and pred.p >= ASK \
            and pred.p_of("generate_image") + pred.p_of("compose_music") < 0.15:
        return []  # the model reads something else here: ask rather than paint the words
    words = [w for w in re.findall(r"[a-z]{3,}", text.lower())
             if spelling.known(w)]
    content = [w for w in words if w not in _FUNCTION_WORDS]
    if not content or (len(re.findall(r"\w+", text)) < 2 and content[0] not in spelling.LEXICON):
        return []
    if _JUDGED.match(text):  # "the faces are not good": a judgement is no scene to paint
        return []
    if naming.music_words(text):
        return music._compose(text, local)
    return images._generate(text, local)


_MORE_THING = re.compile(r"^(?:(?:and|now|ok|okay|a\s+bit|a\s+little|bit|even|much|way|lots)\s+)*"
                         r"(?:more|less|fewer|no\s+more)\s+(?!(?:like|of\s+(?:it|that|this)|than|"
                         r"please|pls)\b)[a-z]{3,}s?(?:\s+(?:in|on|at)\s+the\s+[a-z]+)?"
                         r"(?:\s*,?\s*(?:please|pls|thanks))?\W*$", re.I)
_LESS_OF = re.compile(r"^(?:(?:ok|okay|now|and|hmm+|maybe|actually)[\s,]+)*(?:fewer|less|no\s+more|"
                      r"not\s+so\s+many|not\s+as\s+many|without\s+the|take\s+out|get\s+rid\s+of|"
                      r"lose\s+the|drop\s+the|just\s+(?:the|a|one)|only\s+(?:the|a|one))\b", re.I)
_JUDGED = re.compile(
    r"^\s*(?:(?:oh|hmm+|well|but|ok(?:ay)?|so)[\s,]+)*(?:the|it|its|it'?s|this|that|thats|that'?s|"
    r"they|these|those|his|her|their)\b[\w\s'-]{0,30}?\b(?:is|are|was|were|looks?|seems?|feels?|"
    r"sounds?)\s+(?:(?:not|n'?t|too|so|very|really|a\s+bit|kinda|kind\s+of|quite|still|a\s+little)"
    r"\s+)*(?:good|bad|great|right|wrong|ugly|weird|off|creepy|scary|strange|odd|nice|fine|ok|"
    r"okay|terrible|awful|horrible|boring|blurry|dark|bright|perfect|correct|finished|done|"
    r"real|realistic)\b", re.I)


_FUNCTION_WORDS = set("""the and but for with from that this these those what which who
whom whose have has had was were are been being can could would should will shall may
might must not just very really also too then than there here some any all each every
other another such only own same into onto over under about again once more most less
please thanks thank you your yours mine our ours their them they she her him his its
yes yeah nope okay well actually maybe perhaps""".split())
_ALL = re.compile(r"\b(?:all|both|each|every|them|these|those)\b", re.I)


def _retarget(calls: list[PlannedCall], found: list[naming.Target], context: PlanContext,
              text: str) -> list[PlannedCall]:
    """Calls about "it" are about the artwork the request named; "make them all black and
    white" after a batch is about each of them."""
    counted = re.search(r"\b(?:all|each\s+of|every\s+one\s+of|the\s+last)\s+(?:the\s+)?"
                        r"(two|three|four|2|3|4)\b", text, re.I)
    if not found and counted and len(calls) == 1 and calls[0].args.get("artwork") in _PRONOUNS:
        # "black and white on all three": each of the last three of that kind
        kind = _TOOL_KIND.get(calls[0].name)
        n = int(language.to_number(counted.group(1)) or 0)
        pool = [b for b in context.recent if b.kind == kind][-n:]
        if kind and len(pool) == n:
            return [PlannedCall(calls[0].name, {**calls[0].args, "artwork": f"#{b.number}"})
                    for b in pool]
    if not found and len(context.focus) > 1 and _ALL.search(text):
        for call in calls:
            if call.args.get("artwork") in _PRONOUNS:
                call.args["artwork"] = "them"
        return calls
    for call in calls:  # "the of this one" (a rule's leftover): it is "this one"
        value = call.args.get("artwork")
        if isinstance(value, str) and not value.startswith(("#", "latest")) \
                and re.search(r"\b(?:this|that)\s+one\b|\bit\b", value) and value not in _PRONOUNS:
            call.args["artwork"] = "it"
    if not found:
        return calls
    values = {str(c.args.get("artwork")) for c in calls if "artwork" in c.args}
    if len(values) != 1:
        return calls
    unknown = found[0].kind is None and re.fullmatch(r"#\d+", found[0].ref) is not None
    for call in calls:
        value = call.args.get("artwork")
        if isinstance(value, str) and not value.startswith(("#", "latest")) \
                or value in _PRONOUNS or unknown and str(value).startswith("latest"):
            # "continue #4" with no #4: the resolver says so; it is no other piece
            ref = found[0].ref
            call.args["artwork"] = ref.split(" v")[0] if call.name == "revert" else ref
    return calls


_HOW_TO = re.compile(
    r"^(?:how\s+(?:do|can|would|should|could)\s+i\b|how\s+to\b|what(?:'s|\s+is)\s+the\s+difference|"
    r"what\s+(?:else|more)\s+(?:can|could|should|might)\s+(?:i|we|you)\b|"
    r"what\s+(?:kind|sort|type)s?\s+of\b|what\s+(?:edits|changes|things|styles|instruments|"
    r"formats|commands)\b|which\s+(?:styles|instruments|formats|commands)\b|are\s+you\s+able\s+to\s+"
    r"\w+\s+\w+\s+or\b|do\s+you\s+(?:support|know\s+how)|can\s+you\s+(?:also\s+)?(?:make|do|edit|"
    r"change|compose|paint)\s+(?:music|songs|pictures|images|art|videos?)\s*(?:too|as\s+well|also|"
    r"or\s+.*)?\s*\?*$|can\s+i\s+(?:go\s+back|undo|change|edit|use|refer|pick)\b.*\?\s*$|"
    r"what\s+does\s+(?:the\s+|a\s+)?\w+(?:\s+\w+)?\s+(?:actually\s+|really\s+|even\s+|exactly\s+)?do\b|"
    r"(?:roughly\s+|about\s+|so\s+)?what\s+(?:tempo|key|bpm|size|resolution|speed|meter)\s+(?:is|was)\b|"
    r"do\s+you\s+(?:do|know|play|use|have)\b[^.!]*\?$|can\s+you\s+do\s+(?!it\b|that\b|this\b|"
    r"one\b|another\b|more\b|a\b|an\b|the\b|some\b)\w+(?:\s+\w+)?\s*\?+$|"
    r"can\s+(?:he|she|they|kids|children|my\s+\w+|other\s+people|others)\s+(?:make|use|draw|try|"
    r"play|have)\b[^.!]*\?(?:\s|$)|"
    r"can\s+i\s+(?:get|have|make)\b[^.!]*\b(?:again|later|another\s+day|tomorrow|next\s+time)\b"
    r"[^.!]*\?$|can\s+you\s+(?:also\s+)?(?:make|do|write|compose|paint|draw|create|"
    r"edit)\s+(?:music|songs|tunes|pictures|images|art|videos?|drawings|paintings|melodies|"
    r"photos)\b(?![^?]*(?:#\s*\d|\b(?:for|to\s+go\s+with|that\s+(?:fits|matches|suits)|about|"
    r"of|like|it|this|that|in\s+[A-G]|on\s+(?:a|an|the))\b))[^?]*\?$|.*\bwhat\s+(?:else\s+)?can\s+you\s+(?:actually\s+|really\s+|even\s+)?"
    r"(?:do|make|help\s+with)\b|what\s+are\s+you\s+able\s+to|"
    r".*\bwhat\s+(?:kind|sort|type)s?\s+of\s+(?:\w+\s+){0,2}(?:can|could|do)\s+(?:you|u)\b|"
    r"how\s+(?:long|many|big|large)\s+can\b|do\s+you\s+(?:keep|save|store|remember)\b|"
    r"how\s+(?:do|does)\s+(?:the\s+)?\w+\s+work\b|what\s+does\s+.{1,30}\s+mean\b|"
    r"can\s+i\s+(?:go\s+back|undo|get\s+back)\s+to\s+an?\s+(?:older|earlier|previous)\b|"
    r"what\s+(?:else\s+)?can\s+you\s+(?:actually\s+|really\s+|even\s+)?do\b|"
    r"(?:is|was|are)\s+(?:it|this|that|they)(?:\s+one)?\s+(?:in\s+)?(?:a\s+)?(?:major|minor|in\s+[a-g]\b|"
    r"\w+\s+time|fast|slow|long|finished|done|ready|yours|real|original)\b.*\?\s*$|"
    r"did\s+you\s+(?:make|draw|paint|compose|write|do|create)\b|what\s+key\b|"
    r"what(?:'s|\s+is)\s+the\s+(?:key|tempo|bpm|time\s+signature|meter|size|resolution)\b|"
    r"how\s+(?:fast|slow|long|big|old)\s+is\b|(?:can|does|will|could)\s+(?:it|this\s+thing|"
    r"this)\s+(?:do|make|play|write|draw|paint|compose)\s+(?:songs|music|tunes|pictures|"
    r"drawings|paintings|art|videos?|animations?)\b|is\s+this\s+the\s+(?:computer|thing|app|"
    r"bot|program)\b|"
    r"what(?:'s|\s+is)\s+the\s+(?:longest|biggest|largest|shortest|smallest|max\w*|most|best\s+way)\b|"
    r"(?:can|do)\s+you\s+(?:do|make|support|handle)\s+(?:\w+\s+){0,2}(?:formats?|sizes?|styles?|"
    r"resolutions?|ratios?|lengths?|keys?|instruments?|languages?)\b.*\?\s*$)", re.I)
# "hi, ", "Hi there! Before I start, ", "out of curiosity, ": what comes before a question
_HELLO = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|yo|morning|good\s+(?:morning|evening|afternoon)|ok(?:ay)?|so|"
    r"quick\s+question|out\s+of\s+curiosity|just\s+wondering|before\s+i\s+start|one\s+more\s+thing|"
    r"oh|also|btw|by\s+the\s+way|there|quick\s+one|haha+|ha|lol|perfect|lovely|great|cool|nice|"
    r"thanks|thank\s+you|wow|ooh+|and|sorry|one\s+question|question|curious|wait|hang\s+on|um+|"
    r"(?:and\s+)?if\s+(?:i|we)\s+(?:like|love|want|pick|choose)\s+(?:one|it|that|them)\b,?)"
    r"\b[\s,!.:-]*)+", re.I)
_VAGUE = set("make it look feel better good nicer nice different interesting prettier awesome "
             "tweak tweaked adjust touch up fix-up "
             "great best improve improved fix fixed change changed something anything stuff "
             "more less a an the this that #2 can you please somehow just bit little lot "
             "cooler? it's its be do some "
             # "fix the colours", "sort out the lighting": which way is not said
             "colours colors colour color lighting vibe vibes sort out up lol pls "
             "somehow".split()) - {"cooler?"}


_ADDED_ON = re.compile(r"^(?:(?:and|also|plus|now|ok|okay|oh|then|pls|please)[\s,]+)*(?:add\s+)?"
                       r"(?P<thing>(?:a|an|some)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:on|to|for|onto)"
                       r"\s+((?:the|his|her|its)\s+[\w'-]+(?:\s+[\w'-]+)?)(?:\s+(?:too|pls|please|lol))?"
                       r"[\s.!]*$", re.I)


def _vague(instruction: str) -> bool:
    if re.match(r"^(?:(?:i\s+want\s+to|let'?s|can\s+you|could\s+you|please)\s+)?do\s+(?:something|"
                r"anything|stuff|things)\s+(?:with|to|for)\s+(?:it|this|that|them)\b", instruction, re.I):
        return True  # "I want to do something with the fox for a poster": what, then?
    words = re.findall(r"[#\w']+", instruction.lower())
    return bool(words) and all(w in _VAGUE or w.startswith("#") for w in words)


_BACK_TO_A_VERSION = re.compile(
    r"(?=.*\b(?:v\s*\d+|version\s+\w+|\d+(?:st|nd|rd|th)\s+version|(?:first|second|third)\s+"
    r"version)\b)(?=.*\b(?:go\s+back|restore|revert|back\s+to|return\s+to|switch\s+back)\b)", re.I)
_REGION_ONLY = re.compile(
    r"^\s*(?:in\s+|on\s+|at\s+)?(?:the\s+)?(?:top|bottom|left|right|middle|center|centre|sky|"
    r"background|foreground)(?:\s+(?:left|right|side|corner|half|part))?\s*[,:]?\s*$", re.I)
_INTO = re.compile(r"\b(?:melt|fade|dissolve|turn|morph|change|transform)\b.+\binto\b", re.I)
_SEQUENCED = re.compile(r"\bthen\b(?!\s*(?:[,.!?]|$))|\bafter\s+that\b|;|\band\s+also\b", re.I)
_MUSIC_ARGS = ("key", "mode", "instrument", "bars", "tempo", "time_signature")
_GENERIC_PROMPT = re.compile(r"^(?:a|an|some)?\s*(?:picture|piece\s+of\s+music|music|image|"
                             r"version|one|it)?\s*$", re.I)


def _only_arguments(request: str, new: list[PlannedCall], last: PlannedCall,
                    context: PlanContext | None = None) -> bool:
    """A piece that only says more about the artwork the previous piece asked for: a style,
    an aspect, a count, what to leave out ("vertical", "no people", "watercolour pls")."""
    if len(new) == 1 and new[0].name == "edit_music" and last.name == "compose_music" \
            and not re.match(r"^\s*(?:make|turn|play|transpose|change|switch|put|set|speed|slow)"
                             r"\s+(?:it|the|this|that|down|up|#)", request, re.I):
        # "a melody inspired by the lighthouse, slow, in D minor": more about the new piece
        extra = {k: v for k, v in new[0].args.items() if k in _MUSIC_ARGS}
        if extra and set(new[0].args) - {"artwork", "tempo_scale", "part"} <= set(_MUSIC_ARGS):
            made = music._compose(request, context) if context is not None else []
            if made:  # the new piece's own reading adds its mood ("Upbeat, 128 bpm")
                extra = {**extra, **{k: v for k, v in made[0].args.items()
                                     if k not in ("prompt", "key") and k not in extra}}
            if "mode" in extra and "key" not in extra:
                extra["key"] = f"{'A' if extra['mode'] == 'minor' else 'C'} {extra.pop('mode')}"
            new[0].args = {"prompt": "", **{k: v for k, v in extra.items() if k != "mode"}}
            return True
        if context is not None and set(new[0].args) <= {"artwork", "tempo_scale", "part",
                                                         "humanize", *_MUSIC_ARGS}:
            # "a hymn tune in F. slow and stately", "Jingle. Upbeat, 128 bpm, synth": the
            # words read as a new piece's, mood and all
            made = music._compose(request, context)
            extra = {k: v for k, v in (made[0].args if made else {}).items() if k != "prompt"}
            if extra:
                new[0].args = {"prompt": "", **extra}
                return True
    if len(new) != 1 or new[0].name != last.name or last.name not in _CREATE:
        return False
    prompt = str(new[0].args.get("prompt", ""))
    return bool(_GENERIC_PROMPT.match(prompt)) and "inspired_by" not in new[0].args


_INTERJECTION = (r"(?:lol+|lmf?ao+|rofl|omg|omfg|wow+|whoa|woah|cool|nice|sweet|ok(?:ay)?|k|oh+|"
                 r"ah+|"
                 r"aw+|hmm+|yay+|yes+|yeah|yep|yup|haha+|hehe+|great|perfect|awesome|amazing|"
                 r"brilliant|lovely|beautiful|gorgeous|sick|dope|fire|wait|sorry|oops|hey|hi|"
                 r"hello|thanks|thank\s+you|ty|cheers|good\s+(?:morning|evening|afternoon)|"
                 r"right|alright|fine|gotcha|got\s+it|love\s+(?:it|this|that)|so\s+cute|"
                 r"no\s+worries|no\s+problem|my\s+bad|whatever)")
_PRAISE = (r"(?:cute|nice|good|great|cool|fine|perfect|amazing|awesome|lovely|beautiful|gorgeous|"
           r"hard|fire|sick|close|best|favou?rite|winner|one|it|brilliant|stunning|fun|funny|"
           r"neat|ok|okay|epic|wonderful|fantastic|incredible|pretty|sweet|adorable|great|"
           r"spot\s+on|so\s+good|lit|magic|gold|bussin|goated|peak|elite|a\s+banger|banging|"
           r"dope|legit|wicked|ace|class|mint|brill|lush|superb|excellent|the\s+one|closest|"
           r"the\s+closest|nearest|better|the\s+better\s+one|more\s+like\s+it)")
_OPINION = re.compile(
    r"^(?!.*(?::|\bidea\b|\bplease\b|\bpls\b|\bcan\s+you\b|\bcould\s+you\b|\?))"
    r"(?!\s*(?:what|how|why|when|where|who|which|whats|what's)\b)"
    r"(?:" + _INTERJECTION + r"[\s,.!?]*)*(?:"
    # "its so cute", "that one goes hard", "#3 is the best", "2nd and 4th are nice"
    r"(?:(?:its|it's|that's|thats|they're|so)\s+|(?:it|this|that|these|those|they|both|(?:the\s+)?#\s*\d+|"
    r"number\s+\w+|(?!(?:a|an|some|make|give|paint|draw|compose|play)\b)(?:the\s+)?[\w'-]+"
    r"(?:\s+(?:and|&)\s+(?:the\s+)?[\w'-]+)?(?:\s+[\w'-]+){0,2})"
    r"\s+(?:is|are|was|were|'s|looks?|sounds?|seems?|goes|go|slaps|rocks|feels?)\s+)"
    r"(?:(?:so|very|really|super|pretty|kinda|quite|honestly|actually|just|the|a|an|my|most|"
    r"totally|absolutely)\s+)*" + _PRAISE + r"\b[\w\s,!.'#]*"
    # "I like #2 the most", "I prefer the third", "i have nothing yet", "I teach year 3"
    r"|i(?:'m|\s+am)?\s+(?:really\s+|actually\s+|kinda\s+|totally\s+)?(?:like|love|prefer|"
    r"preferred|liked|loved|think|"
    r"have(?:n'?t|\s+not)?|had|didn'?t|did\s+not|teach|run|own|work|host|forgot|see|get\s+it)"
    r"\b(?!.*\b(?:you\s+to|to\s+(?:see|have|get|hear|make)|a\s+(?:picture|song|tune|painting|"
    r"piece|image)\b))[^?]*"
    # "thats more like it", "that's much better", "that's the one"
    r"|(?:that'?s|thats|this\s+is|now\s+that'?s)\s+(?:more\s+like\s+it|(?:much\s+|way\s+|a\s+lot\s+)?"
    r"better|the\s+one|it|spot\s+on|exactly\s+(?:it|right))"
    # "favourite is #2", "go with #4 in the end", "#3 it is"
    r"|(?:my\s+)?fav(?:ou?rite)?(?:\s+one)?\s+is\s+[\w# ]{1,25}"
    r"|(?:i'?ll\s+|let'?s\s+|i\s+)?go\s+with\s+"
    r"(?:#\s*\d+|the\s+[\w ]{1,20}?|number\s+\w+)(?:\s+in\s+the\s+end|\s+then|\s+after\s+all)?"
    # "wow the colours", "omg that fox", "love the little boat"
    r"|(?:wow|omg|oh|ooh+|aw+|whoa|love|loving|look\s+at)[\s,!]+(?:the|those|these|that|this|"
    r"his|her|its|it's)\s+(?:little\s+|tiny\s+)?[\w'-]+(?:\s+[\w'-]+)?"
    # "ok #5 slaps", "this one goes hard", "the jig bangs": the verb is the praise
    r"|(?:it|this|that|this\s+one|that\s+one|(?:the\s+)?#\s*\d+|the\s+[\w'-]+(?:\s+one)?)\s+"
    r"(?:(?:really|honestly|lowkey|kinda|actually|totally)\s+)?(?:slaps|rocks|bangs|rules|"
    r"hits(?:\s+different)?|goes\s+hard|(?:is|'s)\s+(?:a\s+)?(?:vibe|mood|fire|goated|bussin))"
    r"(?:\s+(?:ngl|honestly|fr|lol|tbh|no\s+cap))*"
    r"|" + _INTERJECTION + r")[\s,.!?]*$", re.I)
_CHANGE_WORDS = re.compile(
    r"\b(?:\d+\s*x|x\s*\d+|\d+k|upscale\w*|flip\w*|crop\w*|undo|redo|vari\w+|versions?|"
    r"too|more|less|not\s+enough|should|needs?|could\s+be|wish|instead|but|make|turn|"
    r"change|add|remove|(?:bright|dark|warm|cool|cold|big|small|fast|slow|loud|soft|sharp|high|"
    r"low|light|long|short|quiet|clear|deep|strong|bold|simple|rich|vivid|thick|thin|wid|"
    r"tight|loose)(?:er)|\w+ier)\b", re.I)
_NOT_DONE = re.compile(r"\b(?:didn'?t|did\s+not|haven'?t|have\s+not|never|not\s+yet)\s+\w+", re.I)


_PERSON = re.compile(
    r"^(?:(?:so|ok|okay|well|hey|hi|hello|morning|good\s+morning|right|oh|ah|hey\s+there|"
    r"hi\s+there)[\s,!.]+)*(?:i'?m|i\s+am|we'?re|we\s+are|i(?!')|we(?!')|my|our|she|he|they|"
    r"it'?s\s+for|this\s+is\s+for|for\s+(?:my|our)|it'?s\s+(?:my|our)|the\s+(?:kids|class|"
    r"singer|band|client)|"
    r"tomorrow|next\s+week|today|tonight)\b", re.I)
_ASKS_FOR = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|u|we|i)\b|\bplease\b|\bpls\b|\bi'?d\s+(?:like|love)\b|"
    r"\bi\s+would\s+(?:like|love)\b|\b(?:want|wants|need|needs|looking\s+for|after|like|love)\s+"
    r"(?:a|an|some|the|music|\d+|it|you|them|to\s+(?:have|get|see|hear|make))\b"
    r"(?!\s+(?:help|advice|ideas?|inspiration)\b)|"
    r"\b(?:make|paint|draw|compose|write|create|generate|give|show|play|do)\s+(?:me|us|a|an|"
    r"some|it|one|two|three|four)\b|\?|\b(?:too|more|less|should|undo|redo)\b|"
    r"\b(?:want|wants|need|needs|after|looking\s+for)\b.{0,30}\b(?:music|songs?|tunes?|jingles?|"
    r"pictures?|images?|posters?|covers?|paintings?|drawings?|pieces?|tracks?|melod(?:y|ies)|"
    r"logos?|art|illustrations?|wallpapers?|intros?|themes?)\b|"
    r"\b(?:before|earlier|original|previous|better\s+before)\b|"
    r"\b(?:says?|said|wants?|asks?)\s+(?:to\s+)?(?:add|make|put|turn|change|remove|give|paint|draw|"
    r"compose|play|crop|rotate|flip|upscale|undo|redo|continue|blend|morph|transpose|write|"
    r"drop|raise|lower|move|speed|slow)\b|\bmeant\b|#\s*\d|"
    r"\b(?:i\s+mean|just|then|so|now)\s+(?:add|make|put|turn|change|remove|give|paint|draw|compose|"
    r"play|crop|rotate|flip|upscale|undo|redo|continue|blend|morph|transpose|write|extend)\b", re.I)


def _about_the_person(text: str, alone: bool = False) -> bool:
    """"I'm a primary music teacher", "my daughter turns six on saturday": context for
    the request beside it, not a request. Said ``alone``, a message that names a picture
    or a piece ("for my daughter, a lullaby in G") is a request."""
    if alone and (_PIECE_NOUN.search(text) or re.search(r"\b" + naming.IMAGE_NOUN + r"s?\b|:",
                                                        text, re.I)):
        return False
    return bool(_PERSON.match(text.strip())) and not _ASKS_FOR.search(text) \
        and not slots.adjustments(text) and not music.tempo_scale_in(text.lower())


_EMOTICON = re.compile(r"[:;=]-?[)(dDpP3]|<3|\bxx+\b|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_NEVER_MIND = re.compile(r"^(?:never\s*mind|nvm|forget\s+it|no\s+worries|no\s+need|"
                         r"don'?t\s+worry)\b(?!.*\b(?:make|paint|draw|compose|instead|just|"
                         r"do|give|undo|try)\b)", re.I)


def remark(text: str) -> bool:
    """"lol its so cute", "#3 goes hard", "I like the last one", "I teach year 3": a
    remark or a bit about the person, not a request (complaints are requests)."""
    bare = text.strip()
    if _NEVER_MIND.match(bare):  # "never mind, I'll ask her dad"
        return True
    bare_of_idioms = re.sub(r"\bmore\s+like\s+it\b", " ", bare, flags=re.I)  # praise
    # "I like the first one more": a preference, not "one more"
    if not re.search(r"\b(?:before|earlier|originally|previous|used\s+to|the\s+old|"
                     r"the\s+way\s+it\s+was|back)\b", bare, re.I):
        bare_of_idioms = re.sub(r"\b((?:like|love|prefer|liked|loved|preferred)\s+.{1,40}?)\s+"
                                r"(?:more|better|best|the\s+most)\b", r"\1", bare_of_idioms,
                                flags=re.I)
    # "the second variation is great, #3": what it is called asks for nothing
    subject = re.match(r"^(?:the\s+)?[\w'#-]+(?:\s+[\w'#-]+){0,3}?\s+(?:is|are|was|were|looks?|"
                       r"sounds?|seems?)\s", bare_of_idioms, re.I)
    if subject:
        bare_of_idioms = bare_of_idioms[subject.end():]
    return bool(_OPINION.match(bare)) and not _CHANGE_WORDS.search(
        _NOT_DONE.sub(" ", bare_of_idioms))


_SHAPE_ONLY = re.compile(
    r"^(?:(?:ok|okay|now|and|also|actually|oh|pls|please|can\s+you|could\s+you)\s+)*"
    r"(?:(?:make|turn|change|crop|put|do|set|have)\s+)?(?:(?:it|this|that|them|both|them\s+both|"
    r"each|all|the\s+(?:picture|pic|image|painting|photo))\s+)?(?:(?:both|all)\s+)?"
    r"(?:(?:become|into|to|in|as|be|the\s+same\s+shape|same\s+shape)[\s,]+)*(?:an?\s+)?(?:({a})|"
    r"(?:[\w']+\s+){{0,3}}?(?:wallpaper|shape|format|size|ratio|crop|orientation|version|mode|way)\s*"
    r"[,:]?\s*({a})?)(?:\s+(?:size|shape|format|ratio|crop|orientation|version|mode|story|post|please|pls|"
    r"instead|obviously|thanks|too|then|its\s+for\s+my\s+phone|it'?s\s+for\s+my\s+phone|"
    r"for\s+my\s+phone|for\s+(?:a|my)\s+\w+))*[\s.!]*$".format(
        a=r"square|portrait|landscape|vertical|horizontal|widescreen|wide|panorama|panoramic|"
          r"cinematic\s+(?:crop|ratio|format)|phone\s+wallpaper|story|instagram\s+story|"
          r"\d{1,2}\s*[:x]\s*\d{1,2}"), re.I)


def _aspect_only(calls: list[PlannedCall], text: str, ctx: PlanContext) -> list[PlannedCall]:
    """"widescreen please", "16:9 obviously", "make it become square" said of a picture
    that exists: a new frame for it, not a new picture of nothing."""
    if len(calls) != 1 or calls[0].name not in ("generate_image", "edit_image") or \
            not _SHAPE_ONLY.match(text) or not any(b.kind == "image" for b in ctx.focus):
        return calls
    aspect, _rest = images._aspect_of(text)
    if aspect is None and re.search(r"\bstory\b", text, re.I):
        aspect = "9:16"
    if aspect is None or (calls[0].name == "generate_image" and set(calls[0].args) - {
            "prompt", "aspect"}):
        return calls
    return [PlannedCall("reframe_image", {"artwork": "them" if re.search(
        r"\b(?:them|both|each|all)\b", text, re.I) and len(ctx.focus) > 1 else "it",
        "aspect": aspect})]


_PIECE_NOUN = re.compile(
    r"\b(?:jigs?|reels?|waltz(?:es)?|lullab(?:y|ies)|ballads?|march(?:es)?|hornpipes?|airs?|"
    r"songs?|tunes?|melod(?:y|ies)|pieces?|tracks?|polkas?|minuets?|nocturnes?|fanfares?|"
    r"anthems?|jingles?|themes?|music|ditty|loops?|beats?|soundtracks?|intros?|outros?|"
    r"numbers?|composition|chiptune|sonata|etude|lament|shanty|carol|hymn|dirge|serenade)\b",
    re.I)
_EDIT_VERB = re.compile(r"^\s*(?:(?:ok|okay|and|also|now|then|please|pls|can\s+you|could\s+you)"
                        r"\s+)*(?:make|turn|play|transpose|change|switch|put|set|speed|slow|add|"
                        r"give|crop|rotate|flip|brighten|darken|raise|lower|drop|bring|take|"
                        r"use|move|shift)\b", re.I)


def _joined(calls: list[PlannedCall], new: list[PlannedCall], previous: str) -> bool:
    """One request said in several pieces, joined into the call before (True) or not:
    "120 bpm. jig. go" is one new jig at 120 bpm; "too quick. 90 bpm please" one tempo
    change; "the blur's too much, undo" only the undo; "nah, too slow, put it back" an
    undo of the change complained about."""
    last, first = calls[-1], new[0]
    if len(new) != 1:
        return False
    if first.name == last.name == "compose_music" and "inspired_by" not in first.args:
        said_before = not _PIECE_NOUN.search(str(last.args.get("prompt", "")))
        said_now = not _PIECE_NOUN.search(str(first.args.get("prompt", "")))
        if said_before or said_now:  # one of them only gives arguments
            keep, extra = (first, last) if said_before else (last, first)
            merged = {**{k: v for k, v in extra.args.items() if k != "prompt"},
                      **{k: v for k, v in keep.args.items()}}
            merged["prompt"] = " ".join(
                str(c.args.get("prompt", "")) for c in (last, first)).strip()
            calls[-1] = PlannedCall("compose_music", merged)
            return True
    same = first.args.get("artwork") in (*_PRONOUNS, last.args.get("artwork"))
    disjoint = not (set(first.args) & set(last.args)) - {"artwork"}
    if first.name == last.name and first.name in ("edit_music", "adjust_image",
                                                  "reframe_image") and same \
            and (not _EDIT_VERB.match(previous or "") or disjoint):
        merged = {**last.args, **{k: v for k, v in first.args.items() if k != "artwork"}}
        if "tempo" in first.args:
            merged.pop("tempo_scale", None)  # the figure said wins over "too quick"
        elif "tempo_scale" in first.args and "tempo" in last.args:
            merged.pop("tempo_scale")
        calls[-1] = PlannedCall(first.name, merged)
        return True
    if first.name in ("undo", "redo") and last.name in ("edit_music", "adjust_image",
                                                        "edit_image") \
            and same and not _EDIT_VERB.match(previous or ""):
        # the piece before was the reason for going back, not a change to make
        calls[-1] = PlannedCall("undo", {"artwork": last.args.get("artwork", "it")})
        return True
    return False


# How a description of something to make begins: "a fox in the snow", "two owls", "paint…"
_MORE_OF = re.compile(r"^(?:(?:ok|okay|now|and|so|can\s+you|could\s+you|please|pls)\s+)*"
                      r"(?:make|do|give\s+me|paint|draw|show\s+me|can\s+i\s+(?:have|get))?\s*"
                      r"(\d|one|two|three|four|a\s+few|a\s+couple|some|several)\s+more"
                      r"(?:\s+(?:of\s+(?:them|those|it|these)|like\s+(?:it|that|this)|versions?|"
                      r"options?))?(?:\s+(?:so|for|please|pls|to).*)?$", re.I)
_AGAIN_DIFFERENT = re.compile(
    r"\b(?:again|once\s+more|one\s+more\s+time|another\s+go)\s*,?\s+but\s+(?:just\s+)?(?:a\s+(?:bit|"
    r"little|touch)\s+|slightly\s+|totally\s+|completely\s+|very\s+|really\s+|quite\s+|"
    r"much\s+|kind\s+of\s+|kinda\s+)?different(?:ly)?\b", re.I)
_N_MORE_OF = re.compile(
    r"^(?:(?:now|ok|okay|and|so|then|also)[\s,]+)*(?:(?:give|make|paint|draw|show|do)\s+(?:me\s+|us\s+)?)?"
    r"(" + language.NUMBER_PATTERN + r")\s+(?:more|different|other|new|fresh)\s+(?:ones?\s+|"
    r"pictures?\s+|versions?\s+|takes?\s+)?(?:of|with|showing)\s+((?:a|an|some)\s+.+?)"
    r"(?:[\s,]+(?:so\s+(?:i|we)\s+can\s+\w+|for\s+(?:my|our)\s+\w+)[^,]*)?(?:[\s,]+but\b)?"
    r"(?P<rest>,.*)?$", re.I)
_ONE_FOR = re.compile(r"^(?:(?:and|now|also|then|ok|okay|so)[\s,]+)*(?:another\s+one|one\s+more|"
                      r"one)\s+((?:for|about)\s+.+)$", re.I)
_ANOTHER_PIECE = re.compile(
    r"^(?:(?:now|and|ok|okay|so|then|next)[\s,]+)*(?:write|compose)\s+(?:me\s+|us\s+)?another\s+"
    r"(?:one|piece|tune|song|melody)\b(.*)$", re.I)
_BUT_WITH = re.compile(r"^(?:(?:ok|okay|now|and|so|can\s+you|could\s+you|please|pls)\s+)*"
                       r"(?:(?:do|make|paint|draw)\s+)?(?:another\s+one|one\s+more|again|the\s+same"
                       r"(?:\s+(?:thing|again|one))?)\s*,?\s+but\s+(?:of\s+|with\s+|as\s+)?(.+)$",
                       re.I)


_STYLED_EDITS = ("edit_image", "vary_image", "inpaint_image", "blend_images")


def _said_outright(call: PlannedCall, request: str) -> PlannedCall:
    """Values said outright win over what the words suggest ("warmth -0.3", "humanize
    .25", "+20% contrast": the last is an adjustment, not an edit in words); a picture
    style the person taught, named in an edit, goes with it ("make #2 snowy in my Aird
    style")."""
    if call.name in _STYLED_EDITS and "learnt_style" not in call.args:
        taught, strength, _ = styles.picture_styles_in(request)
        if taught:
            call.args["learnt_style"] = taught
            if strength is not None:
                call.args["learnt_strength"] = strength
            for key in ("instruction", "prompt"):
                if isinstance(call.args.get(key), str):
                    call.args[key] = styles.picture_styles_in(str(call.args[key]))[2] or \
                        call.args[key]
    if call.name == "edit_image":
        values = slots.explicit_values("adjust_image", request)
        rest = re.sub(r"[+-]?\s*\d+(?:\.\d+)?\s*%?|\b(?:brightness|contrast|saturation|sat|"
                      r"sharpness|sharpen|warmth|hue|shift|blur|desat\w*|by|to|and|it|on|the|"
                      r"now|please|pls)\b|[^\w\s]", " ", str(call.args.get("instruction", "")),
                      flags=re.I)
        if values and not rest.split():
            return PlannedCall("adjust_image", {"artwork": call.args.get("artwork", "it"),
                                                **values})
        return call
    return PlannedCall(call.name, {**call.args, **slots.explicit_values(call.name, request)})


def _terse(text: str, ctx: PlanContext, local: PlanContext,
           found: list[naming.Target]) -> list[PlannedCall]:
    """Short messages that lean on the conversation: "fox" with nothing made yet is a
    picture of a fox; "snow" or "a moon" after a picture adds it to the picture; "cello"
    after a piece plays it on the cello; "3 more" are variations; "again but dog" is the
    same kind of picture of a dog."""
    bare = _POLITE.sub("", text).strip(" ,.!?")
    words = re.findall(r"[\w'-]+", bare.lower())
    kind = naming.focus_kind(local)
    more = _MORE_OF.match(bare)
    if more and kind in ("image", "music") and not found:
        n = language.to_number(more.group(1)) or {"a few": 3, "a couple": 2, "some": 3,
                                                  "several": 4}.get(more.group(1).lower(), 2)
        tool = "vary_image" if kind == "image" else "vary_music"
        return [PlannedCall(tool, {"artwork": "it", "count": max(1, min(4, int(n)))})]
    but = _BUT_WITH.match(bare)
    if but and kind == "image" and not found:
        return images._generate(but.group(1), ctx)
    if not words or len(words) > 3 or found or _COMMAND.search(bare) or \
            complaints.complaint(bare) or slots.adjustments(bare) or images._aspect_of(bare)[0] \
            or re.search(r"\d|\b(?:yes|no|ok|okay|thanks|it|this|that|them|all|both|one)\b",
                         bare, re.I):
        return []
    instrument = music._instrument_in(f"on the {bare}")
    if instrument and " ".join(words) in (instrument, instrument + "s") and kind == "music":
        return [PlannedCall("edit_music", {"artwork": "it", "instrument": instrument})]
    if any(not spelling.known(w) for w in words):
        return []  # not words we can read as a subject
    if naming.music_words(bare) or images._style_of(bare)[0] or music._instrument_in(bare):
        return []  # "jazz", "watercolour": the rules say what they mean
    said = [w for w in words if w not in ("a", "an", "some", "the", "more", "with")]
    content = [w for w in said if w not in _FUNCTION_WORDS]
    if _nothing_said(bare) or not content or len(content) != len(said):
        return []
    if not ctx.recent:
        return images._generate(bare, ctx)  # "fox", "a lighthouse at dusk" is longer
    if kind == "image":  # "snow", "a moon", "some daffodils": add it to the picture
        return [PlannedCall("edit_image", {"artwork": "it", "instruction": f"add {bare}"
                                           if not re.match(r"(?:add|with)\b", bare, re.I)
                                           else bare})]
    return []


_LABELLED = re.compile(r"^(?:(?:now|ok|okay|and|then|so)\s+)*((?:the\s+|#\s*\d+\s*)?[\w' -]{1,30}?)"
                       r"\s*:\s*(\S.*)$", re.I)
_DELETE = re.compile(r"^(?:delete|erase|trash|bin|destroy|remove|get\s+rid\s+of)\s+(?:#\s*\d+|it|"
                     r"this|that|them|all|everything|all\s+of\s+them|(?:this|that|the)\s+(?:one|"
                     r"picture|image|song|tune|piece|artwork))(?:\s+(?:please|pls|permanently|"
                     r"forever|for\s+good))?$", re.I)
_GIBBERISH = re.compile(r"[a-z]{3,}(?:\s+[a-z]{3,}){0,2}", re.I)
# Words of an edit in words: what to add, remove, change or turn into.
_EDIT_WORDS = re.compile(r"\b(?:add|put|give|remove|get\s+rid\s+of|replace|swap|"
                         r"turn\s+(?:it|the|[\w'-]+)\b.*\binto|make\s+(?:it|the\s+\w+|#\s*\d+)\s+(?:look|into|a|an|more|less)|instead\s+of|"
                         r"change\s+the|with\s+(?:a|an|some)|should\s+(?:be|have)|wearing|holding|"
                         # "more mist", "fewer clouds": more or less of a thing in it
                         r"^(?:(?:and|now|ok|okay|a\s+bit|a\s+little|bit|even|much|way|lots)\s+)*"
                         r"(?:more|less|fewer)\s+(?!(?:like|of\s+(?:it|that|this)|than)\b)[a-z]{3,}s?"
                         r"(?:\s*,?\s*(?:please|pls|thanks))?$)\b",
                         re.I)
_AGAIN = re.compile(r"^\W*(?:(?:ok|okay|and|now|yes|yeah|yep)[\s,]+)*(?:again|more|even\s+more|"
                    r"once\s+more|one\s+more\s+time|same\s+again|do\s+(?:that|it)\s+again|"
                    r"(?:a\s+(?:bit|little)|a\s+touch|a\s+lot|way|much|some)\s+more|more\s+of\s+that)"
                    r"(?:[\s,]+(?:please|pls|plz|again))*\W*$", re.I)
_WHAT_ABOUT = re.compile(r"^(?:(?:ok|okay|now|so|and|hmm+)[\s,]+)*(?:what|how)\s+about\s+(.+)$",
                         re.I)
_SWITCH = re.compile(r"^(?:(?:ok|okay|now|so|right|and)\s+)*(?:(?:go|switch|come|get|jump)\s+back|"
                     r"back|switch(?:ing)?|over|moving\s+on|let'?s\s+go\s+back)\s+to\s+(.+)$",
                     re.I)
_DANGLING_LINK = re.compile(
    r"\b(?:(?:that|which)\s+(?:goes?|go)\s+(?:well\s+)?with|to\s+go\s+(?:along\s+)?with|"
    r"(?:that|which)\s+(?:matches|fits|suits)|inspired\s+by|based\s+on)\s*(?=[:,;-]|$)", re.I)
_SUBJECT_AFTER = re.compile(
    r"^(.*?\b(?:picture|pic|image|painting|drawing|illustration|poster|cover|art|artwork|"
    r"something|something\s+new|one|piece|tune|song|melody|music)\b[^:,;]*?)\s*[:;,-]\s*"
    r"((?:an?|some|the|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+.+)$", re.I)
_DESCRIBES = re.compile(
    r"^\s*(?:a|an|some|the|two|three|four|\d+|another|new|paint|draw|sketch|compose|write|"
    r"render|generate|create|make|imagine|illustrate|design|picture|image|photo|portrait|"
    r"painting|drawing|song|tune|melody|piece)\b", re.I)
_DISSATISFIED = re.compile(
    r"^\W*(?:(?:hmm+|hm+|um+|uh+|meh|nah|no|nope|ugh|well|so|honestly|sorry|but)[\s,.!]+)*"
    r"(?:(?:it'?s|that'?s|this\s+is|still)\s+)?(?:not\s+(?:quite|really|exactly)\s+(?:right|it|there|"
    r"what\s+i\s+(?:wanted|meant|had\s+in\s+mind))|not\s+(?:right|it|great|good|there)|"
    r"(?:not\s+)?what\s+i\s+(?:wanted|meant|had\s+in\s+mind)|(?:fix|tweak|adjust|improve|"
    r"touch\s+up|change|redo)\s+(?:it|this|that|the\s+(?:music|song|tune|piece|picture|image|"
    r"painting))(?:\s+(?:a\s+bit|a\s+little|somehow|please|pls))*|something'?s\s+off|"
    r"(?:i\s+)?don'?t\s+(?:really\s+)?like\s+(?:it|this|that)(?:\s+much)?|try\s+again)[\s.!]*$",
    re.I)
_NOTHING = set("""a an the some something anything thing things stuff one ones it me for
start create make made do something's whatever cool nice good new random anything's please
pls you can could would go on then now just thing's kind of sort that this idk dunno
but what know don't dont not sure yet i really""".split())


def _nothing_said(prompt: str) -> bool:
    """"something", "a thing", "one", "start something for me": no subject at all."""
    words = re.findall(r"[a-z']+", prompt.lower())
    return all(w in _NOTHING for w in words)


def _only_a_remark(call: PlannedCall) -> bool:
    """"it looks freezing": a remark about an artwork, not an instruction, when another
    request follows it."""
    return call.name == "edit_image" and bool(re.match(
        r"^(?:it|this|that|it's|its|the\s+[\w'-]+(?:\s+[\w'-]+)?)\s+(?:looks?|feels?|seems?|is|"
        r"sounds?)\b",
        str(call.args.get("instruction", "")), re.I))


_PLEASED = re.compile(r"\b(?:fine|good|great|nice|lovely|perfect|better|best|cute|pretty|"
                      r"beautiful|gorgeous|stunning|amazing|awesome|cool|sweet|adorable|"
                      r"alright|ok|okay|fire|sick|dope|lit|close)\b(?!\s+(?:but|though))", re.I)
_CATCH_ALL = ("edit_image", "generate_image", "compose_music")


def _judged_only(request: str, decision: Decision, context: PlanContext) -> bool:
    """The piece's only reading is a catch-all made of a judgement's words ("ooh", "it's a
    bit much now", "a bit of a mess"): an edit or a new artwork nobody asked for."""
    if not decision.calls and (decision.refusal or decision.chat or decision.said
                               or not context.recent):
        return False
    if len(decision.calls) > 1 or decision.calls and decision.calls[0].name not in _CATCH_ALL:
        return False
    if decision.calls and decision.calls[0].name != "edit_image" and not (
            decision.weak or context.recent):
        return False  # with nothing made yet, "a castle, all cute" may be its subject
    kind = context.focus[0].kind if context.focus else None
    return complaints.judgement(_POLITE.sub("", request), kind)


_NAMED_ONE = re.compile(r"\bthe\s+([a-z][\w'-]{2,})\s+(?:one|picture|pic|image|painting|photo|"
                        r"drawing|song|tune|piece|melody|track)(?:\s+from\s+(?:earlier|before|"
                        r"yesterday|last\s+time))?\b", re.I)
_ANY_ONE = set("""new old other last first second third fourth fifth sixth next same latest
original previous current big bigger small smaller little good best better nice whole final
earlier older newer right left top bottom middle main only one music image picture final
latest recent other very cool lovely pretty favourite favorite fave chosen winning selected
picked right wrong edited changed updated upscaled cropped flipped slower faster morph morphed
blend blended mix mixed remix varied variation saturated desaturated brighter darker warm warmer
cool cooler sepia grey gray grayscale greyscale blurry sharp sharper square wide wider tall
portrait landscape rotated mirrored fast slow minor major loud louder quiet quieter short long
longer shorter higher lower transposed continued extended original""".split())


def _named_nothing(text: str, found: list[naming.Target], context: PlanContext) -> str | None:
    """"the whale one", "the dragon picture from earlier" when no artwork's title has the
    word: the sentence that says so, with what there is (never another artwork edited)."""
    if found or not context.recent:
        return None
    m = _NAMED_ONE.search(text)
    if not m or m.group(1).lower() in _ANY_ONE or naming.near_titles(m.group(1), context) or \
            m.group(1).lower() in naming.STOP_SUBJECT or re.search(
                r"\b(?:new|another|make\s+(?:me\s+)?(?:a|an)|paint|draw|compose|write|create)\b",
                text[: m.start()], re.I):
        return None
    shown = ", ".join(f"#{b.number} “{prompts.quoted(b.title, 40)}”" for b in context.recent[-6:])
    noun = m.group(0).split()[2]
    return f"There's no {m.group(1)} {noun} in this session; there is {shown}."


def _names_only(request: str, context: PlanContext) -> bool:
    """"lighthouse," / "number two," / "the 3rd one": a piece that only names an artwork."""
    bare = re.sub(r"^(?:(?:and|also|now|then|oh|ok|okay|so|right)[\s,]+)+", "",
                  _POLITE.sub("", request).strip(" ,.!?:-"), flags=re.I)
    found = naming.targets(bare, context)
    if len(_one_named(found, bare)) != 1:
        return False
    rest = bare
    for target in sorted(found, key=lambda t: -t.span[0]):
        rest = rest[:target.span[0]] + rest[target.span[1]:]
    return not rest.strip(" ,.!?:-")


def _named_in(request: str, context: PlanContext) -> str:
    """The words of the one artwork a piece names ("" for none or several): "3rd one goes
    hard, upscale that 4x", "the ice castle, it looks like a funeral. cheer it up"."""
    bare = _POLITE.sub("", request)
    named = _one_named(naming.targets(bare, context), bare)
    return bare[named[0].span[0]:named[0].span[1]] if len(named) == 1 else ""


def _one_named(found: list[naming.Target], text: str) -> list[naming.Target]:
    """"the piano one, #4": two ways of naming one artwork are one, the number said
    outright winning; two different artworks stay two."""
    if len(found) < 2:
        return found
    explicit = [t for t in found if re.fullmatch(r"#\s*\d+", text[t.span[0]:t.span[1]].strip())]
    if len({t.ref for t in found}) == 1:
        return explicit[-1:] or found[:1]
    if len(explicit) == 1 and len(found) == 2:
        return explicit
    return found


_TOOL_KIND = {"adjust_image": "image", "edit_image": "image", "reframe_image": "image",
              "vary_image": "image", "upscale_image": "image", "inpaint_image": "image",
              "add_text": "image", "edit_music": "music", "vary_music": "music",
              "continue_music": "music", "harmonise_music": "music",
              "export_music": "music", "edit_audio": "audio"}


def _titled(name: str, artworks: list[ArtworkBrief]) -> list[ArtworkBrief]:
    """The artworks whose titles hold every word of a name said by subject ("the squirrel
    one"); none when the name has no such word."""
    words = [w for w in re.findall(r"[a-z][\w'-]+", name.lower())
             if w not in naming.STOP_SUBJECT and w not in ("the", "this", "that", "my")]
    return [b for b in artworks if all(re.search(rf"\b{re.escape(w)}", b.title.lower())
                                       for w in words)] if words else []


def _both_kinds(found: list[naming.Target], text: str, context: PlanContext) -> str | None:
    """The question when the one name in a request fits a picture and a piece alike and
    nothing else in it says which ("make the squirrel one brighter" after a squirrel
    picture and a squirrel tune)."""
    if len(found) != 1:
        return None
    named = text[found[0].span[0]:found[0].span[1]]
    if re.search(r"\d|#", named) or re.search(r"\b" + naming.IMAGE_NOUN + r"\b|\b(?:song|tune|"
                                              r"music|melody|piece|track)\b", named, re.I):
        return None  # "#2", "the squirrel picture": the name says which
    fits = _titled(named, context.recent)
    if len({b.kind for b in fits}) < 2 or naming.music_words(text) or re.search(
            r"\b" + naming.IMAGE_NOUN + r"s?\b|\b(?:look|looks|sound|sounds|colou?rs?|tempo|"
            r"key|faster|slower|crop|upscale)\b", text, re.I):
        return None
    what = {"image": "the picture", "music": "the music", "audio": "the clip"}
    listed = " or ".join(f"#{b.number} “{b.title}” ({what.get(b.kind, b.kind)})"
                         for b in fits[-2:])
    return f"Which one do you mean: {listed}?"


def _wrong_kind(calls: list[PlannedCall], found: list[naming.Target],
                context: PlanContext) -> str | None:
    """"transpose the fox", "crop the jig": the named artwork is of the other kind; said,
    never sent to an artwork the person did not name."""
    if not found or not found[0].kind:
        return None
    for call in calls:
        want = _TOOL_KIND.get(call.name)
        if want and want != found[0].kind and call.args.get("artwork") in (
                found[0].ref, "latest music", "latest image"):
            what = {"image": "a picture", "audio": "a sound clip"}.get(found[0].kind,
                                                                       "a piece of music")
            verb = call.name.split("_")[0]
            title = next((f" “{b.title}”" for b in context.recent
                          if found[0].ref.startswith("#")
                          and b.number == int(found[0].ref[1:].split()[0])), "")
            name = found[0].ref if found[0].ref.startswith("#") else "that"
            return (f"{name}{title} is {what}; I can't {verb} it that way "
                    f"({call.name.replace('_', ' ')} works on {want}).")
    return None


def _same_subject_other_kind(calls: list[PlannedCall], found: list[naming.Target], text: str,
                             context: PlanContext) -> list[PlannedCall]:
    """A subject that names artworks of both kinds ("the owl": a picture of an owl and a
    tune for the owl) means the one the tool works on; [] when that is not one artwork."""
    a, b = found[0].span
    if found[0].ref.startswith("#") and re.match(r"\s*#", text[a:b]):
        return []  # "#2" said outright: the person named it
    want = _TOOL_KIND.get(calls[0].name)
    words = [w for w in re.findall(r"[a-z]{3,}", text[a:b].lower())
             if w not in naming.STOP_SUBJECT and w not in ("the", "one", "that", "this")]
    hits = [x for x in context.recent if x.kind == want and words
            and all(w in x.title.lower() for w in words)]
    if len(hits) != 1:
        return []
    return [PlannedCall(c.name, {**c.args, "artwork": f"#{hits[0].number}"})
            if c.args.get("artwork") == found[0].ref else c for c in calls]


_ONE_EACH = ("adjust_image", "reframe_image", "upscale_image", "add_text", "edit_image",
             "inpaint_image", "vary_image", "edit_music", "vary_music", "continue_music")


def _each(calls: list[PlannedCall], request: str, context: PlanContext) -> list[PlannedCall]:
    """"flip #1 and #3", "crop #5 and #6 to 1:1", "upscale the first and the third": the
    same change on each artwork named in a list, one call each."""
    if len(calls) != 1 or calls[0].name not in _ONE_EACH:
        return calls
    bare = _POLITE.sub("", request)
    found = [t for t in naming.targets(bare, context) if t.ref.startswith("#")]
    if len(found) < 2 or str(calls[0].args.get("artwork")) not in (
            *[t.ref for t in found], *_PRONOUNS):
        return calls
    for a, b in zip(found, found[1:]):
        if not re.fullmatch(r"\s*(?:,|and|&|\+|,\s*and)\s*(?:the\s+)?", bare[a.span[1]:b.span[0]],
                            re.I):
            return calls  # "make #2 like #1": one artwork, and another as a model
    kind = _TOOL_KIND.get(calls[0].name)
    refs = list(dict.fromkeys(t.ref for t in found))
    if len(refs) < 2 or any(t.kind not in (None, kind) for t in found):
        return calls
    return [PlannedCall(calls[0].name, {**calls[0].args, "artwork": ref}) for ref in refs]


def _dedupe(calls: list[PlannedCall], context: PlanContext | None = None) -> list[PlannedCall]:
    """"it looks flat, give it more contrast": one request said twice is one call (undo
    and redo repeat on purpose); "it" right after a call on #3 is #3."""
    out: list[PlannedCall] = []
    it = f"#{context.focus[0].number}" if context and len(context.focus) == 1 else None
    for call in calls:
        if out and call.name not in ("undo", "redo") and call.name == out[-1].name \
                and call.name not in _CREATE:
            prev = out[-1]
            rest = {k: v for k, v in call.args.items() if k != "artwork"}
            if call.args.get("artwork") in _PRONOUNS and all(
                    prev.args.get(k) == v for k, v in rest.items()):
                continue
            if call.args.get("artwork") in _PRONOUNS and set(rest) == {
                    k for k in prev.args if k != "artwork"} and call.name != "add_text":
                out[-1] = PlannedCall(call.name, {**rest, "artwork": prev.args.get("artwork")})
                continue  # "too sluggish, speed up": one change, said twice
            if call.args == prev.args:
                continue
            pair = {a if a not in _PRONOUNS else it for a in (call.args.get("artwork"),
                                                              prev.args.get("artwork"))}
            if len(pair) == 1 and None not in pair and rest and \
                    set(rest) == {k for k in prev.args if k != "artwork"} and \
                    all(_same_way(k, prev.args[k], v) for k, v in rest.items()):
                continue  # "it rushes. the attic is a slow quiet place": one change, twice
        out.append(call)
    return out


# Arguments that set a level (said twice, it is one change), not a step (transpose, rotate)
_LEVELS = {"tempo_scale": 1.0, "brightness": 1.0, "contrast": 1.0, "saturation": 1.0,
           "sharpness": 1.0, "warmth": 0.0, "mode": None}


def _same_way(key: str, a: object, b: object) -> bool:
    if key not in _LEVELS:
        return False
    neutral = _LEVELS[key]
    if neutral is None or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    return (a > neutral) == (b > neutral) and a != neutral and b != neutral


def _after(context: PlanContext, calls: list[PlannedCall]) -> PlanContext:
    """The conversation as the next request of the same message sees it: what the last
    call made is "it" ("compose a reel, then give me 3 variations")."""
    last = calls[-1]
    kind = {"generate_image": "image", "compose_music": "music", "vary_image": "image",
            "vary_music": "music", "blend_images": "image",
            "interpolate_music": "music"}.get(last.name)
    if kind is None:
        # "whale: add a small boat, then 21:9": "it" is now the artwork just edited
        ref = str(last.args.get("artwork", ""))
        named = [b for b in context.recent if ref.startswith("#")
                 and ref[1:].split()[0].isdigit() and b.number == int(ref[1:].split()[0])]
        return replace(context, focus=named[:1]) if named else context
    number = max([0, *(b.number for b in context.recent)]) + 1
    brief = ArtworkBrief(number, kind, str(last.args.get("prompt", "")))
    return replace(context, focus=[brief], recent=[*context.recent, brief])


_LOOKS = re.compile(r"\b(?:looks?|looking|looked|see|seen|colou?rs?)\b(?!\s+(?:like\s+a\s+(?:song|"
                    r"tune)|for|after))", re.I)
_SOUNDS = re.compile(r"\bsound(?:s|ed|ing)?\b(?!\s+(?:wave|effect|system|bar))|\b(?:hear|heard|"
                     r"listen|ears?)\b", re.I)
_FRAME_FILLER = {"like", "please", "pls", "size", "sized", "format", "shape", "version", "one",
                 "it", "for", "the", "a", "an", "make", "can", "you", "could", "now", "more",
                 "bit", "little", "just", "then", "ok", "okay", "so", "and", "maybe", "my",
                 "thanks", "instead", "screen", "fit", "to", "in", "as", "into", "be", "that",
                 "this", "same", "ratio", "orientation", "crop", "mode", "go", "let's"}


def _only_an_aspect(text: str) -> str | None:
    """The aspect a message says and nothing else ("phone size", "wider please, like for
    the telly", "16:9 then"), or None."""
    aspect, rest = images._aspect_of(text)
    if aspect is None:
        return None
    # "its for the window", "it's going on a noticeboard", "for insta": what it is for
    rest = re.sub(r"[,.;]?\s*\b(?:it'?s|its|it\s+is|this\s+is|that'?s|they'?re)\s+(?:for|going\s+"
                  r"(?:on|in|to|up)|to\s+go\s+(?:on|in)|meant\s+for)\b.*$|[,.;]?\s*\bfor\s+(?:the|my|a|an|"
                  r"our|his|her|instagram|insta|tiktok|youtube|facebook|twitter|x|pinterest|"
                  r"printing|print)\b.*$", " ", rest, flags=re.I)
    words = re.findall(r"[a-z']+", rest.lower())
    return aspect if all(w in _FRAME_FILLER or w in _FRAME_WANTS for w in words) else None


_FRAME_WANTS = {"i", "want", "wanted", "need", "needed", "would", "i'd", "i'm", "after", "picture",
                "pic", "image", "photo", "painting", "drawing", "please", "pls", "plz", "do",
                "put", "change", "turn", "switch", "convert", "with", "ratio", "aspect", "hmm",
                "actually", "oh", "also", "us", "me", "give", "need", "of", "whole", "thing"}


_ONE_OF = r"\b(?:one|either|any)\s+of\s+(?:them|those|these|em|the\s+two|the\s+\w+s)\b"
_WANTS = re.compile(
    r"^(?:(?:i\s+think|i\s+feel|maybe|perhaps|hmm+|honestly)[\s,]+)*(it|this|that)"
    r"\s+(?:really\s+|just\s+|kind\s+of\s+)?(?:wants|needs|could\s+(?:use|do\s+"
    r"with)|would\s+be\s+(?:nicer|better|lovely)\s+with|should\s+have|is\s+missing|lacks)\s+"
    r"(?:(to\s+be|to\s+go)\s+)?(.+)$", re.I)
# "the eyes need to be red", "the sky should be pinker": a part of it, changed
_PART_WANTS = re.compile(r"^(the\s+[a-z][\w'-]*)\s+(?:really\s+|just\s+)?(?:needs?\s+to|should)\s+"
                         r"be\s+(?!(?:at|in|on|during|set|from|the|a|an)\b)(.+)$", re.I)


# "he says can it breathe fire", "she wants to know if it can fly": someone else's request,
# passed on; what they ask is the request
_REPORTED = re.compile(
    r"^(?:(?:and|so|now|ok|okay|oh)[\s,]+)*(?:he|she|they|my\s+(?:\w+\s+)?(?:son|daughter|"
    r"grandson|granddaughter|kids?|child|children|wife|husband|partner|friend|boss|client|"
    r"teacher|mum|mom|dad|sister|brother|niece|nephew|students?|class))\s+(?:says|said|asks|"
    r"asked|wants\s+to\s+know|wanted\s+to\s+know|wonders|(?:also\s+)?wondered|is\s+asking|"
    r"keeps\s+asking|(?:now\s+)?(?:wants|would\s+like|"
    r"'d\s+like)(?:\s+to\s+(?:see|have))?(?=\s+(?:a|an|some|the|it|him|her|them|to|another|"
    r"one|two|three)\b))\s*[,:]?\s*(?:that\s+)?"
    r"(?:(if|whether)\s+(it|he|she|they|you)\s+(can|could|will|would)\s+)?(?=\w)", re.I)


_MAKE_HIM_A = re.compile(
    r"^((?:make|write|compose|paint|draw|give)(?:\s+me)?)\s+(him|her|them)\s+((?:a|an|some)\s+)"
    r"((?:[\w'-]+\s+){0,2}?(?:theme(?:\s+song|\s+tune)?|song|tune|melody|anthem|jingle|march|"
    r"lullaby|portrait|picture|painting|poster|soundtrack))\b(.*)$", re.I)
_MAY_HAVE = re.compile(
    r"^(?:(?:and|so|oh|ooh|also)[\s,]+)*(?:can|could|would|may|might)\s+(it|he|she|they|him|her|"
    r"the\s+[a-z][\w'-]*)\s+(?:please\s+|also\s+|maybe\s+)?(?:have|get|wear|hold|carry|"
    r"be\s+(?:wearing|holding|carrying))\s+((?:a|an|some|his|her|their|its|little|tiny|big)\s+"
    r"[^?]+?)(?:\s+(?:please|pls|too|as\s+well))?\s*[?.!]*$", re.I)
_THERE_BE = re.compile(
    r"^(?:(?:and|so|oh|ooh|also)[\s,]+)*(?:can|could|would|may|might)\s+(?:there|we)\s+(?:please\s+|"
    r"also\s+)?(?:be|have|get|add|put)\s+((?:a|an|some|more|two|three|few|a\s+few|little|tiny)\s+"
    r"[^?]+?)(?:\s+in\s+(?:it|there|the\s+(?:picture|painting|image|scene)))?"
    r"(?:\s+(?:please|pls|too|as\s+well))?\s*[?.!]*$", re.I)


_AWW = re.compile(r"^\s*(?:a+w+|o+h+|wo+w+|o+o+h+|yay+|omg|ha+h?a*|lol)\b[\s,!.]*"
                  r"(?=(?:can|could|would|will|may|might|give|make|please|pls)\b)", re.I)


def _wanting(request: str) -> str:
    """"I think it wants a cello" asks for one: "give it a cello"; "it needs to be
    faster": "make it faster". "He says can it breathe fire" asks "can it breathe fire";
    "she wants to know if it can fly" asks "can it fly"."""
    request = _AWW.sub("", request)  # "aww can he have a bow tie"
    request = re.sub(r"^\s*(?:ngl|tbh|imo|imho|fr|lowkey|honestly|not\s+gonna\s+lie)\b[\s,:-]*", "",
                     request, flags=re.I)
    series = re.match(r"^((?:[\w'-]+\s+\d+|next\s+(?:frame|page|panel|card|scene))\s*[:,-]\s*)?"
                      r"(?:and\s+|now\s+|then\s+)?the\s+same\s+([\w'-]+(?:\s+[\w'-]+)?\s+\w+ing\b.*)$",
                      request.strip(), re.I)
    if series:  # "frame 2: the same detective walking into a bar": the next picture of it
        return f"a picture of the same {series.group(2)}"
    for_whom = _MAKE_HIM_A.match(request.strip())
    if for_whom:  # "make him a theme song, something epic": one for him
        return (f"{for_whom.group(1)} {for_whom.group(3)}{for_whom.group(4)} for "
                f"{for_whom.group(2)}{for_whom.group(5)}")
    reported = _REPORTED.match(request.strip())
    if reported:
        rest = request.strip()[reported.end():]
        if reported.group(1):  # "if it can fly" asks "can it fly"
            rest = f"{reported.group(3)} {reported.group(2)} {rest}"
        request = rest
    have = _MAY_HAVE.match(request.strip())
    if have:  # "can it have a crown", "could the fox wear a scarf": give it one
        who = {"he": "him", "she": "her", "they": "them"}.get(have.group(1).lower(),
                                                             have.group(1))
        return f"give {who} {have.group(2)}"
    there = _THERE_BE.match(request.strip())
    if there:  # "can there be a deer in it": add one
        return f"add {there.group(1)}"
    part = _PART_WANTS.match(request.strip())
    if part:
        return f"make {part.group(1)} {part.group(2)}"
    that = _WANT_THAT.match(request.strip())
    if that:  # "I want that it is in minor", "I would like that the music is more slow"
        return f"make {that.group(1)} {that.group(2)}"
    m = _WANTS.match(request.strip())
    if m is None:
        return request
    verb = "make" if m.group(2) else "give"
    return f"{verb} {m.group(1)} {m.group(3)}"


# "here is my recording", "this is my cat Biscuit": showing, not asking
# the "that"-clause of a wish, as French, German or Spanish speakers put it in English
_WANT_THAT = re.compile(
    r"^(?:(?:please|pls|and|so|now|also)[\s,]+)*i(?:\s+would|'d|\s+will)?\s+(?:want|like|wish|prefer|"
    r"need)\s+that\s+(it|this|that|the\s+[\w'-]+(?:\s+[\w'-]+)?|#\s*\d+)\s+(?:is|be|are|was|"
    r"will\s+be|become|becomes|gets?|sounds?|looks?|has)\s+(.+)$", re.I)
_PRESENTING = re.compile(
    r"^(?:here(?:'s|\s+is|\s+are)|this\s+is|these\s+are|attached(?:\s+is)?|i'?ve\s+attached|"
    r"i\s+(?:have\s+)?attached|i'?m\s+sending|sending)\s+(?:you\s+)?(?:my|a|an|the|our|some|"
    r"his|her)\b[^.;,:]*$", re.I)
# "go with #4 in the end", "I'll take the second one": the artwork the next request is about
_CHOICE = re.compile(
    r"^(?:(?:hmm+|ok|okay|so|right|yeah|yes|well|actually|fine)[\s,.]+)*(?:(?:i'?ll|let'?s|we'?ll|"
    r"i\s+(?:will|think\s+i'?ll))\s+)?(?:(?:he|she|they|we|i|my\s+\w+|the\s+(?:kids?|client|boss))"
    r"\s+(?:picked|chose|likes?|liked|loves?|loved|prefers?|preferred|went\s+(?:with|for)|"
    r"wants?)|go\s+(?:with|for)|take|pick|choose|keep|use)\s+"
    r"(#\s*\d+(?:\s*v\s*\d+)?|the\s+[\w'-]+(?:\s+one)?)(?:\s+(?:in\s+the\s+end|then|after\s+all|"
    r"instead|please|pls))*$", re.I)
_STEPS_ONLY = re.compile(r"^(?:in\s+|over\s+|with\s+)?(" + language.NUMBER_PATTERN + r")\s+steps?$",
                         re.I)
# "what would that sound like as music?", "what would #2 look like as a painting? oil"
_WOULD_BE_LIKE = re.compile(
    r"^(?:(?:so|and|ok|okay|now|lovely|nice|great|wow|hmm)[\s,.!]+)*(?:i\s+wonder\s+)?"
    r"what\s+(?:would|does|might|could)\s+(that|this|it|#\s*\d+|(?:the|that|this|my)\s+[\w'-]+"
    r"(?:\s+[\w'-]+)?)\s+"
    r"(sound|look)\s+like(?:\s+(?:as|in)\s+(?:a\s+|an\s+)?(music|song|tune|piece(?:\s+of\s+"
    r"music)?|melody|picture|painting|image|drawing|illustration))?\s*[?.!]*\s*", re.I)
_SAME_BUT = re.compile(
    r"^(?:(?:ok|okay|now|and|so|right|please|pls)\s+)*(?:(?:do|make|paint|draw|generate|give\s+me)"
    r"\s+)?(?:(?:the\s+)?same(?:\s+(?:thing|one|again|prompt|picture|image|scene|idea))?(?:\s+again)?|"
    r"again|another\s+one|one\s+more)(?:\s+like\s+(?:that|this|it))?\s*[,:;-]?\s*"
    r"(?:but|except|only|just)\s+(?:with\s+|as\s+|of\s+)?(.+)$|"
    r"^(?:(?:the\s+)?same\s+(?:prompt|thing|picture|scene))\s*[,:;-]\s*(.+)$", re.I)


def _again_but(text: str, context: PlanContext) -> list[PlannedCall]:
    """The last picture's prompt again with something changed: "same but seed 13 and 14"
    (one picture a seed), "again but negative prompt: people, cars", "again, but at dawn"
    (added to the prompt), "again but a dog" (a new subject)."""
    m = _SAME_BUT.match(_POLITE.sub("", text).strip(" .!"))
    pictures = [b for b in context.focus if b.kind == "image"] or \
        [b for b in context.recent if b.kind == "image"][-1:]
    if m is None or not pictures or not pictures[-1].title:
        return []
    tail = (m.group(1) or m.group(2) or "").strip()
    edit = [] if re.search(r"\b(?:seeds?|negative|neg|steps)\b", tail, re.I) else \
        intents.BUILDERS["edit"](tail, replace(context, focus=pictures[-1:]))
    if edit and edit[0].name in ("adjust_image", "reframe_image", "upscale_image"):
        return []  # "same but brighter": an edit of it
    calls = images._generate(tail, context) if tail.strip(" ,") else \
        [PlannedCall("generate_image", {"prompt": ""})]
    before = pictures[-1].title
    for call in calls:
        said = str(call.args.get("prompt", ""))
        if _nothing_said(said) or said == "a picture" or not re.search(r"[a-z]{3,}", said, re.I):
            call.args["prompt"] = before  # only settings changed
        elif re.match(r"(?:at|in|on|during|under|by|near|with|without|from|after|before)\b",
                      said, re.I):
            call.args["prompt"] = f"{before}, {said}"  # "again, but at dawn"
        else:
            call.args["prompt"] = said  # "again but a dog": the new subject
    return calls


# A piece that tells rather than asks: its subject is the person or someone they know,
# and its verb is not one of wanting ("my grandson wants a dragon" tells; "I'd like a
# dragon" asks).
_TELLING = re.compile(
    r"^(?:(?:so|well|and|but|ok|okay|oh|hi|hey|hello|morning|evening)\W+)*(?:i|i'm|im|i've|"
    r"i\s+am|we|we're|we've|we\s+are|my|our|his|her|he|she|they|their|there\s+(?:is|was))\b"
    r"(?!\s+(?:(?:really\s+|just\s+)?(?:want|need|would(?:\s+really)?\s+(?:like|love)|'d\s+(?:like|love)|"
    r"d\s+like|wonder|was\s+wondering|hope|am\s+after|'m\s+after|m\s+after|wish|"
    r"am\s+looking\s+for|'m\s+looking\s+for|are\s+after|'re\s+after)))\b", re.I)
# A sentence that describes what was just asked for: "It was blue.", "On the sea at Whitby
# with the abbey up on the cliff", "There was a big apple tree beside it".
_DESCRIBING = re.compile(
    r"^(?:(?:it|he|she|they|there)\s+(?:was|were|had|has|is|are)|it'?s|they're|he'?s|she'?s|"
    r"of\s+(?:my|our|his|her|their|a|an)\b|"
    r"(?:it|he|she|they)\s+(?:should|must|needs?\s+to|has\s+to|have\s+to)\s+(?:be|have)|"
    r"(?:on|in|at|under|beside|by|near|behind|with|against|among)\s+(?:a|an|the|some|his|her|"
    r"their|our|my)\b)", re.I)
# What a telling sentence is about: the thing after "about"/"of", or after the verb.
_TOLD_SUBJECT = re.compile(
    r"\b(?:(?:about|of|wants?|wanted|drew|draws|painted|made|loves?|loved|likes?|liked|has|"
    r"had|have|remember(?:s|ed)?|is|was|got|saw|met|found|adopted|rescued|keeps?|kept|owns?|"
    r"owned|built|planted|grows?|visited|(?:grew\s+up|lived|live|stayed|stay|holidayed|camped|"
    r"were|was)\s+(?:in|on|by|at|near))\s+((?:a|an|the|my|our|his|her|their|some|two|three)\s+"
    r"[^.,;!?]+)|\b(?:about|loves?|loved|likes?|liked|adores?|wants?)\s+((?!to\b|it\b|that\b|"
    r"this\b|them\b|me\b|you\b|us\b)[a-z]+s)\b)", re.I)
_SUBJECT_END = re.compile(r"\s+(?:and|but|so|because|which|that\s+(?:i|we))\s+(?:wants?|"
                          r"i|we|he|she|they|it|to|would|likes?|needs?)\b.*$", re.I)


def _described(prompt: str, sentence: str) -> str:
    """The prompt with what a sentence after it adds: "It was blue" adds "blue"."""
    bare = re.sub(r"^(?:(?:it|he|she|they|there)\s+(?:was|were|had|has|is|are)|it'?s|he'?s|"
                  r"she'?s|they're|(?:it|he|she|they)\s+(?:should|must|needs?\s+to|has\s+to|have\s+to)"
                  r"\s+(?:be|have))\s+", "", _POLITE.sub("", sentence).strip(" .!"), flags=re.I)
    return f"{prompt}, {bare}" if prompt and bare else prompt or bare


def _told_subject(told: list[str]) -> str | None:
    """"a dragon" from "my grandson wants a dragon"; the last "about/of" wins over a verb."""
    for text in told:
        found = list(_TOLD_SUBJECT.finditer(text))
        about = [m for m in found if m.group(0).lower().startswith(("about", "of"))]
        m = about[-1] if about else (found[0] if found else None)
        if m:
            subject = _SUBJECT_END.sub("", m.group(1) or m.group(2)).strip()
            if not _nothing_said(subject):
                return subject
    return None


def _needs_subject(prompt: str) -> bool:
    return _nothing_said(prompt) or bool(re.fullmatch(
        r"(?:an?\s+|the\s+|some\s+)?(?:picture|painting|drawing|image|pic|sketch|"
        r"illustration|photo|something|one)s?(?:\s+(?:for|of)\s+(?:me|us|it))?", prompt.strip(),
        re.I)) or bool(_PRONOUN.search(prompt)) \
        or bool(_ONE.match(prompt.strip()) or re.match(r"something\s+\w", prompt.strip(), re.I))


# "him on a beach" is about him; "a fox for her" is not about her.
_PRONOUN = re.compile(r"(?<!\bfor\s)(?<!\bto\s)(?<!\bwith\s)(?<!\bfrom\s)(?<!\bof\s)(?<!\bby\s)"
                      r"\b(?:it|him|her|them)\b", re.I)
_ONE = re.compile(r"^((?:an?\s+|the\s+)?(?:[\w'-]+\s+){0,3}?)ones?\b(.*)$", re.I)


def _with_subject(prompt: str, subject: str) -> str:
    """The prompt about the subject a story gave: "a friendly green one" + "a dragon" is
    "a friendly green dragon"; "him on a beach" + "a spaniel" is "a spaniel on a beach"."""
    p = prompt.strip()
    head = re.sub(r"\s+(?:who|which|that|with|in|on|at|by|from|for)\b.*$", "", subject,
                  flags=re.I).split()[-1]
    one = _ONE.match(p)
    if one:
        return f"{one.group(1)}{head}{one.group(2)}" if one.group(1).strip() \
            else f"{subject}{one.group(2)}"
    some = re.match(r"something\s+(.+)$", p, re.I)
    if some:
        return f"{subject}, {some.group(1)}"
    pronoun = _PRONOUN.search(p)
    if pronoun is None or _nothing_said(p):
        return subject
    before, after = p[: pronoun.start()], p[pronoun.end():]
    if re.search(r"\b(?:you|could|would|can|wonder|whether|paint|draw|make)\b", before, re.I):
        before = ""  # "I wonder whether you could paint it": the wrapper, not the subject
    after = re.sub(r"\s*\b(?:for\s+(?:me|us|him|her|them)|if\s+(?:that'?s|it'?s)\s+(?:possible|"
                   r"ok(?:ay)?)|please|pls)\b", "", after, flags=re.I)
    return " ".join(f"{before}{subject}{after}".split()).strip(" ,")


def _told_apart(calls: list[PlannedCall], origin: dict[int, str], told: list[str],
                unknown: list[str], context: PlanContext) -> list[PlannedCall]:
    """A message that tells a story and then asks: "We're doing a craft with the kids and
    want to colour in a picture. Could you draw a castle with a dragon on top?" is one
    picture, not a picture of the story too; and "My grandson wants a dragon. A friendly
    green one please" is a friendly green dragon."""
    made = [c for c in calls if c.name in _CREATE]
    for call in made:
        piece = origin.get(id(call), "")
        others = [c for c in made if c is not call and c.name == call.name
                  and not _TELLING.match(origin.get(id(c), ""))]
        if piece and _TELLING.match(piece) and others:
            calls = [c for c in calls if c is not call]
            told.append(piece)
    subject = _told_subject(told)
    if subject is None:
        # "and a watercolour one": one more of the picture in focus
        last = [b for b in context.focus if b.kind == "image"][-1:] or \
            [b for b in context.recent if b.kind == "image"][-1:]
        for call in calls:
            prompt = str(call.args.get("prompt", ""))
            if call.name == "generate_image" and last and last[0].title and re.fullmatch(
                    r"(?:an?\s+|the\s+)?(?:(?:other|another|new|same|different)\s+)?ones?",
                    prompt.strip(), re.I) and id(call) in origin:
                call.args["prompt"] = last[0].title
        return calls
    for call in calls:
        prompt = str(call.args.get("prompt", ""))
        if call.name != "generate_image" or not _needs_subject(prompt):
            continue
        call.args["prompt"] = _with_subject(prompt, subject)
        for text in told:
            if text in unknown:
                unknown.remove(text)
    return calls


# A piece that says what a picture is for, or that one is wanted, before the piece that
# says what it shows: "looking for a tattoo idea. a koi fish around a lotus", "I want to
# make a card. Please make a picture of two gold rings", "I would like a picture for my
# granddaughter's birthday. A white horse in a meadow".
_PURPOSE = re.compile(
    r"\b(?:idea|ideas|card|gift|present|birthday|wedding|anniversary|logo|invitation|flyer|"
    r"poster|banner|cover|something|anything|one)\b|\bfor\s+(?:my|our|her|his|their|a|the)\b|"
    r"^(?:dear|hello|hi|good\s+(?:morning|afternoon|evening))\b", re.I)
_MORE_THAN_ONE = re.compile(r"\b(?:another|also|second|too|as\s+well|both|two\s+pictures|"
                            r"each|separate|different)\b", re.I)


_NEW_SUBJECT = re.compile(r"^(?:.*?\b)?(?:a\s+)?(?:different|new|another|fresh)\s+"
                          r"(?:subject|idea|one)(?:\s+then)?\s*[:-]\s*(\S.+)$", re.I)
_NEXT_PIECE = re.compile(r"^(?:(?:ok|okay|np|now|and|cool)[\s,.]+)*(?:the\s+|a\s+|an\s+)?"
                         r"(?:[\w'-]+\s+){0,2}"
                         r"(?:theme|tune|track|song|loop|piece|jingle|cue|intro|outro|melody|"
                         r"picture|image|drawing|poster|frame|page|panel|card)\s+next\b", re.I)
_SAME_AS = re.compile(r"^(?:(?:now|and|then|ok(?:ay)?|so)[\s,]+)*(?:the\s+)?same\s+"
                      r"([\w'-]+(?:\s+[\w'-]+)?)\s+((?:as|in)\s+(?:a\s+|an\s+)?.+)$", re.I)
_SAME_AGAIN = re.compile(r"^\s*(?:again|once\s+more|(?:it|that|this)\s+again|"
                         r"same\s+(?:again|thing|one)|the\s+same(?:\s+([\w'-]+(?:\s+[\w'-]+)?))?)\s*$",
                         re.I)


def _same_subject(calls: list[PlannedCall], context: PlanContext) -> None:
    """"and again in pixel art", "now the same still life as a pencil sketch", "again, seed
    1234, four options": a new picture of what the last one showed, in the words it was
    painted from."""
    for call in calls:
        if call.name != "generate_image":
            continue
        m = _SAME_AGAIN.match(str(call.args.get("prompt", "")))
        if not m:
            continue
        pictures = [b for b in [*context.focus, *reversed(context.recent)] if b.kind == "image"]
        words = (m.group(1) or "").lower().split()
        named = [b for b in pictures if words and all(w.rstrip("s") in b.title.lower()
                                                         for w in words)]
        source = (named or pictures)[:1]
        if source:
            call.args["prompt"] = source[0].title


def _purpose_apart(calls: list[PlannedCall], origin: dict[int, str],
                   message: str) -> list[PlannedCall]:
    """New artworks of one kind from different pieces of one message that does not list
    several ("monster manual time. a swamp troll, sketch style", "now a pic for it. cozy
    bedroom at night, anime", "paint me a steam train. oil painting if possible"): one
    artwork, the piece that describes something giving the prompt and every piece its
    arguments. A message that lists ("a fox, and also an owl", "1) … 2) …", "two tunes:
    one on lute, one on harp") keeps them apart."""
    for name in _CREATE:
        made = [c for c in calls if c.name == name and id(c) in origin]
        if len(made) < 2 or len({origin[id(c)] for c in made}) < len(made) \
                or _LISTS.search(message) or _MORE_THAN_ONE.search(message):
            continue
        if len({c.args.get("seed") for c in made if "seed" in c.args}) > 1:
            continue  # a seed sweep
        scores = [_substance(str(c.args.get("prompt", ""))) for c in made]
        keep = made[max(range(len(made)), key=lambda i: (scores[i], i))]
        if sum(1 for x in scores if x >= 3) > 1 and not any(
                _PURPOSE.search(str(c.args.get("prompt", ""))) or scores[i] < 3
                for i, c in enumerate(made) if c is not keep):
            continue  # two scenes said apart ("a red fox. a blue owl at night"): two
        for other in made:
            if other is keep:
                continue
            said = str(other.args.get("prompt", ""))
            one = _A_ONE.match(said)
            noun = re.search(r"([\w'-]+)\s*$", str(keep.args.get("prompt", "")))
            if one and noun:  # "a dragon. A friendly green one": a friendly green dragon
                keep.args["prompt"] = f"{one.group(1)} {one.group(2).strip()} {noun.group(1)}"
            for k, v in other.args.items():
                if k != "prompt":
                    keep.args.setdefault(k, v)
        calls = [c for c in calls if c is keep or c not in made]
    return calls


# "this page is a night scene", "the poster is for a bake sale": telling what something is
_STATEMENT = re.compile(r"^\s*(?:this|that|it|its|it'?s|the\s+[\w'-]+)(?:\s+[\w'-]+)?\s+"
                        r"(?:is|was|'s|will\s+be|are)\s+(?:a|an|the|for|about|set|going|meant|"
                        r"supposed)\b", re.I)
_NO_THING = re.compile(r"^(?:and\s+|but\s+)?(?:no|without(?:\s+any)?|with\s+no)\s+((?!(?:wait|way|"
                       r"thanks|problem|worries|idea|need|more|longer|not)\b)[a-z][\w'-]*"
                       r"(?:\s+[a-z][\w'-]*)?)(?:\s+(?:please|pls|thanks))?$", re.I)
_MAKE_IT_FEEL = re.compile(r"^(?:and\s+)?make\s+(?:it|them)\s+(?:look\s+|feel\s+|really\s+|"
                           r"super\s+|very\s+)*([a-z]+(?:\s+and\s+[a-z]+)?)$", re.I)
_A_ONE = re.compile(r"^\s*(a|an|the)\s+((?:[\w'-]+\s+){1,3}?)ones?\s*$", re.I)
_LISTS = re.compile(r"(?:then|after\s+that|plus|and\s+(?:a|an|another|one|some)|one\s+(?:on|in|"
                    r"for|with)\b.*\bone\s+(?:on|in|for|with))\b|;|(?:^|\s)\(?\d+[).:](?!\d)|"
                    r"\b(?:two|three|four|five|2|3|4|5)\s+(?:\w+\s+){0,2}?(?:things|pieces|tunes|"
                    r"songs|tracks|pictures|images|drawings|paintings|designs|versions)\b[^:.]*:",
                    re.I)
_STOCK = set("""picture pictures pic pics image images drawing painting photo music piece tune song
track version possible posible if time need want like lol pls please thanks also again now then
here there kind sort maybe idea ideas""".split())


def _substance(prompt: str) -> int:
    """How much a prompt describes: its content words (not stock words), and a described
    thing ("a swamp troll") counts over a label ("monster manual time")."""
    words = [w for w in re.findall(r"[a-z]{3,}", prompt.lower())
             if w not in _FUNCTION_WORDS and w not in _NOTHING and w not in _STOCK]
    return len(words) + (2 if re.match(r"\s*(?:a|an|some|the)\s+\w", prompt, re.I) and words
                         else 0) - (2 if _PURPOSE.search(prompt) else 0)


def _label(calls: list[PlannedCall]) -> str | None:
    return LABEL_OF_TOOL.get(calls[0].name) if calls else None


def _refusal(text: str, pred: Prediction | None) -> str | None:
    """What it cannot do, said. A picture *of* something that moves or sings ("a photo of a
    man singing", "a poster for a movie") is still a picture: the model's confident
    "make a picture" vetoes the refusal."""
    for pattern, sentence in _REFUSALS:
        if not pattern.search(text):
            continue
        if sentence.startswith("I can't make videos") and _AUDIO_MODEL.search(text):
            continue  # "a 10 second clip of rain, stable audio" is a recording
        if pred is not None and pred.label in _CREATE and pred.p >= 0.6 \
                and pred.p_of("refuse") < 0.1:
            return None
        if _REFUSE_ASKS.search(text) or pred is None or pred.label == "refuse" \
                or pred.p_of("refuse") >= 0.2:
            return sentence
    return None


def _question(pred: Prediction, context: PlanContext) -> str | None:
    """One short question when the model has two plausible readings; None when it has
    none worth asking about (the reply then says what it can do)."""
    options = [(label, p) for label, p in pred.ranked[:2] if label in intents.DESCRIBE]
    if not options or options[0][1] < ASK:
        return None
    if len(options) == 2 and options[1][1] >= ASK / 2:
        return (f"Do you want me to {intents.DESCRIBE[options[0][0]]} or "
                f"{intents.DESCRIBE[options[1][0]]}?")
    return f"Do you want me to {intents.DESCRIBE[options[0][0]]}?"


_MEANT = re.compile(r"^(?:(?:oh|sorry|oops|no|nope|wait|ah|hmm|actually)[\s,!.]+)*(?:i\s+meant|"
                    r"i\s+mean|meant|i\s+was\s+talking\s+about)\s+(.+?)[\s,.!]*$", re.I)
_LEADING = re.compile(r"^(?:on|for|with|to|in|about|as\s+for|regarding|take|use|grab|from|"
                      r"start\s+from)\s+", re.I)


def _only_a_reference(text: str) -> bool:
    """"on #2", "for the fox one": a request that only names an artwork."""
    rest = " ".join(_LEADING.sub("", _POLITE.sub("", text)).split()).strip(" :,-")
    return bool(rest) and language.natural_ref(rest) == rest
