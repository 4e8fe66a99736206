"""The 16-bar hierarchical melody VAE (PyTorch), MusicVAE's hierarchical model at the
size one CPU thread trains in half an hour: an encoder over the 16 bars to a latent z, a
conductor LSTM that turns z into one embedding per bar, and a bar decoder LSTM, started
afresh at every bar from its embedding, that writes the bar's sixteenth steps fed the
bar's embedding, the previous token and the step's metrical features.

The encoder is hierarchical too (a bidirectional LSTM over each bar's steps, then one
over the 16 bar vectors): the same information reaches z as through one LSTM over 256
steps, and 16 + 16 recurrent steps train several times faster on a CPU than 256 do.
Because the bar decoder restarts at each bar, teacher-forced training runs all bars of
a batch as one batch of 16-step sequences.

Imported only to train or evaluate (torch is heavy): the run time uses
``numpy_hvae.NumpyPhraseVAE``, the same ops in numpy on the same weights."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from museforge.models.music.data import N_METERS, NOTE_OFF, STEPS_PER_BAR
from museforge.models.music.numpy_hvae import PhraseConfig
from museforge.models.music.phrase_data import (
    N_BAR_FEATURES,
    N_STEP_FEATURES,
    PHRASE_BARS,
    bar_features,
    step_features,
)

__all__ = ["PhraseConfig", "PhraseVAE"]


class PhraseVAE(nn.Module):
    def __init__(self, config: PhraseConfig) -> None:
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab, c.embed)
        self.meter = nn.Embedding(N_METERS, c.meter_embed)
        step_in = N_STEP_FEATURES + c.meter_embed
        bar_in = N_BAR_FEATURES + c.meter_embed
        self.bar_encoder = nn.LSTM(c.embed + step_in, c.bar_encoder, batch_first=True,
                                   bidirectional=True)
        self.phrase_encoder = nn.LSTM(2 * c.bar_encoder + bar_in, c.phrase_encoder,
                                      batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * c.phrase_encoder, 2 * c.latent)
        self.to_conductor = nn.Linear(c.latent + c.meter_embed, 2 * c.conductor)
        self.conductor = nn.LSTM(c.latent + bar_in, c.conductor, batch_first=True)
        self.to_bar_state = nn.Linear(c.conductor, 2 * c.decoder)
        self.to_bar_embed = nn.Linear(c.conductor, c.bar_embed)
        self.decoder = nn.LSTM(c.embed + c.bar_embed + step_in, c.decoder, batch_first=True)
        self.out = nn.Linear(c.decoder, c.vocab)
        self._features: dict[tuple[int, str], tuple[torch.Tensor, torch.Tensor]] = {}

    # -- conditioning
    def _cond(self, meter: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``([steps_per_bar, step_in], [16, bar_in])`` for ``meter``."""
        device = self.embed.weight.device
        key = (meter, str(device))
        if key not in self._features:
            self._features[key] = (torch.from_numpy(step_features(meter)).to(device),
                                   torch.from_numpy(bar_features()).to(device))
        steps, bars = self._features[key]
        m = self.meter.weight[meter]
        return (torch.cat([steps, m.expand(steps.shape[0], -1)], dim=1),
                torch.cat([bars, m.expand(bars.shape[0], -1)], dim=1))

    # -- encoder
    def encode(self, tokens: torch.Tensor, meter: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of 16-bar windows ``tokens`` ``[batch, 16 * steps_per_bar]``."""
        batch = tokens.shape[0]
        bar = STEPS_PER_BAR[meter]
        step_cond, bar_cond = self._cond(meter)
        x = torch.cat([self.embed(tokens.reshape(batch * PHRASE_BARS, bar)),
                       step_cond.expand(batch * PHRASE_BARS, -1, -1)], dim=2)
        _, (h, _) = self.bar_encoder(x)
        bars = torch.cat([h[0], h[1]], dim=1).reshape(batch, PHRASE_BARS, -1)
        x = torch.cat([bars, bar_cond.expand(batch, -1, -1)], dim=2)
        _, (h, _) = self.phrase_encoder(x)
        mu, logvar = self.to_latent(torch.cat([h[0], h[1]], dim=1)).chunk(2, dim=1)
        return mu, logvar

    # -- decoder
    def conduct(self, z: torch.Tensor, meter: int) -> torch.Tensor:
        """The conductor's output per bar, ``[batch, 16, conductor]``."""
        batch = z.shape[0]
        _, bar_cond = self._cond(meter)
        m = self.meter.weight[meter].expand(batch, -1)
        h0, c0 = torch.tanh(self.to_conductor(torch.cat([z, m], dim=1))).chunk(2, dim=1)
        x = torch.cat([z.unsqueeze(1).expand(-1, PHRASE_BARS, -1),
                       bar_cond.expand(batch, -1, -1)], dim=2)
        y, _ = self.conductor(x, (h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()))
        return y  # type: ignore[no-any-return]

    def _bar_inputs(self, conducted: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                            torch.Tensor]:
        """From the conductor's outputs: the bar decoder's initial ``(h, c)`` and the bar
        embedding fed at every step, each ``[batch, 16, ...]``."""
        h, c = torch.tanh(self.to_bar_state(conducted)).chunk(2, dim=2)
        return h, c, self.to_bar_embed(conducted)

    def logits(self, z: torch.Tensor, tokens: torch.Tensor, meter: int) -> torch.Tensor:
        """Teacher-forced logits ``[batch, steps, vocab]``: step t sees tokens < t (the
        previous token at a bar's first step is the last of the bar before)."""
        batch, steps = tokens.shape
        bar = STEPS_PER_BAR[meter]
        step_cond, _ = self._cond(meter)
        h, c, embed = self._bar_inputs(self.conduct(z, meter))
        previous = torch.cat([torch.full_like(tokens[:, :1], NOTE_OFF), tokens[:, :-1]], dim=1)
        n = batch * PHRASE_BARS
        x = torch.cat([self.embed(previous.reshape(n, bar)),
                       embed.reshape(n, 1, -1).expand(-1, bar, -1),
                       step_cond.expand(n, -1, -1)], dim=2)
        y, _ = self.decoder(x, (h.reshape(1, n, -1).contiguous(),
                                c.reshape(1, n, -1).contiguous()))
        return self.out(y).reshape(batch, steps, -1)  # type: ignore[no-any-return]

    @torch.no_grad()
    def generate(self, z: torch.Tensor, meter: int, *, temperature: float = 0.0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Tokens ``[batch, 16 * steps_per_bar]``, one step at a time (temperature 0:
        greedy), each bar's decoder started from its conductor embedding."""
        batch = z.shape[0]
        bar = STEPS_PER_BAR[meter]
        step_cond, _ = self._cond(meter)
        h_all, c_all, embed = self._bar_inputs(self.conduct(z, meter))
        token = torch.full((batch,), NOTE_OFF, dtype=torch.long, device=z.device)
        out = torch.empty(batch, PHRASE_BARS * bar, dtype=torch.long, device=z.device)
        for b in range(PHRASE_BARS):
            state = (h_all[:, b].unsqueeze(0).contiguous(), c_all[:, b].unsqueeze(0).contiguous())
            for t in range(bar):
                x = torch.cat([self.embed(token), embed[:, b],
                               step_cond[t].expand(batch, -1)], dim=1).unsqueeze(1)
                y, state = self.decoder(x, state)
                logits = self.out(y[:, 0])
                if temperature <= 0:
                    token = logits.argmax(dim=1)
                else:
                    probs = F.softmax(logits / temperature, dim=1)
                    token = torch.multinomial(probs, 1, generator=generator)[:, 0]
                out[:, b * bar + t] = token
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
