"""Tiny random-weight diffusers pipelines, built from configs in the shape of diffusers'
own ``get_dummy_components()``, saved with ``save_pretrained`` so that the backend loads
them the way it loads real weights (a local folder, or a Hugging Face cache snapshot).

Every builder seeds torch first, so the weights (and so the pixels) are the same on
every run. Images are 64 px: the tiny VAEs downscale by 2, the UNets by 2 more."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Built from a word list the tests' prompts use, so prompts tokenize into real ids
# (a tokenizer that maps every word to <|endoftext|> would still run, silently).
WORDS = ("a red fox in the snow blue sea cat make it snowy painting of castle at night "
         "sunset forest mountain city portrait").split()
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"  # the fake hub cache's commit hash


def write_clip_tokenizer(folder: Path) -> Path:
    """A byte-level BPE vocabulary in CLIP's format (vocab.json + merges.txt): every byte
    alone and word-final, a few merges, and the two special tokens; ids stay < 1000."""
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    vocab_list = chars + [c + "</w>" for c in chars]
    merges: list[str] = []
    for word in WORDS:  # merge each word's first two characters and its last one
        if len(word) >= 3:
            pair = (word[0], word[1])
            merged = "".join(pair)
            if " ".join(pair) not in merges and merged not in vocab_list:
                merges.append(" ".join(pair))
                vocab_list.append(merged)
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(vocab_list)}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return folder


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2 / CLIP's reversible map from bytes to printable characters."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def clip_tokenizer():
    import tempfile

    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_clip_tokenizer(Path(tmp)),
                                                  model_max_length=77, pad_token="!")
    ids = tokenizer("castle")["input_ids"]
    assert len(ids) > 3 and tokenizer.unk_token_id not in ids[1:-1], ids
    return tokenizer


def _text_config(hidden: int = 32, projection: int | None = None):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(bos_token_id=0, eos_token_id=2, hidden_size=hidden,
                          intermediate_size=37, layer_norm_eps=1e-05, num_attention_heads=4,
                          num_hidden_layers=2, pad_token_id=1, vocab_size=1000,
                          projection_dim=projection or hidden)


def _vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                         down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                         up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
                         latent_channels=4, norm_num_groups=32)


def _sd_unet(in_channels: int = 4, cross_attention_dim: int = 32):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
        in_channels=in_channels, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_attention_dim)


def _scheduler():
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012,
                                  beta_schedule="scaled_linear", steps_offset=1,
                                  timestep_spacing="trailing")


def _safety_checker(flag_everything: bool):
    """A real StableDiffusionSafetyChecker with a tiny CLIP vision tower; with
    ``flag_everything`` its concept thresholds are below any cosine, so it flags all."""
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import (
        StableDiffusionSafetyChecker,
    )
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config=_text_config().to_dict(),
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
                       "num_hidden_layers": 2, "image_size": 32, "patch_size": 8},
        projection_dim=32)
    checker = StableDiffusionSafetyChecker(config).eval()
    with torch.no_grad():
        checker.special_care_embeds_weights.fill_(10.0)  # no special-care adjustment
        checker.concept_embeds_weights.fill_(-2.0 if flag_everything else 10.0)
    extractor = CLIPImageProcessor(size={"shortest_edge": 32},
                                   crop_size={"height": 32, "width": 32})
    return checker, extractor


def build_sd(folder: Path, *, pipeline: str = "StableDiffusionPipeline", unet_in_channels: int = 4,
             safety: str | None = None) -> Path:
    """SD text-to-image (4 channels), inpaint (9) or instruct-pix2pix (8); ``safety``:
    None, "pass" (a checker that flags nothing) or "flag" (one that flags everything)."""
    import diffusers
    import torch
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    unet = _sd_unet(unet_in_channels)
    torch.manual_seed(0)
    vae = _vae()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(_text_config()).eval()
    kwargs = {}
    if pipeline != "StableDiffusionInstructPix2PixPipeline" or safety:
        checker, extractor = _safety_checker(safety == "flag") if safety else (None, None)
        kwargs = {"safety_checker": checker, "feature_extractor": extractor,
                  "requires_safety_checker": bool(safety)}
    else:
        kwargs = {"safety_checker": None, "feature_extractor": None,
                  "requires_safety_checker": False}
    pipe = getattr(diffusers, pipeline)(
        unet=unet, vae=vae, text_encoder=text_encoder,
        tokenizer=clip_tokenizer(), scheduler=_scheduler(), **kwargs)
    pipe.save_pretrained(folder)
    return folder


def build_sdxl(folder: Path) -> Path:
    import torch
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
        cross_attention_dim=64)
    torch.manual_seed(0)
    vae = _vae()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(_text_config()).eval()
    torch.manual_seed(0)
    text_encoder_2 = CLIPTextModelWithProjection(_text_config()).eval()
    tokenizer = clip_tokenizer()
    pipe = StableDiffusionXLPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
        tokenizer=tokenizer, tokenizer_2=tokenizer, scheduler=_scheduler())
    pipe.save_pretrained(folder)
    return folder


def build_kandinsky(prior_folder: Path, decoder_folder: Path) -> None:
    import torch
    from diffusers import (
        DDIMScheduler,
        KandinskyV22Pipeline,
        KandinskyV22PriorPipeline,
        PriorTransformer,
        UnCLIPScheduler,
        UNet2DConditionModel,
        VQModel,
    )
    from transformers import (
        CLIPImageProcessor,
        CLIPTextModelWithProjection,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    torch.manual_seed(0)
    prior = PriorTransformer(num_attention_heads=2, attention_head_dim=12, embedding_dim=32,
                             num_layers=1)
    # Zero clip_std makes the prior's output always 0 (see shared/NOTES.md).
    prior.clip_std = torch.nn.Parameter(torch.ones(prior.clip_std.shape))
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, image_size=32, projection_dim=32, intermediate_size=37,
        num_attention_heads=4, num_channels=3, num_hidden_layers=2, patch_size=8)).eval()
    torch.manual_seed(0)
    text_encoder = CLIPTextModelWithProjection(_text_config()).eval()
    KandinskyV22PriorPipeline(
        prior=prior, image_encoder=image_encoder, text_encoder=text_encoder,
        tokenizer=clip_tokenizer(),
        scheduler=UnCLIPScheduler(variance_type="fixed_small_log", prediction_type="sample",
                                  num_train_timesteps=1000, clip_sample=True,
                                  clip_sample_range=10.0),
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                           crop_size={"height": 32, "width": 32}),
    ).save_pretrained(prior_folder)

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        in_channels=4, out_channels=8, addition_embed_type="image",
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn", block_out_channels=(32, 64),
        layers_per_block=1, encoder_hid_dim=32, encoder_hid_dim_type="image_proj",
        cross_attention_dim=32, attention_head_dim=4, resnet_time_scale_shift="scale_shift",
        class_embed_type=None)
    torch.manual_seed(0)
    movq = VQModel(
        block_out_channels=[32, 64], down_block_types=["DownEncoderBlock2D",
                                                       "AttnDownEncoderBlock2D"],
        in_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        norm_type="spatial", num_vq_embeddings=12, out_channels=3,
        up_block_types=["AttnUpDecoderBlock2D", "UpDecoderBlock2D"], vq_embed_dim=4)
    KandinskyV22Pipeline(
        unet=unet, movq=movq,
        scheduler=DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear",
                                beta_start=0.00085, beta_end=0.012, clip_sample=False,
                                set_alpha_to_one=False, steps_offset=1,
                                prediction_type="epsilon", thresholding=False),
    ).save_pretrained(decoder_folder)


def build_latent_upscaler(folder: Path) -> Path:
    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionLatentUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        act_fn="gelu", block_out_channels=(32, 64, 64), layers_per_block=1,
        time_cond_proj_dim=128 + 32,  # noise-level embedding + pooled text
        sample_size=None, in_channels=8, out_channels=5, attention_head_dim=8,
        down_block_types=("KDownBlock2D", "KCrossAttnDownBlock2D", "KCrossAttnDownBlock2D"),
        up_block_types=("KCrossAttnUpBlock2D", "KCrossAttnUpBlock2D", "KUpBlock2D"),
        conv_in_kernel=1, conv_out_kernel=1, mid_block_type=None, cross_attention_dim=32,
        norm_num_groups=None, resnet_time_scale_shift="scale_shift",
        time_embedding_type="fourier", timestep_post_act="gelu")
    torch.manual_seed(0)
    vae = _vae()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(_text_config()).eval()
    StableDiffusionLatentUpscalePipeline(
        unet=unet, vae=vae, text_encoder=text_encoder,
        tokenizer=clip_tokenizer(), scheduler=EulerDiscreteScheduler(),
    ).save_pretrained(folder)
    return folder


def build_taesd(folder: Path) -> Path:
    """A tiny AutoencoderTiny whose latents match the tiny SD VAE (4 channels, /2)."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(0)
    AutoencoderTiny(encoder_block_out_channels=(32, 32), decoder_block_out_channels=(32, 32),
                    num_encoder_blocks=(1, 1), num_decoder_blocks=(1, 1),
                    latent_channels=4).save_pretrained(folder)
    return folder


def hub_snapshot(hub: Path, repo_id: str) -> Path:
    """The folder a model would have in a Hugging Face cache at ``hub``."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(SNAPSHOT)
    return repo / "snapshots" / SNAPSHOT


@dataclass(frozen=True)
class TinyModels:
    sd: Path  # SD text-to-image, no safety checker
    sd_checked: Path  # with a safety checker that flags nothing
    sd_flagging: Path  # with a safety checker that flags everything
    sdxl: Path
    inpaint: Path  # a dedicated inpainting UNet (9 channels)
    taesd: Path
    # A Hugging Face cache holding the Kandinsky 2.2 preset, instruct-pix2pix and the
    # latent upscaler under their real ids (the backend finds helpers by id).
    hub: Path


def build_all(root: Path) -> TinyModels:
    from museforge.models.image.presets import INSTRUCT_PIX2PIX, LATENT_UPSCALER, PRESETS

    hub = root / "hub"
    kandinsky = PRESETS["kandinsky-2.2"]
    build_kandinsky(hub_snapshot(hub, kandinsky.extra_repos[0]),
                    hub_snapshot(hub, kandinsky.repo_id))
    build_sd(hub_snapshot(hub, INSTRUCT_PIX2PIX),
             pipeline="StableDiffusionInstructPix2PixPipeline", unet_in_channels=8)
    build_latent_upscaler(hub_snapshot(hub, LATENT_UPSCALER))
    return TinyModels(
        sd=build_sd(root / "sd"),
        sd_checked=build_sd(root / "sd-checked", safety="pass"),
        sd_flagging=build_sd(root / "sd-flagging", safety="flag"),
        sdxl=build_sdxl(root / "sdxl"),
        inpaint=build_sd(root / "sd-inpaint", pipeline="StableDiffusionInpaintPipeline",
                         unet_in_channels=9),
        taesd=build_taesd(root / "taesd"),
        hub=hub,
    )
