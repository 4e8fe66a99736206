"""The web chat end to end in a real headless Chromium (Debian's ``chromium`` driven by
Playwright): type a request, see the picture, edit it, press undo, see the version tree's
head move; user text stays text. With MUSEFORGE_SCREENSHOT=1 it also takes the README's
screenshot (docs/screenshots/web-chat.png)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from webutil import png_bytes, seed_music

from museforge.bots.service import Studio
from museforge.bots.web.server import make_server
from museforge.storage.models import Actor, Scope

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT = ROOT / "docs" / "screenshots" / "web-chat.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000
# Read at import: the autouse fixture clears MUSEFORGE_* variables before each test.
TAKE_SCREENSHOT = os.environ.get("MUSEFORGE_SCREENSHOT") == "1"
CHROMIUM = os.environ.get("MUSEFORGE_CHROMIUM")
REQUIRE_BROWSER = os.environ.get("MUSEFORGE_REQUIRE_BROWSER") == "1"  # CI: fail, never skip


def no_browser(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"MUSEFORGE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium_path() -> str | None:
    if CHROMIUM:
        return CHROMIUM
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("playwright is not installed (pip install playwright); the browser test "
                   "needs it and Debian's chromium")
    executable = chromium_path()
    if executable is None:
        no_browser("no chromium found (apt-get install chromium, or set MUSEFORGE_CHROMIUM)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            yield page, problems
        finally:
            context.close()


@pytest.fixture
def server_url(studio: Studio) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server(studio, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        thread.join(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


def send(page, text: str) -> None:
    page.fill("#input", text)
    page.press("#input", "Enter")


def test_paint_edit_undo_in_a_real_browser(browser_page, server_url):
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")

    send(page, "paint a fox in the snow")
    image = page.locator("#messages .message.assistant img.art").first
    image.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('#messages img.art');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    page.locator("#tree .version.head[data-version='1']").wait_for()

    send(page, "warmer")
    page.locator("#tree .version.head[data-version='2']").wait_for()
    assert page.locator("#tree .version").count() == 2

    page.locator("#messages .message.assistant").last.locator(
        "button[data-action='undo']").click()
    page.locator("#tree .version.head[data-version='1']").wait_for()
    assert page.locator("#tree .version[data-version='2']:not(.head)").count() == 1
    assert page.locator("#messages .message.user").last.inner_text() == "undo #1"

    if TAKE_SCREENSHOT:
        send(page, "paint a lighthouse at dusk, watercolor")
        page.locator("#messages .message.assistant img.art").nth(3).wait_for()
        page.wait_for_function("() => [...document.querySelectorAll('img')]"
                               ".every(i => i.complete)")
        page.locator("#artworks .artwork[data-artwork='1']").click()
        page.locator("#tree .version.head[data-version='1']").wait_for()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

    assert problems == []


def test_user_text_is_never_markup_in_the_page(browser_page, server_url):
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")
    nasty = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script> & co"

    send(page, nasty)

    page.locator("#messages .message.assistant:not(.pending)").last.wait_for()
    assert page.locator("#messages .message.user .text").last.inner_text() == nasty
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#messages img[src='x'], #messages script").count() == 0
    page.reload()  # the stored history is rendered the same way
    page.locator("#messages .message.user").first.wait_for()
    assert page.locator("#messages .message.user .text").first.inner_text() == nasty
    assert page.evaluate("() => window.__pwned") is None
    assert problems == []


def test_music_shows_a_player_a_piano_roll_and_its_buttons(browser_page, server_url, studio):
    me = Actor(studio.store.local_user())
    seed_music(studio.store, me, studio.store.session(me, Scope.local("default", "web")))
    page, problems = browser_page
    page.goto(server_url)

    piece = page.locator("#messages figure.card.music")
    piece.wait_for()
    assert piece.locator("audio[controls]").get_attribute("src").endswith("/files/ogg")
    assert piece.locator("img.roll").evaluate("i => i.complete && i.naturalWidth") == 320
    assert piece.locator("a.download").get_attribute("href").endswith("/files/mid")
    labels = piece.locator("button.action").all_inner_texts()
    assert labels == ["Vary", "Faster", "Slower", "Transpose +1", "Transpose −1", "Continue",
                      "Undo", "Export ABC", "Export MusicXML"]
    assert problems == []


JIG = "X:1\nT:The Test Jig\nM:6/8\nL:1/8\nK:D\n|:A|dfa afd|g2e c2A|dfa agf|e3 d2:|\n"


def test_an_attached_abc_tune_is_read_back_and_exported_as_a_download(browser_page,
                                                                     server_url):
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")

    page.set_input_files("#file", files=[{"name": "jig.abc", "mimeType": "text/vnd.abc",
                                          "buffer": JIG.encode()}])
    page.locator("#attachments .chip button").wait_for()
    page.click("#send")

    reply = page.locator("#messages .message.assistant:not(.pending)").last
    card = reply.locator("figure.card.music")
    card.wait_for()
    assert "I read: 1 part (melody)" in reply.locator(".text").inner_text()
    assert card.locator("a.download", has_text="ABC").get_attribute("href").endswith(
        "/files/abc")
    card.locator("button.action", has_text="Export MusicXML").click()

    exported = page.locator("#messages .message.assistant:not(.pending) .downloads a").last
    exported.wait_for()
    assert exported.get_attribute("download") == "1-v1-the-test-jig.musicxml"
    assert "/exports/1-v1-the-test-jig.musicxml" in exported.get_attribute("href")
    assert "/exports/" not in page.locator("#messages .message.assistant .text").last.inner_text()
    assert problems == []


def test_an_attached_picture_is_brought_in_and_edited(browser_page, server_url):
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")

    page.set_input_files("#file", files=[{"name": "my cat.png", "mimeType": "image/png",
                                          "buffer": png_bytes((96, 64), "teal")}])
    page.locator("#attachments .chip button").wait_for()  # uploaded: it can be removed
    send(page, "make it brighter")

    reply = page.locator("#messages .message.assistant:not(.pending)").last
    reply.locator("figure.card").nth(1).wait_for()
    assert reply.locator(".text").inner_text().startswith("Added my cat as #1.")
    assert [c.get_attribute("data-version") for c in reply.locator("figure.card").all()] == [
        "1", "2"]
    assert "attached: my cat.png" in page.locator("#messages .message.user").last.inner_text()
    assert page.locator("#attachments .chip").count() == 0
    assert problems == []


def test_a_waiting_turn_shows_its_place_and_can_be_cancelled(browser_page, server_url, hold):
    page, problems = browser_page
    page.goto(server_url)
    page.wait_for_selector("#sessions .session.active")
    hold("alice")  # running
    hold("bob", wait_started=False)  # waiting: we are number 2

    send(page, "paint a fox in the snow")

    place = ("() => document.querySelector('#messages .pending .status')"
             "?.textContent === 'busy, you are number 2'")
    page.wait_for_function(place)
    page.reload()  # a reopened page follows the turns still waiting
    page.wait_for_function(place)
    assert page.locator("#messages .message.user").last.inner_text() == \
        "paint a fox in the snow"
    page.locator("#messages .message.pending button.cancel").click()
    page.locator("#messages .message.failed .error").wait_for()
    assert page.locator("#messages .message.failed .error").inner_text() == "cancelled"
    assert problems == []
