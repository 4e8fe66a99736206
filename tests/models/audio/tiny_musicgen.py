"""A tiny random-weight MusicGen (and MusicGen-melody), built from small sub-configs the
way transformers' own tests build theirs, with a T5 tokenizer written locally (a Unigram
vocabulary of a few words): saved to a folder it loads from with ``local_files_only``."""

from __future__ import annotations

from pathlib import Path

WORDS = ("a calm piano piece with soft drums jazz rock lofi beat guitar ambient synth fast "
         "slow happy sad full band recording of in major minor bpm").split()
SAMPLING_RATE = 8000  # 8000 / (8*5*4*4) = 12.5 codec frames a second: few steps per clip


def tiny_tokenizer():
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [("▁" + w, -float(i + 3)) for i, w in enumerate(WORDS)]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def save_tiny_musicgen(folder: Path, *, melody: bool = False, seed: int = 0) -> Path:
    import torch
    from transformers import (
        EncodecConfig,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyForConditionalGeneration,
        T5Config,
    )

    torch.manual_seed(seed)
    tokenizer = tiny_tokenizer()
    text = T5Config(vocab_size=len(tokenizer), d_model=16, d_ff=32, num_layers=1, num_heads=2,
                    d_kv=8, decoder_start_token_id=0)
    audio = EncodecConfig(sampling_rate=SAMPLING_RATE, audio_channels=1, hidden_size=16,
                          num_filters=4, num_residual_layers=1, upsampling_ratios=[8, 5, 4, 4],
                          codebook_size=32, codebook_dim=16, target_bandwidths=[0.25],
                          num_lstm_layers=1)
    codebooks = 2
    decoder_cls = MusicgenMelodyDecoderConfig if melody else MusicgenDecoderConfig
    decoder = decoder_cls(vocab_size=32, hidden_size=16, num_hidden_layers=1,
                          num_attention_heads=2, ffn_dim=32, num_codebooks=codebooks,
                          pad_token_id=32, bos_token_id=32, max_position_embeddings=512)
    if melody:
        config = MusicgenMelodyConfig(text_encoder=text, audio_encoder=audio, decoder=decoder,
                                      num_chroma=12, chroma_length=64)
        model = MusicgenMelodyForConditionalGeneration(config)
    else:
        config = MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder)
        model = MusicgenForConditionalGeneration(config)
    # Encodec's codebooks are buffers that start at zero (real weights fill them): random
    # ones make each code sound different, so a seed or a prompt changes the samples.
    for layer in model.audio_encoder.quantizer.layers:
        layer.codebook.embed.normal_()
    # At the usual 0.02 init the conditions (the text through cross-attention, the chroma
    # prefix) barely move the logits: louder attention and output layers make the prompt
    # and the melody conditions the samples show.
    with torch.no_grad():
        if melody:
            model.audio_enc_to_dec_proj.weight.normal_(0, 1.0)
        for layer in model.decoder.model.decoder.layers:
            for attention in (layer.self_attn, getattr(layer, "encoder_attn", None)):
                if attention is None:
                    continue
                for proj in (attention.q_proj, attention.k_proj, attention.v_proj,
                             attention.out_proj):
                    proj.weight.normal_(0, 0.5)
        for head in model.decoder.lm_heads:
            head.weight.mul_(30)
    model.generation_config.pad_token_id = 32
    model.generation_config.decoder_start_token_id = 32
    model.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
