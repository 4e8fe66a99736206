"""A tiny random-weight ACE-Step 1.5 pipeline (diffusers' ``AceStepPipeline``), built from
the small configs of diffusers' own test (``get_dummy_components`` in
tests/pipelines/ace_step/test_ace_step.py) at an 8 kHz rate. Its text encoder is a tiny
Qwen3 and its tokenizer a word-level fast tokenizer written locally with the
``tokenizers`` library (the real one is Qwen3's BPE, from the hub): saved with
``save_pretrained`` to a folder that loads with ``local_files_only``."""

from __future__ import annotations

from pathlib import Path

SAMPLING_RATE = 8000
HOP = 2 * 4 * 4 * 5  # the VAE's downsampling: 160 samples a latent frame, 50 a second
WORDS = ("a calm piano piece with soft drums jazz rock lofi beat guitar ambient synth fast "
         "slow happy sad rain wind on tin roof song verse chorus instruction caption metas "
         "fill the audio semantic mask based given conditions bpm keyscale timesignature "
         "duration seconds en lyrics language").split()


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<unk>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    model = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    model.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    return PreTrainedTokenizerFast(tokenizer_object=model, unk_token="<unk>",
                                   pad_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   model_max_length=256)


def save_tiny_ace_step(folder: Path, *, seed: int = 0) -> Path:
    import warnings

    import torch
    from diffusers import AutoencoderOobleck, FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import (
        AceStepAudioTokenDetokenizer,
        AceStepAudioTokenizer,
        AceStepConditionEncoder,
        AceStepPipeline,
    )
    from transformers import Qwen3Config, Qwen3Model

    tokenizer = tiny_tokenizer()
    shared = dict(num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                  rope_theta=10000.0, sliding_window=16)
    torch.manual_seed(seed)
    transformer = AceStepTransformer1DModel(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, in_channels=24,
        audio_acoustic_hidden_dim=8, patch_size=2, **shared)
    text_encoder = Qwen3Model(Qwen3Config(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, vocab_size=len(tokenizer),
        max_position_embeddings=256))
    condition_encoder = AceStepConditionEncoder(
        hidden_size=32, intermediate_size=64, text_hidden_dim=32, timbre_hidden_dim=8,
        num_lyric_encoder_hidden_layers=2, num_timbre_encoder_hidden_layers=2, **shared)
    audio_tokenizer = AceStepAudioTokenizer(
        hidden_size=32, intermediate_size=64, audio_acoustic_hidden_dim=8, pool_window_size=2,
        fsq_dim=32, fsq_input_levels=[4, 4, 4], fsq_input_num_quantizers=1,
        num_attention_pooler_hidden_layers=1, **shared)
    detokenizer = AceStepAudioTokenDetokenizer(
        hidden_size=32, intermediate_size=64, audio_acoustic_hidden_dim=8, pool_window_size=2,
        num_attention_pooler_hidden_layers=1, **shared)
    with warnings.catch_warnings():  # Oobleck builds its layers with torch's older weight_norm
        warnings.simplefilter("ignore", FutureWarning)
        vae = AutoencoderOobleck(encoder_hidden_size=6, downsampling_ratios=[2, 4, 4, 5],
                                 decoder_channels=3, decoder_input_channels=8,
                                 audio_channels=2, channel_multiples=[1, 2, 2, 4],
                                 sampling_rate=SAMPLING_RATE)
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0)
    pipe = AceStepPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                           transformer=transformer, condition_encoder=condition_encoder,
                           scheduler=scheduler, audio_tokenizer=audio_tokenizer,
                           audio_token_detokenizer=detokenizer)
    pipe.save_pretrained(folder)
    return folder
