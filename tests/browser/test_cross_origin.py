"""A frontend on another origin (a Next.js or Vite dev server, a separate site) in a real browser
(issue 26, 1): Debian's headless Chromium, driven by Selenium, against the real system started
with ``CORS_ALLOWED_ORIGINS`` naming one origin.

The page is a plain HTML file and an ES module served by a small HTTP server of the test's own,
on another port of 127.0.0.1 (another origin). With the user's token, never a cookie, it lists
the uploads, reads a response header the API exposes, asks for a stream ticket, opens an
``EventSource`` on ``/api/uploads/events?ticket=...`` and uploads an image (a ``PATCH`` with
``Authorization``: preflighted), whose event arrives on the stream. The same page served from an
origin not in the list reads nothing: its requests get no ``Access-Control-Allow-Origin``.

Marked ``browser`` (its folder); without chromium and chromedriver it skips, except in CI.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.helpers.browser import browser_binaries, headless_chromium
from tests.helpers.system import System, running_system

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>another origin</title>
<script type="module" src="app.js"></script></head>
<body><canvas id="c" width="64" height="48"></canvas></body></html>
"""

# The page's own module: what a frontend on another origin does with the API and a token.
APP = """
const auth = (token) => ({Authorization: `Token ${token}`});

async function json(response) {
  if (!response.ok) throw new Error(`${response.url}: ${response.status}`);
  return response.json();
}

function picture() {  // a small PNG drawn here: an image made during the test
  const canvas = document.getElementById("c");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#3a7bd5";
  ctx.fillRect(0, 0, 64, 48);
  ctx.fillStyle = "#f5c542";
  ctx.fillRect(16, 12, 24, 20);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

window.crossOrigin = {
  async list(api, token) {
    const response = await fetch(`${api}/api/uploads`, {headers: auth(token)});
    const body = await json(response);
    return {count: body.results.length, requestId: response.headers.get("X-Request-ID")};
  },

  async watchAnUpload(api, token) {
    const {ticket} = await json(await fetch(`${api}/api/uploads/events/ticket`, {
      method: "POST", headers: auth(token)}));
    const source = new EventSource(`${api}/api/uploads/events?ticket=${encodeURIComponent(ticket)}`);
    await new Promise((resolve, reject) => {
      source.onopen = resolve;
      source.onerror = () => reject(new Error("the event stream did not open"));
    });
    const arrived = new Promise((resolve) => source.addEventListener("upload", (e) => resolve(JSON.parse(e.data))));
    const form = new FormData();
    form.append("product_image", await picture(), "drawn.png");
    const profile = await json(await fetch(`${api}/users/me`, {method: "PATCH", headers: auth(token), body: form}));
    const event = await arrived;
    source.close();
    return {event, pending: profile.pending_images.map((u) => u.id)};
  },
};
"""


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the page's folder; no access lines on the test's output."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def page_origins(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """Two origins serving the same page (``index.html`` and ``app.js``): the one the API lists,
    and one it does not."""
    folder = tmp_path_factory.mktemp("another-origin")
    (folder / "index.html").write_text(PAGE)
    (folder / "app.js").write_text(APP)
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
               for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        allowed, other = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
        yield allowed, other
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def system(tmp_path_factory, page_origins) -> Iterator[System]:
    """The system with ``CORS_ALLOWED_ORIGINS`` naming the first page origin; ``token`` is a user's."""
    browser_binaries()
    allowed, _ = page_origins
    with running_system(tmp_path_factory.mktemp("cors"), extra_env={"CORS_ALLOWED_ORIGINS": allowed}) as s:
        s.token = s.create_user("faraway")
        yield s


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Any]:
    """A headless Chromium; never signed in to the API (no session cookie anywhere)."""
    with headless_chromium(script_timeout=60) as driver:
        yield driver


def open_page(driver: Any, origin: str) -> None:
    from tests.helpers.processes import wait_until

    driver.get(f"{origin}/index.html")
    wait_until(lambda: driver.execute_script("return Boolean(window.crossOrigin)"), timeout=15,
               what="the page's module")


def call(driver: Any, method: str, system: System) -> Any:
    """``window.crossOrigin[method](api, token)`` in the page; its result, or ``{"error": ...}``."""
    return driver.execute_async_script("""
        const [method, api, token, done] = arguments;
        window.crossOrigin[method](api, token).then(done, (e) => done({error: String(e)}));
    """, method, system.api_url, system.token)


def test_a_page_on_a_listed_origin_lists_uploads_and_streams_an_uploads_event_with_a_token(
        system: System, browser: Any, page_origins: tuple[str, str]):
    allowed, _ = page_origins
    open_page(browser, allowed)
    listed = call(browser, "list", system)
    assert "error" not in listed, listed
    assert listed["count"] == 0
    assert listed["requestId"], "X-Request-ID is exposed to the page"

    watched = call(browser, "watchAnUpload", system)
    assert "error" not in watched, watched
    event = watched["event"]
    assert event["id"] in watched["pending"], "the event is of the upload the page made after the stream opened"
    assert (event["field"], event["status"]) == ("product_image", "pending")
    assert call(browser, "list", system)["count"] == 1


def test_a_page_on_another_origin_reads_nothing(system: System, browser: Any, page_origins: tuple[str, str]):
    """The same page, the same token, the same browser: only the listed origin reads the answer."""
    allowed, other = page_origins
    open_page(browser, allowed)
    assert "error" not in call(browser, "list", system)
    open_page(browser, other)
    refused = call(browser, "list", system)
    assert "Failed to fetch" in refused.get("error", ""), refused
    # the browser refused to show the answer: the API sent it no Access-Control-Allow-Origin
    auth = {"Authorization": f"Token {system.token}"}
    answer = requests.get(f"{system.api_url}/api/uploads", headers={**auth, "Origin": other}, timeout=30)
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    preflight = requests.options(f"{system.api_url}/users/me", timeout=30, headers={
        "Origin": other, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in preflight.headers, preflight.headers


def test_preflights_of_a_listed_origin_are_answered_before_any_authentication(
        system: System, page_origins: tuple[str, str]):
    """Through the real server's ASGI layers (the body guard answers some requests without
    credentials itself) and Django's middleware: never a 401, the token's header allowed, the
    SSE client's ``Last-Event-ID`` too, and no credentials mode (the session stays same-site)."""
    allowed, _ = page_origins
    for path, method in [("/users/me", "PATCH"), ("/api/uploads", "GET"), ("/api/uploads/events", "GET"),
                         ("/api/uploads/events/ticket", "POST"), ("/api/artworks", "POST")]:
        preflight = requests.options(f"{system.api_url}{path}", timeout=30, headers={
            "Origin": allowed, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,last-event-id"})
        assert preflight.status_code == 200, (path, preflight.status_code, preflight.text)
        assert preflight.headers["Access-Control-Allow-Origin"] == allowed
        allowed_headers = {h.strip() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "last-event-id"} <= allowed_headers, allowed_headers
        assert method in preflight.headers["Access-Control-Allow-Methods"]
        assert "Access-Control-Allow-Credentials" not in preflight.headers
    answer = requests.get(f"{system.api_url}/api/uploads", headers={"Origin": allowed}, timeout=30)
    assert answer.status_code == 401 and answer.headers["Access-Control-Allow-Origin"] == allowed, \
        "a refusal is readable by the page too"
    exposed = {h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"retry-after", "x-request-id", "location"}
    assert "origin" in answer.headers["Vary"].lower(), "caches keep one answer per origin"
