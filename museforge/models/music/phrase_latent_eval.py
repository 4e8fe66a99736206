"""What the latent tools do with the phrase model against the 2-bar model chained, on the
committed held-out phrases (``phrase_heldout.npz``; nothing here was tuned on them): the
figures of PHRASE_MODEL_CARD.md's "Continuing, varying and morphing" section, which
``museforge eval-phrases`` re-makes. Plain numpy, seeded: the same figures every run.

- Continuing: each held-out phrase (its key read from its notes) continued by 16 bars,
  by ``phrase_latent.continue_phrases`` and by the 2-bar model's ``continue_melody`` (what
  ``continue_music`` did before). On the 16 new bars: whether the last note is the tonic
  or the dominant of the phrase's key (the phrase model's as its chosen phrase wrote it,
  before the last note is set), the card's structure measures, the share of new bars
  that repeat or sequence a bar of the phrase before (an answer restates its question),
  notes in the key before any is nudged, and the leap at the join.
- Morphing: held-out phrases paired within a meter, three steps between them (the
  middle one halfway); for each of the card's per-phrase statistics, the share of pairs
  whose midpoint lies between the two sources, and whether the first step resembles the
  first source more than the second and the last step the second more (distance over the
  statistics, each scaled by its spread over the held-out phrases).
- Varying (amount 0.3, ``vary_music``'s default): how much of the phrase stays (notes
  kept at their onset and pitch; onsets kept) and how far its statistics move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.data import (
    MAX_PITCH,
    MIN_PITCH,
    STEPS_PER_BAR,
    notes_to_tokens,
    tokens_to_notes,
)
from museforge.models.music.phrase_data import (
    PHRASE_BARS,
    _bar_events,
    _same_or_sequence,
    cadence,
    phrase_key,
    pitch_range,
    repeated_bars,
)
from museforge.models.music.phrase_latent import STATS
from museforge.models.music.piece import Note
from museforge.models.music.theory import Key, spell_key

TIME_SIGNATURES = ((4, 4), (2, 4), (3, 4), (6, 8))  # one per meter id
PER_METER = 32  # held-out phrases continued and varied per meter (evenly spread)
MORPH_STEPS = 3
VARY_AMOUNT = 0.3


def _fold(notes: list[Note], beats: float) -> list[Note]:
    """Notes cut at ``beats`` and folded by octaves into C3..C6, for the measures."""
    out = []
    for n in notes:
        if n.start >= beats - 1e-9:
            continue
        pitch = n.pitch
        while pitch < MIN_PITCH:
            pitch += 12
        while pitch > MAX_PITCH:
            pitch -= 12
        out.append(Note(pitch, n.start, min(n.end, beats), n.velocity))
    return out


def _tokens(notes: list[Note], ts: tuple[int, int], bars: int = PHRASE_BARS) -> np.ndarray:
    return notes_to_tokens(_fold(notes, bars * ts[0] * 4 / ts[1]), ts, bars)


def phrase_stats(tokens: np.ndarray, meter: int) -> dict[str, float]:
    """One phrase's values of ``STATS``."""
    from museforge.models.music.phrase_latent import phrase_stats as stats

    return stats(tokens_to_notes(tokens), TIME_SIGNATURES[meter], PHRASE_BARS)


def answered_bars(before: np.ndarray, after: np.ndarray, meter: int) -> float:
    """The share of ``after``'s bars that repeat or sequence a bar of ``before``."""
    bar = STEPS_PER_BAR[meter]
    old, new = _bar_events(before, bar), _bar_events(after, bar)
    return sum(any(_same_or_sequence(a, b) for a in old) for b in new) / max(1, len(new))


def _key_of(tokens: np.ndarray) -> Key:
    tonic, mode = phrase_key(tokens)
    return spell_key(tonic, mode)


def _contexts(weights_dir: Path) -> list[tuple[int, np.ndarray]]:
    from museforge.models.music.numpy_hvae import PHRASE_HELDOUT
    from museforge.models.music.phrase_data import load_phrases

    windows, _ = load_phrases(weights_dir / PHRASE_HELDOUT)
    out = []
    for w in windows:
        if not len(w):
            continue
        rows = np.unique(np.linspace(0, len(w) - 1, min(PER_METER, len(w))).round().astype(int))
        out += [(w.meter, w.tokens[r].astype(np.int64)) for r in rows]
    return out


def _continuation_values(tokens: np.ndarray, meter: int, added: list[Note], key: Key,
                         last: int) -> dict[str, Any]:
    ts = TIME_SIGNATURES[meter]
    new = _tokens(added, ts)
    return {"tonic_or_dominant": (added[-1].pitch - key.pitch_class) % 12 in (0, 7),
            "card_cadence": cadence(new) in ("tonic", "dominant"),
            "repeated_bars": repeated_bars(new, meter),
            "pitch_range": float(pitch_range(new)),
            "answered_bars": answered_bars(tokens, new, meter),
            "in_key": sum(key.contains(n.pitch) for n in added) / len(added),
            "join": abs(added[0].pitch - last)}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"phrases": len(rows)}
    for name in rows[0]:
        values = np.array([float(r[name]) for r in rows])
        out[name] = {"mean": float(values.mean()), "p10": float(np.percentile(values, 10)),
                     "p90": float(np.percentile(values, 90))}
    return out


def _two_bar_morph(model: Any, a: list[Note], b: list[Note], ts: tuple[int, int],
                   steps: int) -> list[list[Note]]:
    """What ``music_support.interpolate_pieces`` does to the melodies: 2-bar windows
    morphed one by one, in ``a``'s register."""
    bar_beats = ts[0] * 4 / ts[1]
    span = 2 * bar_beats
    from museforge.models.music.phrase_latent import into_range, window

    low, high = model.pitch_range
    _, shift = into_range(a, low, high)
    out: list[list[Note]] = [[] for _ in range(steps)]
    for w in range(PHRASE_BARS // 2):
        wa, wb = window(a, 2 * w, 2, bar_beats), window(b, 2 * w, 2, bar_beats)
        if not wa or not wb:
            continue
        za = model.encode(into_range(wa, low, high)[0], ts)
        zb = model.encode(into_range(wb, low, high)[0], ts)
        for s, z in enumerate(model.interpolate(za, zb, steps + 2)[1:-1]):
            out[s] += [Note(n.pitch - shift, n.start + w * span, n.end + w * span, n.velocity)
                       for n in model.decode(z, ts, temperature=0.0)]
    return out


def _two_bar_vary(model: Any, a: list[Note], ts: tuple[int, int], amount: float, seed: int,
                  ) -> list[Note]:
    """What ``music_support.vary_piece`` does to a melody: each 2-bar window nudged."""
    from museforge.models.music.phrase_latent import into_range, window

    bar_beats = ts[0] * 4 / ts[1]
    low, high = model.pitch_range
    out = []
    for w in range(PHRASE_BARS // 2):
        wa = window(a, 2 * w, 2, bar_beats)
        if not wa:
            continue
        inside, shift = into_range(wa, low, high)
        z = model.perturb(model.encode(inside, ts), amount, seed=seed + w)
        out += [Note(n.pitch - shift, n.start + 2 * w * bar_beats, n.end + 2 * w * bar_beats,
                     n.velocity) for n in model.decode(z, ts, temperature=0.0)]
    return out


def _kept(source: list[Note], varied: list[Note]) -> tuple[float, float]:
    """The shares of ``source``'s notes found in ``varied`` at the same onset with the same
    pitch, and at the same onset."""
    notes = {(round(n.start * 4), n.pitch) for n in varied}
    onsets = {round(n.start * 4) for n in varied}
    n = max(1, len(source))
    return (sum((round(x.start * 4), x.pitch) in notes for x in source) / n,
            sum(round(x.start * 4) in onsets for x in source) / n)


def latent_tool_figures(weights_dir: Path | str) -> dict[str, Any]:
    """The section's figures (see the module's docstring)."""
    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.phrase_latent import (
        continue_phrases,
        vary_phrases,
    )
    from museforge.models.music.phrase_model import PhraseVAEModel

    weights_dir = Path(weights_dir)
    phrases = PhraseVAEModel.from_dir(weights_dir)
    two_bar = MelodyVAEModel.from_dir(weights_dir)
    contexts = _contexts(weights_dir)
    rows: dict[str, list[dict[str, Any]]] = {"phrase": [], "two_bar": []}
    cadence_set = 0
    vary: dict[str, list[tuple[float, float, float]]] = {"phrase": [], "two_bar": []}
    all_stats = [phrase_stats(t, m) for m, t in contexts]
    scale = {s: float(np.std([v[s] for v in all_stats])) or 1.0 for s in STATS}
    for i, (meter, tokens) in enumerate(contexts):
        ts = TIME_SIGNATURES[meter]
        notes = tokens_to_notes(tokens)
        key = _key_of(tokens)
        bar_beats = ts[0] * 4 / ts[1]
        start = PHRASE_BARS * bar_beats
        last = notes[-1].pitch
        # measured as the chosen phrase wrote it, before its last note is set
        added, info = continue_phrases(phrases, notes, ts, key, PHRASE_BARS, PHRASE_BARS, i,
                                       set_cadence=False)
        cadence_set += info["ends_on"] == "other"
        moved = [Note(n.pitch, n.start - start, n.end - start, n.velocity) for n in added]
        values = _continuation_values(tokens, meter, moved, key, last)
        values["in_key"] = 1 - info["nudged_share"]
        rows["phrase"].append(values)
        cont = two_bar.continue_melody(notes, ts, PHRASE_BARS, seed=i)
        moved = [Note(n.pitch, n.start - start, n.end - start, n.velocity) for n in cont.notes]
        if moved:
            rows["two_bar"].append(_continuation_values(tokens, meter, moved, key, last))
        source = phrase_stats(tokens, meter)
        for name, varied in (
                ("phrase", vary_phrases(phrases, notes, ts, key, PHRASE_BARS, VARY_AMOUNT,
                                        i)[0]),
                ("two_bar", _two_bar_vary(two_bar, notes, ts, VARY_AMOUNT, i))):
            same, onsets = _kept(notes, varied)
            moved_stats = phrase_stats(_tokens(varied, ts), meter)
            distance = float(np.sqrt(sum(((moved_stats[s] - source[s]) / scale[s]) ** 2
                                         for s in STATS)))
            vary[name].append((same, onsets, distance))
    morph = _morph_figures(phrases, two_bar, contexts, scale)
    return {
        "contexts": len(contexts), "per_meter": PER_METER,
        "continue": {name: _summary(r) for name, r in rows.items()},
        "continue_cadence_set": cadence_set / len(contexts),
        "morph": morph,
        "vary": {name: {"amount": VARY_AMOUNT,
                        "notes_kept": float(np.mean([v[0] for v in vs])),
                        "onsets_kept": float(np.mean([v[1] for v in vs])),
                        "stats_distance": float(np.mean([v[2] for v in vs]))}
                 for name, vs in vary.items()},
    }


def _morph_figures(phrases: Any, two_bar: Any, contexts: list[tuple[int, np.ndarray]],
                   scale: dict[str, float]) -> dict[str, Any]:
    from museforge.models.music.phrase_latent import interpolate_phrases

    by_meter: dict[int, list[np.ndarray]] = {}
    for m, t in contexts:
        by_meter.setdefault(m, []).append(t)
    out: dict[str, dict[str, list[float]]] = {"phrase": {}, "two_bar": {}}
    for meter, group in by_meter.items():
        ts = TIME_SIGNATURES[meter]
        half = len(group) // 2
        for k in range(half):
            ta, tb = group[k], group[k + half]
            a, b = tokens_to_notes(ta), tokens_to_notes(tb)
            sa, sb = phrase_stats(ta, meter), phrase_stats(tb, meter)
            key = _key_of(ta)
            made = {"phrase": interpolate_phrases(phrases, a, b, ts, key, PHRASE_BARS,
                                                  MORPH_STEPS)[0],
                    "two_bar": _two_bar_morph(two_bar, a, b, ts, MORPH_STEPS)}
            for name, steps in made.items():
                st = [phrase_stats(_tokens(s, ts), meter) for s in steps]
                mid = st[len(st) // 2]
                rec = out[name]
                for s in STATS:
                    lo, hi = min(sa[s], sb[s]), max(sa[s], sb[s])
                    rec.setdefault(f"between_{s}", []).append(
                        float(lo - 1e-9 <= mid[s] <= hi + 1e-9))

                def dist(x: dict[str, float], y: dict[str, float]) -> float:
                    return float(np.sqrt(sum(((x[s] - y[s]) / scale[s]) ** 2 for s in STATS)))

                rec.setdefault("first_nearer_a", []).append(
                    float(dist(st[0], sa) < dist(st[0], sb)))
                rec.setdefault("last_nearer_b", []).append(
                    float(dist(st[-1], sb) < dist(st[-1], sa)))
                rec.setdefault("mid_between_all", []).append(float(all(
                    min(sa[s], sb[s]) - 1e-9 <= mid[s] <= max(sa[s], sb[s]) + 1e-9
                    for s in STATS)))
    return {name: {"pairs": len(rec.get("first_nearer_a", [])),
                   **{k: float(np.mean(v)) for k, v in rec.items()}}
            for name, rec in out.items()}


def _m(section: dict[str, Any], name: str) -> float:
    return float(section[name]["mean"])


def _where(value: float, spread: dict[str, float]) -> str:
    return "below" if value < spread["p10"] else "above" if value > spread["p90"] \
        else "inside"


def _names(stats: list[str]) -> str:
    words = [s.replace("_", " ") for s in stats] or ["none of them"]
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


def latent_card_lines(lt: dict[str, Any], heldout: dict[str, Any]) -> list[str]:
    """The card's section on the latent tools, from ``latent_tool_figures`` and the
    held-out phrases' structure row."""
    from museforge.models.music.phrase_latent import (
        ANSWER_AMOUNTS,
        ANSWER_CANDIDATES,
        ANSWER_TEMPERATURE,
        DECODE_TEMPERATURE,
        MORPH_CANDIDATES,
    )

    ph, tb = lt["continue"]["phrase"], lt["continue"]["two_bar"]
    mp, mt = lt["morph"]["phrase"], lt["morph"]["two_bar"]
    vp, vt = lt["vary"]["phrase"], lt["vary"]["two_bar"]
    r, p = heldout["repeated_bars"], heldout["pitch_range"]

    def pct(x: float) -> str:
        return f"{100 * x:.1f} %"

    def row(label: str, s: dict[str, Any]) -> str:
        return (f"| {label} | {pct(_m(s, 'tonic_or_dominant'))} | {pct(_m(s, 'card_cadence'))} "
                f"| {_m(s, 'repeated_bars'):.3f} | {_m(s, 'pitch_range'):.1f} "
                f"| {_m(s, 'answered_bars'):.3f} | {pct(_m(s, 'in_key'))} "
                f"| {_m(s, 'join'):.1f} |")

    between = " | ".join(f"{pct(m[f'between_{s}'])}" for m in (mp,) for s in STATS)
    between_2 = " | ".join(f"{pct(m[f'between_{s}'])}" for m in (mt,) for s in STATS)
    return [
        "## Continuing, varying and morphing in phrases",
        "",
        "`continue_music`, `vary_music` and `interpolate_music` work on pieces of 8 bars and "
        "more (in a meter the model writes) with this model, and on shorter pieces, with a "
        "learnt style, or where these weights are missing with the 2-bar model's windows as "
        "before; the recipe names the phrase model and its revision when it worked "
        "(`phrase_latent.py`, `tools/phrase_support.py`). Continuing encodes the 16 bars "
        "before the new ones (a piece of 8 to 15 bars looped so that they end where it "
        f"ends) and keeps the best of {ANSWER_CANDIDATES} phrases decoded at T = "
        f"{ANSWER_TEMPERATURE} from latents moved {' and '.join(map(str, ANSWER_AMOUNTS))} "
        "of the way to a fresh draw: most notes in the piece's key, the last note on its "
        "tonic (or dominant), repeated bars near the training phrases' mean, a smooth join; "
        "the last note of the continuation is set to the nearest tonic or dominant when the "
        "chosen phrase ends elsewhere, and its few notes outside the key are nudged in. "
        "Varying moves each phrase's latent by `amount` and morphing joins two phrases' "
        f"latents along the great circle, both decoding at T = {DECODE_TEMPERATURE} with a "
        "fixed seed (decoded greedily, the held-out phrases came back with about half "
        "their pitch range and bars said again and again); a morph's step is the one of "
        f"{MORPH_CANDIDATES} "
        "decodings whose statistics lie nearest the step's share of the way between the "
        "two sources' (so the between-ness below is partly by construction). The "
        "temperature (among 0, 0.3, 0.5, 0.7), the candidates and the amounts were chosen "
        "on composed pieces (the composer's seeds 100..107), not on the held-out phrases.",
        "",
        f"Measured on {lt['contexts']} held-out phrases ({lt['per_meter']} per meter, "
        "evenly spread; `phrase_latent_eval.py`), each one's key read from its notes, "
        "against the 2-bar model chained as `continue_music` used it before "
        "(`continue_melody`: 2-bar chunks near the one before).",
        "",
        "Continuing each by 16 bars; the 16 new bars. Ends on tonic or dominant: of the "
        "phrase's key, as the chosen phrase wrote it (before its last note is set); in the "
        "card's measure: of the key the new bars' own notes imply. Answered bars: new bars "
        "that repeat or sequence a bar of the phrase before. Join: the leap into the first "
        "new note, in semitones. Means.",
        "",
        "| | ends on tonic or dominant | card's cadence | repeated or sequenced bars "
        "| pitch range | answered bars | notes in the key | join |",
        "|---|---|---|---|---|---|---|---|",
        row("phrase model", ph),
        row("2-bar model chained", tb),
        f"| held-out phrases (for scale) | | {pct(heldout['cadence_tonic_or_dominant'])} "
        f"| {r['mean']:.3f} ({r['p10']:.2f}..{r['p90']:.2f}) "
        f"| {p['mean']:.1f} ({p['p10']:.0f}..{p['p90']:.0f}) | | | |",
        "",
        f"The last note had to be set in {pct(lt['continue_cadence_set'])} of the "
        "continuations. The continued phrase's repeated or sequenced bars are "
        f"{_where(_m(ph, 'repeated_bars'), r)} the held-out phrases' 10th..90th percentiles "
        f"({_m(ph, 'repeated_bars') / max(1e-9, _m(tb, 'repeated_bars')):.1f} times the "
        "chained 2-bar model's share), its range "
        f"{_where(_m(ph, 'pitch_range'), p)} theirs (the 2-bar model's "
        f"{_where(_m(tb, 'pitch_range'), p)}), and it restates bars of the phrase before "
        f"{_m(ph, 'answered_bars') / max(1e-9, _m(tb, 'answered_bars')):.1f} times as often.",
        "",
        f"Morphing {mp['pairs']} pairs of held-out phrases (each paired with one of its "
        f"meter), {MORPH_STEPS} steps: the share of pairs whose middle step lies between "
        "the two sources, per statistic, and whether the first step is nearer the first "
        "source than the second (and the last nearer the second), over all five statistics "
        "scaled by their spread over the held-out phrases.",
        "",
        "| | " + " | ".join(f"midpoint between: {s.replace('_', ' ')}" for s in STATS)
        + " | first step nearer the first | last step nearer the second |",
        "|---|" + "---|" * (len(STATS) + 2),
        f"| phrase model | {between} | {pct(mp['first_nearer_a'])} "
        f"| {pct(mp['last_nearer_b'])} |",
        f"| 2-bar model chained | {between_2} | {pct(mt['first_nearer_a'])} "
        f"| {pct(mt['last_nearer_b'])} |",
        "",
        f"The phrase model's midpoints lie between their sources more often in "
        f"{_names([x for x in STATS if mp[f'between_{x}'] > mt[f'between_{x}']])}, the "
        f"2-bar model's in {_names([x for x in STATS if mp[f'between_{x}'] < mt[f'between_{x}']])}"
        + ("; the 2-bar model's steps stay nearer their sources (eight latents of 64 "
           "numbers keep more of a 16-bar phrase than one of 128)." if
           mt["first_nearer_a"] + mt["last_nearer_b"] > mp["first_nearer_a"] + mp["last_nearer_b"]
           else "; the phrase model's steps stay nearer their sources."),
        "",
        f"Varying each phrase (amount {vp['amount']}, the tool's default): notes kept at "
        f"their onset and pitch {pct(vp['notes_kept'])} (2-bar model "
        f"{pct(vt['notes_kept'])}), onsets kept {pct(vp['onsets_kept'])} "
        f"({pct(vt['onsets_kept'])}), distance moved over the five statistics "
        f"{vp['stats_distance']:.2f} ({vt['stats_distance']:.2f}). A phrase-model variation "
        "keeps the rhythm and the shape, far fewer of the pitches.",
        "",
    ]
