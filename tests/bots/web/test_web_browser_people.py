"""A person signs in to the web chat in a real headless Chromium with the token `museforge
users add` gave them: the sign-in form, their own (empty) conversations, their name and
"sign out" at the foot; a token revoked while the page is open sends the page back to the
sign-in form. (The browser fixture is test_web_browser's.)"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest
from test_web_browser import browser_page, send  # noqa: F401 (a fixture)

from museforge.bots.service import Studio
from museforge.bots.web.server import make_server
from museforge.storage.models import Actor, Scope


@pytest.fixture
def served(studio: Studio) -> Iterator[str]:
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


def test_a_person_signs_in_with_their_token_and_sees_only_their_work(
        browser_page, served, studio):  # noqa: F811
    local = Actor(studio.store.local_user())
    studio.store.session(local, Scope.local("the-clis-own"))
    _, token = studio.store.add_web_user("Alice")
    studio.store.add_web_user("Bob")  # so that someone still has a token at the end
    page, problems = browser_page

    page.goto(served)
    assert page.locator("form[action='/login']").is_visible()
    page.fill("#token", "not-my-token")
    page.click("button[type=submit]")
    assert "not valid" in page.locator("#why").inner_text()
    page.fill("#token", token)
    page.click("button[type=submit]")

    page.wait_for_selector("#sessions .session.active")
    assert "token" not in page.url  # the token is in no address
    assert page.locator("#sessions .session .name").all_inner_texts() == ["default"]
    page.wait_for_function("() => document.querySelector('#info').textContent"
                           ".startsWith('Alice')")
    assert page.locator("#sign-out").get_attribute("href") == "/logout"
    send(page, "paint a fox in the snow")
    page.locator("#messages .message.assistant img.art").first.wait_for()
    assert [s.name for s in studio.store.list_sessions(local)] == ["the-clis-own"]

    studio.store.revoke_web_user("alice")
    send(page, "warmer")  # the page finds out, and asks for a token again
    page.wait_for_url(re.compile(r"/$"))
    page.locator("form[action='/login']").wait_for()
    assert "not valid" in page.locator("#why").inner_text()
    # only the refusals the revoked token met, no script error
    assert all("401" in p for p in problems), problems


def test_sign_out_forgets_the_token(browser_page, served, studio):  # noqa: F811
    _, token = studio.store.add_web_user("bob")
    page, problems = browser_page
    page.goto(served + f"?token={token}")
    page.wait_for_selector("#sessions .session.active")
    assert "token" not in page.url

    page.click("#sign-out")

    page.locator("form[action='/login']").wait_for()
    assert page.context.cookies() == [] or all(
        c["name"] != "museforge_token" for c in page.context.cookies())
    assert problems == [] or all("401" in p for p in problems), problems
