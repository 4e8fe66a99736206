"""compose_music with a 16-bar phrase model beside the melody model: a plain piece of 8
bars or more takes its melody from the phrase model (the recipe names it), a jig keeps
the 2-bar model, a learnt style's or a test's own melody model gets no committed phrase
model, and a phrased piece replays byte for byte. Both models are the real classes with
tiny random weights."""

from __future__ import annotations

import pytest

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.tools.base import Services, ToolContext
from museforge.tools.music_support import phrase_model
from museforge.tools.replay import replay


@pytest.fixture(scope="module")
def tiny_phrase_model():
    torch = pytest.importorskip("torch")
    from museforge.models.music.hvae import PhraseVAE
    from museforge.models.music.numpy_hvae import PhraseConfig
    from museforge.models.music.phrase_model import PhraseVAEModel

    torch.manual_seed(0)
    config = PhraseConfig(embed=8, meter_embed=4, bar_encoder=8, phrase_encoder=8, latent=8,
                          conductor=8, bar_embed=4, decoder=16)
    return PhraseVAEModel(PhraseVAE(config).eval(), {"model": config.to_dict()}, "tiny-phrases")


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def test_plain_pieces_take_their_melody_from_the_phrase_model_and_replay(
        store, me, chat, tiny_melody_model, tiny_phrase_model):
    services = Services(melody=tiny_melody_model, phrases=tiny_phrase_model)
    assistant = Assistant(store, OfflinePlanner(), services=services)
    for text in ("compose a calm piano piece, 16 bars, seed 3", "compose a jig, 16 bars, seed 3"):
        result = assistant.turn(me, chat, text)
        assert all(c.ok for c in result.calls), [c.error for c in result.calls]
    _, plain = store.resolve(me, chat, "#1")
    _, jig = store.resolve(me, chat, "#2")
    assert plain.recipe["phrase_model_revision"] == "tiny-phrases"
    assert plain.recipe["form"] == "A" and plain.recipe["bars"] == 16
    assert "phrase_model" not in jig.recipe
    ctx = ToolContext(store, me, chat, services=services)
    for ref in ("#1", "#2"):
        report = replay(ctx, ref)
        assert report.identical, (ref, report.detail)


def test_a_melody_model_of_its_own_gets_no_committed_phrase_model(store, me, chat,
                                                                   tiny_melody_model):
    ctx = ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))
    assert phrase_model(ctx, tiny_melody_model) is None
