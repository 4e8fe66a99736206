"""Fixtures for the tool tests: a tiny random-weight melody model (the real MelodyVAE
class with small layers), so music tools run fast without the committed weights."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_melody_model():
    import torch

    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.vae import MelodyVAE, VAEConfig

    torch.manual_seed(0)
    config = VAEConfig(embed=8, meter_embed=4, encoder=16, decoder=16, latent=8)
    net = MelodyVAE(config)
    net.eval()
    return MelodyVAEModel(net, {"model": config.to_dict()}, "tiny-random")


@pytest.fixture
def me(store):
    """The local user (``store`` is the root fixture, or a module's own)."""
    from museforge.storage.models import Actor

    return Actor(store.local_user())


@pytest.fixture
def chat(store, me):
    from museforge.storage.models import Scope

    return store.session(me, Scope.local("studio"))
