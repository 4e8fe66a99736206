"""A tiny random-weight Stable Audio Open pipeline (diffusers' ``StableAudioPipeline``),
built from the small configs of diffusers' own test (``get_dummy_components`` in
tests/pipelines/stable_audio/test_stable_audio.py) at an 8 kHz rate, with the local T5
tokenizer of tiny_musicgen (no hub): saved with ``save_pretrained`` to a folder that loads
with ``local_files_only``. The scheduler is Stable Audio Open's own
(``CosineDPMSolverMultistepScheduler``, an SDE solver whose Brownian noise torchsde draws,
seeded from the generator)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SAMPLING_RATE = 8000
HOP = 2 * 4 * 4 * 5  # the VAE's downsampling: 160 samples a latent frame
LONGEST_S = 2.0  # sample_size latent frames × HOP ÷ rate


def _tokenizer():
    path = Path(__file__).with_name("tiny_musicgen.py")
    spec = importlib.util.spec_from_file_location("tiny_musicgen_for_stable_audio", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tokenizer = module.tiny_tokenizer()
    tokenizer.model_max_length = 16
    return tokenizer


def save_tiny_stable_audio(folder: Path, *, seed: int = 0) -> Path:
    import warnings

    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = _tokenizer()
    torch.manual_seed(seed)
    transformer = StableAudioDiTModel(
        sample_size=int(LONGEST_S * SAMPLING_RATE / HOP), in_channels=3, num_layers=2,
        attention_head_dim=4, num_key_value_attention_heads=2, out_channels=3,
        cross_attention_dim=4, time_proj_dim=8, global_states_input_dim=8,
        cross_attention_input_dim=4)
    scheduler = CosineDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
        sigma_schedule="exponential")
    with warnings.catch_warnings():  # Oobleck builds its layers with torch's older weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        vae = AutoencoderOobleck(encoder_hidden_size=6, downsampling_ratios=[2, 4, 4, 5],
                                 decoder_channels=3, decoder_input_channels=3,
                                 audio_channels=2, channel_multiples=[1, 2, 2, 4],
                                 sampling_rate=SAMPLING_RATE)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=16, d_ff=32,
                                           num_layers=1, num_heads=2, d_kv=8))
    projection = StableAudioProjectionModel(text_encoder_dim=16, conditioning_dim=4,
                                            min_value=0, max_value=32)
    pipe = StableAudioPipeline(transformer=transformer, scheduler=scheduler, vae=vae,
                               text_encoder=text_encoder, tokenizer=tokenizer,
                               projection_model=projection)
    pipe.save_pretrained(folder)
    return folder
