"""The MusicVAE-style network (PyTorch): a bidirectional LSTM encoder to a latent z, an
autoregressive LSTM decoder, both conditioned on the meter.

Imported only to train or evaluate the model, or to run it on torch on request (torch is
heavy): the run-time model (``model.py``) uses ``numpy_vae.NumpyMelodyVAE``, the same ops
in numpy on the same weights, and imports this module only for ``backend="torch"``."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from museforge.models.music.checkpoint import VAEConfig
from museforge.models.music.data import (
    N_METERS,
    N_POSITION_FEATURES,
    NOTE_OFF,
    position_features,
)

__all__ = ["MelodyVAE", "VAEConfig"]


class MelodyVAE(nn.Module):
    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab, c.embed)
        self.meter = nn.Embedding(N_METERS, c.meter_embed)
        cond = N_POSITION_FEATURES + c.meter_embed
        self.encoder = nn.LSTM(c.embed + cond, c.encoder, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * c.encoder, 2 * c.latent)
        self.to_state = nn.Linear(c.latent + c.meter_embed, 2 * c.decoder_layers * c.decoder)
        self.decoder = nn.LSTM(c.embed + c.latent + cond, c.decoder,
                               num_layers=c.decoder_layers, batch_first=True)
        self.out = nn.Linear(c.decoder, c.vocab)
        self._positions: dict[tuple[int, str], torch.Tensor] = {}

    # -- conditioning
    def _cond(self, meter: int, batch: int, steps: int | None = None) -> torch.Tensor:
        key = (meter, str(self.embed.weight.device))
        if key not in self._positions:
            self._positions[key] = torch.from_numpy(position_features(meter)).to(
                self.embed.weight.device)
        pos = self._positions[key]
        if steps is not None:
            pos = pos[:steps]
        m = self.meter.weight[meter].expand(pos.shape[0], -1)
        return torch.cat([pos, m], dim=1).unsqueeze(0).expand(batch, -1, -1)

    # -- encoder
    def encode(self, tokens: torch.Tensor, meter: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of windows ``tokens`` ``[batch, steps]`` of one meter."""
        x = torch.cat([self.embed(tokens), self._cond(meter, tokens.shape[0])], dim=2)
        _, (h, _) = self.encoder(x)
        mu, logvar = self.to_latent(torch.cat([h[0], h[1]], dim=1)).chunk(2, dim=1)
        return mu, logvar

    # -- decoder
    def _initial_state(self, z: torch.Tensor, meter: int) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        m = self.meter.weight[meter].expand(z.shape[0], -1)
        state = torch.tanh(self.to_state(torch.cat([z, m], dim=1)))
        state = state.view(z.shape[0], 2, c.decoder_layers, c.decoder).permute(1, 2, 0, 3)
        return state[0].contiguous(), state[1].contiguous()

    def logits(self, z: torch.Tensor, tokens: torch.Tensor, meter: int) -> torch.Tensor:
        """Teacher-forced logits ``[batch, steps, vocab]``: step t sees tokens < t."""
        batch, steps = tokens.shape
        previous = torch.cat([torch.full_like(tokens[:, :1], NOTE_OFF), tokens[:, :-1]], dim=1)
        x = torch.cat([self.embed(previous), z.unsqueeze(1).expand(-1, steps, -1),
                       self._cond(meter, batch)], dim=2)
        y, _ = self.decoder(x, self._initial_state(z, meter))
        return self.out(y)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, meter: int, steps: int, *, temperature: float = 0.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Tokens ``[batch, steps]`` decoded one step at a time (temperature 0: greedy)."""
        batch = z.shape[0]
        cond = self._cond(meter, batch)
        state = self._initial_state(z, meter)
        token = torch.full((batch,), NOTE_OFF, dtype=torch.long, device=z.device)
        out = torch.empty(batch, steps, dtype=torch.long, device=z.device)
        for t in range(steps):
            x = torch.cat([self.embed(token), z, cond[:, t]], dim=1).unsqueeze(1)
            y, state = self.decoder(x, state)
            logits = self.out(y[:, 0])
            if temperature <= 0:
                token = logits.argmax(dim=1)
            else:
                probs = F.softmax(logits / temperature, dim=1)
                token = torch.multinomial(probs, 1, generator=generator)[:, 0]
            out[:, t] = token
        return out

    def loss(self, tokens: torch.Tensor, meter: int, *, beta: float, free_nats: float,
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The ELBO's two terms per window, with KL below ``free_nats`` not penalised."""
        mu, logvar = self.encode(tokens, meter)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + eps * torch.exp(0.5 * logvar)
        logits = self.logits(z, tokens, meter)
        recon = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        total = recon + beta * torch.clamp(kl - free_nats, min=0)
        accuracy = (logits.argmax(2) == tokens).float().mean()
        return {"loss": total.mean(), "recon": recon.mean(), "kl": kl.mean(),
                "accuracy": accuracy}
