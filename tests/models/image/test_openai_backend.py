"""The OpenAI Images API backend against a real HTTP server on 127.0.0.1 that speaks the
API (images_stub.py): what the client sends (sizes, prompts, the image and the mask),
what comes back, the errors a person can act on, and one picture through the real
``generate_image`` tool into the SQLite store. No request leaves this machine."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from museforge.config import Settings
from museforge.models.image.base import (
    ContentFlagged,
    GenerateRequest,
    GenerationCancelled,
    ImageBackendError,
    RunControl,
)
from museforge.models.image.openai_backend import (
    DALL_E_2,
    DALL_E_3,
    GPT_IMAGE,
    NO_SEED,
    OpenAIImageBackend,
    nearest_size,
)
from museforge.models.media import read_png_text
from museforge.storage.models import Actor, Scope
from museforge.tools.base import Services, ToolContext, ToolError
from museforge.tools.image_support import make_backend
from museforge.tools.image_tools import generate_image

from .images_stub import PALETTE, Answer, ImagesStub, error, hang

KEY = "sk-test-0123456789"


@pytest.fixture
def stub() -> Iterator[ImagesStub]:
    server = ImagesStub()
    yield server
    server.close()


def backend(stub: ImagesStub, model: str = "gpt-image-1", **kw) -> OpenAIImageBackend:
    kw.setdefault("retries", 0)
    kw.setdefault("timeout", 10.0)
    return OpenAIImageBackend(stub.url, KEY, model=model, **kw)


def picture(size=(96, 64)) -> Image.Image:
    """A picture whose every pixel differs from the stub's solid colours."""
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    arr = np.stack([np.tile(x, (size[1], 1))] * 3, axis=-1)
    arr[..., 2] = 7
    return Image.fromarray(arr, "RGB")


def png_of(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.copy()


def test_the_nearest_supported_size_is_sent():
    assert nearest_size(512, 512, GPT_IMAGE.sizes) == (1024, 1024)
    assert nearest_size(768, 512, GPT_IMAGE.sizes) == (1536, 1024)
    assert nearest_size(1024, 576, GPT_IMAGE.sizes) == (1536, 1024)  # 16:9
    assert nearest_size(576, 1024, GPT_IMAGE.sizes) == (1024, 1536)
    assert nearest_size(1024, 576, DALL_E_3.sizes) == (1792, 1024)
    assert nearest_size(300, 200, DALL_E_2.sizes) == (256, 256)
    assert nearest_size(600, 600, DALL_E_2.sizes) == (512, 512)


def test_generate_two_pictures_in_one_request(stub):
    req = GenerateRequest(prompt="a fox in the snow", negative_prompt="text, watermark",
                          width=768, height=512, seed=41, count=2, style="watercolor")
    steps = []
    result = backend(stub).generate(req, RunControl(progress=lambda i, n: steps.append((i, n))))

    assert len(stub.requests) == 1
    sent = stub.requests[0]
    assert sent.path == "/v1/images/generations"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.fields["model"] == "gpt-image-1" and sent.fields["n"] == 2
    assert sent.fields["size"] == "1536x1024"
    assert sent.fields["prompt"].startswith("a fox in the snow, watercolor painting")
    assert sent.fields["prompt"].endswith("Avoid: text, watermark")
    assert sent.fields["output_format"] == "png" and "response_format" not in sent.fields
    assert [im.size for im in result.images] == [(1536, 1024)] * 2
    assert [im.getpixel((5, 5)) for im in result.images] == PALETTE[:2]
    assert result.seeds == [41, 42] and result.flagged == [False, False]
    recipe = result.recipe
    assert recipe["backend"] == "openai" and recipe["model"] == "gpt-image-1"
    assert recipe["size_asked"] == [768, 512] and recipe["size_sent"] == "1536x1024"
    assert recipe["base_url"] == stub.url and recipe["prompt"] == "a fox in the snow"
    assert NO_SEED in recipe["notes"]
    assert any("768×512 was asked" in note and "1536×1024" in note for note in recipe["notes"])
    assert steps == [(0, 1), (1, 1)]
    json.dumps(recipe)  # the store keeps it as JSON


def test_dall_e_3_makes_one_picture_per_request(stub):
    stub.script(Answer(revised_prompt="A detailed lighthouse at dusk"))
    result = backend(stub, "dall-e-3").generate(
        GenerateRequest(prompt="a lighthouse", width=1024, height=576, count=3))
    assert len(result.images) == 3 and len(stub.requests) == 3
    assert all(r.fields["n"] == 1 and r.fields["response_format"] == "b64_json"
               and r.fields["size"] == "1792x1024" for r in stub.requests)
    assert result.recipe["revised_prompts"] == ["A detailed lighthouse at dusk"]


def test_edit_sends_the_picture_and_the_instruction(stub):
    source = picture()
    req = GenerateRequest(prompt="a hill at noon", width=96, height=64, seed=3)
    result = backend(stub).edit(source, "make it snowy", req, strength=0.6)

    sent = stub.requests[0]
    assert sent.path == "/v1/images/edits"
    assert sent.fields["prompt"] == "make it snowy" and sent.fields["model"] == "gpt-image-1"
    assert sent.fields["size"] == "1536x1024" and "mask" not in sent.files
    assert np.array_equal(np.asarray(png_of(sent.files["image"])), np.asarray(source))
    assert result.images[0].size == (96, 64)  # back to the picture's size
    assert result.images[0].getpixel((10, 10)) == PALETTE[0]
    assert result.recipe["prompt"] == "a hill at noon, make it snowy"
    notes = " ".join(result.recipe["notes"])
    assert "no strength" in notes and "resized" in notes and NO_SEED in notes


def test_inpaint_mask_is_transparent_where_ours_is_white(stub):
    source = picture()
    mask = Image.new("L", source.size, 0)
    mask.paste(255, (0, 0, 48, 64))  # the left half
    req = GenerateRequest(prompt="a red moon", width=96, height=64)
    result = backend(stub).inpaint(source, mask, req)

    sent = stub.requests[0]
    api_mask = png_of(sent.files["mask"])
    assert api_mask.mode == "RGBA" and api_mask.size == source.size
    alpha = np.asarray(api_mask.getchannel("A"))
    assert (alpha[:, :48] == 0).all() and (alpha[:, 48:] == 255).all()
    assert sent.fields["prompt"] == "a red moon"
    out = np.asarray(result.images[0])
    assert (out[:, :48] == PALETTE[0]).all()  # painted by the API
    assert np.array_equal(out[:, 48:], np.asarray(source)[:, 48:])  # kept


def test_img2img_turns_strength_into_words(stub):
    b = backend(stub)
    req = GenerateRequest(prompt="a castle", width=96, height=64, count=2, style="oil")
    gentle = b.img2img(picture(), req, 0.3)
    strong = b.img2img(picture(), req, 0.8)
    first, second = (r.fields for r in stub.requests)
    assert first["n"] == "2" and "Keep this picture's composition" in first["prompt"]
    assert "Re-imagine this picture freely" in second["prompt"]
    assert "a castle, oil painting" in first["prompt"]
    assert len(gentle.images) == 2 and gentle.seeds == [0, 1]
    assert gentle.recipe["strength"] == 0.3 and strong.recipe["mode"] == "img2img"
    assert any("no strength" in note for note in gentle.recipe["notes"])


def test_upscale_is_local(stub):
    result = backend(stub).upscale(picture(), 2, GenerateRequest(prompt="x", seed=5))
    assert stub.requests == []
    assert result.images[0].size == (192, 128) and result.seeds == [5]
    assert "Lanczos" in result.recipe["notes"][0]


@pytest.mark.parametrize("code", ["content_policy_violation", "moderation_blocked"])
def test_a_refused_prompt_is_flagged_content(stub, code):
    stub.script(error(400, code, "Your request was rejected by the safety system."))
    with pytest.raises(ContentFlagged, match="rejected by the safety system"):
        backend(stub).generate(GenerateRequest(prompt="something"))


def test_a_refused_key_is_a_clear_error(stub):
    stub.script(error(401, "invalid_api_key", f"Incorrect API key provided: {KEY}"))
    with pytest.raises(ImageBackendError, match=r"refused the key \(401\)") as caught:
        backend(stub).generate(GenerateRequest(prompt="a cat"))
    assert KEY not in str(caught.value) and "MUSEFORGE_IMAGE_API_KEY" in str(caught.value)


def test_rate_limits_are_retried_then_said(stub):
    stub.script(*[error(429, "rate_limit_exceeded", "Rate limit reached", retry_after_ms="5")
                  for _ in range(2)])
    with pytest.raises(ImageBackendError, match=r"rate-limiting this key \(429\) after 1 "):
        backend(stub, retries=1).generate(GenerateRequest(prompt="a cat"))
    assert len(stub.requests) == 2


def test_other_refusals_carry_the_api_message(stub):
    stub.script(error(400, "invalid_value", "Invalid size '1x1'."))
    with pytest.raises(ImageBackendError, match=r"refused the request \(400\): Invalid size"):
        backend(stub).generate(GenerateRequest(prompt="a cat"))


def test_an_unreachable_server_is_named_without_credentials():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = OpenAIImageBackend(f"http://user:s3cret@127.0.0.1:{port}/v1?token=s3cret", KEY,
                           retries=0, timeout=5)
    with pytest.raises(ImageBackendError) as caught:
        b.generate(GenerateRequest(prompt="a cat"))
    text = str(caught.value)
    assert text.startswith(f"cannot reach the image API at http://127.0.0.1:{port}/v1")
    assert "s3cret" not in text and "user" not in text


def test_a_silent_server_times_out(stub):
    stub.script(hang(10))
    with pytest.raises(ImageBackendError, match="did not answer within 0.3 s"):
        backend(stub, timeout=0.3).generate(GenerateRequest(prompt="a cat"))


def test_cancellation_is_checked_before_and_after_the_request(stub):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(GenerationCancelled):
        backend(stub).generate(GenerateRequest(prompt="a cat"), RunControl(cancel=cancel))
    assert stub.requests == []
    cancel.clear()
    run = RunControl(progress=lambda i, n: cancel.set(), cancel=cancel)  # while it paints
    with pytest.raises(GenerationCancelled):
        backend(stub).generate(GenerateRequest(prompt="a cat"), run)
    assert len(stub.requests) == 1


def test_dall_e_3_cannot_edit_and_a_missing_key_is_said(stub):
    with pytest.raises(ImageBackendError, match="dall-e-3 cannot edit"):
        backend(stub, "dall-e-3").edit(picture(), "make it blue", GenerateRequest(prompt="x"),
                                       0.5)
    with pytest.raises(ImageBackendError, match="needs an API key"):
        OpenAIImageBackend(stub.url, None).generate(GenerateRequest(prompt="x"))
    assert stub.requests == []


def test_settings_choose_the_server_model_and_key(stub, monkeypatch):
    monkeypatch.setenv("MUSEFORGE_IMAGE_BACKEND", "openai")
    monkeypatch.setenv("MUSEFORGE_IMAGE_API_BASE_URL", stub.url)
    monkeypatch.setenv("MUSEFORGE_IMAGE_API_MODEL", "dall-e-2")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    made, note = make_backend(Settings())
    assert isinstance(made, OpenAIImageBackend) and note is None
    assert made.model == "dall-e-2" and made.retries == 2
    made.generate(GenerateRequest(prompt="a cat", width=512, height=512))
    assert stub.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert stub.requests[0].fields["size"] == "512x512"


def test_generate_image_tool_stores_the_api_picture(stub, sqlite_store):
    me = Actor(sqlite_store.local_user())
    chat = sqlite_store.session(me, Scope.local("studio"))
    ctx = ToolContext(sqlite_store, me, chat, services=Services(image=backend(stub)))
    result = generate_image.run(ctx, {"prompt": "a lighthouse at dusk", "aspect": "16:9",
                                      "style": "oil", "seed": 7})

    (made,) = result.artifacts
    data = made.files["png"].read_bytes()
    assert png_of(data).size == (1536, 1024)
    recipe = json.loads(read_png_text(data)["museforge"])
    assert recipe["backend"]["backend"] == "openai"
    assert recipe["backend"]["size_asked"] == [1368, 768]  # 16:9 at 1024² pixels
    assert "Model: gpt-image-1" in read_png_text(data)["parameters"]
    assert "not reproducible" in result.message
    assert "a lighthouse at dusk, oil painting" in stub.requests[0].fields["prompt"]

    stub.script(error(400, "moderation_blocked", "Rejected by the safety system."))
    with pytest.raises(ToolError, match="flagged"):
        generate_image.run(ctx, {"prompt": "something refused"})
    assert len(sqlite_store.recent_artworks(me, chat, 10, kind="image")) == 1
