"""An audio clip in the web chat in a real headless Chromium (skipped without one, like
the other browser tests): an attached WAV becomes a card with a player the browser can
load, the waveform-and-spectrogram picture, WAV and OGG downloads and the clip's buttons;
pressing Fade out makes v2 and the version tree's head moves."""

from __future__ import annotations

import base64
import io

import numpy as np
import soundfile
from test_web_browser import browser_page, server_url  # noqa: F401  (fixtures)

RATE = 22050
AUDIO_LABELS = ["Fade in", "Fade out", "Louder", "Quieter", "Loop to 30 s", "Undo"]


def tone(seconds: float = 2.0) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    buf = io.BytesIO()
    soundfile.write(buf, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE,
                    format="WAV")
    return buf.getvalue()


def test_an_attached_recording_is_a_card_with_a_player_its_picture_and_buttons(
        browser_page, server_url):  # noqa: F811
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")

    page.set_input_files("#file", files=[{"name": "rain.wav", "mimeType": "audio/wav",
                                          "buffer": tone()}])
    page.locator("#attachments .chip button").wait_for()
    page.click("#send")

    card = page.locator("#messages .message.assistant:not(.pending) figure.card.audio")
    card.wait_for()
    player = card.locator("audio[controls]")
    assert player.get_attribute("src").endswith("/versions/1/files/ogg")
    page.wait_for_function("() => { const i = document.querySelector('figure.card.audio "
                           "img.wave'); return i && i.complete && i.naturalWidth > 0; }")
    assert card.locator("img.wave").evaluate("i => i.naturalWidth") == 800
    downloads = card.locator("a.download")
    assert downloads.all_inner_texts() == ["↓ WAV", "↓ OGG"]
    assert [downloads.nth(i).get_attribute("href").rsplit("/", 1)[-1] for i in (0, 1)] == [
        "wav", "ogg"]
    assert card.locator("button.action").all_inner_texts() == AUDIO_LABELS
    # The browser decodes the OGG the player points at.
    seconds = player.evaluate("""a => new Promise((ok, bad) => {
        a.addEventListener('loadedmetadata', () => ok(a.duration), { once: true });
        a.addEventListener('error', () => bad(new Error('the player could not load it')));
        a.preload = 'auto'; a.load(); })""")
    assert abs(seconds - 2.0) < 0.1

    card.locator("button.action", has_text="Fade out").click()
    page.locator("#tree .version.head[data-version='2']").wait_for()
    assert page.locator("#messages .message.user").last.inner_text() == "fade out #1 v1"
    newest = page.locator("#messages figure.card.audio").last
    assert newest.get_attribute("data-version") == "2"
    # The WAV link serves the lossless file the edits read.
    wav = newest.locator("a.download", has_text="WAV").get_attribute("href")
    fetched = page.evaluate("async u => { const r = await fetch(u); "
                            "return [r.headers.get('content-type'), "
                            "btoa(String.fromCharCode(...new Uint8Array(await r.arrayBuffer())"
                            ".slice(0, 4)))]; }", wav)
    assert fetched == ["audio/wav", base64.b64encode(b"RIFF").decode()]
    assert problems == []
