"""The demo site in a real browser (issue 16): Debian's headless Chromium, driven by Selenium,
against the real system (main API under ASGI, media VM server, a worker), started once for the
module. Sign in, upload through the page, watch the status arrive over the page's one
EventSource, the placeholder, then the image (AVIF chosen, no layout shift); a failed upload's
reason and its retry; a logo's transparent version; delete after its confirm step; the cards'
controls and status inside their cards at phone and desktop size, refusals as dismissable errors,
duplicates marked; screenshots for the README, rewritten only when the page changed; no page
breaks its Content-Security-Policy.

Marked ``browser``: CI runs them once (its MariaDB run leaves them out). Without chromium and
chromedriver they skip, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests.helpers import images
from tests.helpers.browser import browser_binaries, headless_chromium
from tests.helpers.processes import wait_until
from tests.helpers.system import System, running_system

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "demo-password-1"

# Counts what the page asks for, before any script of the page runs: EventSources opened, and
# requests of one upload (GET /api/uploads/{id}), so that polling would show.
INSTRUMENT = """
window.__sources = [];
window.__uploadGets = [];
const NativeEventSource = window.EventSource;
window.EventSource = function (url, init) {
  window.__sources.push(String(url));
  return new NativeEventSource(url, init);
};
window.EventSource.prototype = NativeEventSource.prototype;
window.EventSource.CLOSED = NativeEventSource.CLOSED;
const nativeFetch = window.fetch.bind(window);
window.fetch = (input, init) => {
  const url = String(input && input.url ? input.url : input);
  const get = !init || !init.method || init.method === 'GET';
  if (/\\/api\\/uploads\\/\\d+$/.test(url) && get) window.__uploadGets.push(url);
  return nativeFetch(input, init);
};
window.__cls = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
}).observe({type: 'layout-shift', buffered: true});
// every breach of the page's Content-Security-Policy, from its first byte on
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(
  `${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sample}) at ${e.sourceFile}:${e.lineNumber}`));
window.__states = {};
new MutationObserver((records) => {
  for (const r of records) {
    const el = r.target;
    if (el.localName !== 'smart-image' || r.attributeName !== 'data-state') continue;
    const id = el.getAttribute('upload-id');
    const frame = el.querySelector('.si-frame');
    (window.__states[id] = window.__states[id] || []).push({
      state: el.dataset.state,
      placeholder: Boolean(frame && frame.style.background.includes('data:image/png')),
    });
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-state']});
"""


@pytest.fixture(scope="module")
def system(tmp_path_factory) -> Iterator[System]:
    """The system, with the user ``alice`` (password ``PASSWORD``); no worker yet (the failure
    test fails an upload before any worker takes it, then starts one)."""
    browser_binaries()
    with running_system(tmp_path_factory.mktemp("browser"), extra_env={"POLL_IDLE_SECONDS": "0.3"}) as s:
        s.token = s.manage("create_user", "alice", "--type", "artist", "--password", PASSWORD).strip().splitlines()[-1]
        yield s


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Any]:
    """A headless Chromium at 1280x800, instrumented (``INSTRUMENT``) on every page."""
    with headless_chromium("--window-size=1280,800", "--force-device-scale-factor=1", "--hide-scrollbars") as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT})
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        yield driver


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def sign_in(driver: Any, system: System) -> None:
    """Signs ``alice`` in through the sign-in page, unless she already is."""
    driver.get(f"{system.api_url}/")
    if "/login" in driver.current_url:
        by_css(driver, "#id_username").send_keys("alice")
        by_css(driver, "#id_password").send_keys(PASSWORD)
        by_css(driver, "#password-form button").click()
        wait_until(lambda: "/login" not in driver.current_url, timeout=15, what="signed in")


def upload_through_page(driver: Any, field: str, path: Path) -> int:
    """Chooses ``field``, gives the file input ``path``; the id of the upload's new card."""
    from selenium.webdriver.support.ui import Select

    before = {c.get_attribute("data-upload-id") for c in all_css(driver, "#gallery .card")}
    Select(by_css(driver, "#upload-field")).select_by_value(field)
    by_css(driver, "#upload-file").send_keys(str(path))

    def new_id() -> int | None:
        ids = {c.get_attribute("data-upload-id") for c in all_css(driver, "#gallery .card[data-upload-id]")}
        fresh = ids - before - {None, ""}
        return int(fresh.pop()) if fresh else None

    upload_id = int(wait_until(new_id, timeout=30, what=f"the card of the {field} upload"))
    # its own progress bar (XMLHttpRequest upload progress) went to the end, then stepped aside
    progress = by_css(driver, f'#gallery .card[data-upload-id="{upload_id}"] progress')
    assert progress.get_property("value") == 100 and "done" in progress.get_attribute("class")
    return upload_id


def card_image(driver: Any, upload_id: int) -> Any:
    return by_css(driver, f'#gallery .card[data-upload-id="{upload_id}"] smart-image')


def state_of(driver: Any, upload_id: int) -> str | None:
    try:
        return card_image(driver, upload_id).get_attribute("data-state")
    except Exception:  # noqa: BLE001 - re-rendered meanwhile: ask again
        return None


def wait_loaded(driver: Any, upload_id: int, timeout: float = 90) -> Any:
    wait_until(lambda: card_image(driver, upload_id).get_attribute("data-loaded") == "true", timeout=timeout,
               interval=0.2, what=f"upload {upload_id}'s image in the page")
    return card_image(driver, upload_id)


# Every button and status text of the gallery's cards and the profile's slots, and where it must
# fit: a control or note in its card; a status in its image frame, or in the inscribed square of a
# round one (the avatar). Also a text that overflows its own box, and a page wider than the screen.
LAYOUT = """
const problems = [];
const fits = (r, c) => r.left >= c.left - 0.5 && r.right <= c.right + 0.5 && r.top >= c.top - 0.5
  && r.bottom <= c.bottom + 0.5;
const box = (r) => `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)},${Math.round(r.bottom)}]`;
let checked = 0;
for (const holder of document.querySelectorAll('#gallery .card, .profile .slot')) {
  const name = holder.dataset.uploadId ? `card ${holder.dataset.uploadId}` : `slot ${holder.dataset.field}`;
  const selector = 'button, .si-status, .si-status-text, .si-reason, .card-note, .confirm-text';
  for (const el of holder.querySelectorAll(selector)) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    checked += 1;
    const r = el.getBoundingClientRect();
    const frame = el.closest('.si-frame');
    let c = (frame || holder).getBoundingClientRect();
    if (frame && getComputedStyle(frame).borderTopLeftRadius === '50%') {
      const inset = c.width * (1 - Math.SQRT1_2) / 2;
      c = {left: c.left + inset, right: c.right - inset, top: c.top + inset, bottom: c.bottom - inset};
    }
    const what = `${name}: ${el.localName}.${el.className} "${el.textContent.slice(0, 30)}"`;
    if (!fits(r, c)) problems.push(`${what} ${box(r)} outside ${frame ? 'its frame' : 'the card'} ${box(c)}`);
    if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
      if (getComputedStyle(el).display !== 'inline') problems.push(`${what}: its text overflows its box`);
    }
  }
}
const wide = document.documentElement.scrollWidth;
if (wide > innerWidth) problems.push(`the page is ${wide} wide`);
return {problems, checked};
"""

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}


def layout_problems(driver: Any) -> list[str]:
    """What ``LAYOUT`` finds clipped or overflowing on the page as it is (it must look at something)."""
    found = driver.execute_script(LAYOUT)
    assert found["checked"] > 0
    return list(found["problems"])


def test_sign_in_with_username_and_password(system: System, browser: Any):
    browser.get(f"{system.api_url}/")
    assert "/login" in browser.current_url  # the site asks to sign in first
    by_css(browser, "#id_username").send_keys("alice")
    by_css(browser, "#id_password").send_keys(PASSWORD)
    by_css(browser, "#password-form button").click()
    wait_until(lambda: all_css(browser, "#upload-file"), timeout=15, what="the profile page")
    assert browser.current_url.rstrip("/") == system.api_url
    assert "alice" in by_css(browser, ".topbar").text
    # nothing uploaded yet: the gallery says so
    assert by_css(browser, "#gallery-empty").is_displayed() and not all_css(browser, "#gallery .card")
    # the page names its icon (an SVG of its own), so the browser asks for no /favicon.ico
    icon = by_css(browser, 'link[rel="icon"]').get_attribute("href")
    answer = requests.get(icon, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/svg+xml"), icon
    # the scripts are served under hashed names with a year's cache, the module they import too
    script = by_css(browser, 'script[type="module"]').get_attribute("src")
    assert re.search(r"/static/frontend/demo\.[0-9a-f]{12}\.js$", script), script
    assert "immutable" in requests.get(script, timeout=30).headers["Cache-Control"]
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(re.search(r"/static/frontend/smart-image\.[0-9a-f]{12}\.js$", u) for u in loaded), loaded
    assert any(re.search(r"/static/frontend/thumbhash\.[0-9a-f]{12}\.js$", u) for u in loaded), loaded


def test_the_cards_fit_and_say_what_they_are_at_phone_and_desktop_size(system: System, browser: Any,
                                                                      tmp_path: Path):
    """Before any worker runs: a logo, the same logo again, a profile image (its status in the
    round avatar), a failed upload and one refused at the gate, each card's buttons and status
    inside it at desktop and phone size, Delete's confirm step open; the gallery newest first; the
    duplicate marked; one Retry on the failed card, in words that fit it; the refusal an error
    card, its size limit as the hint writes it, dismissable."""
    sign_in(browser, system)
    logo = tmp_path / "logo.png"
    images.logo(logo, 600, 360)
    logo_id = upload_through_page(browser, "logo_image", logo)
    again_id = upload_through_page(browser, "logo_image", logo)
    avatar_id = upload_through_page(browser, "profile_image", images.photo_jpeg(tmp_path / "me.jpg", 800, 800, seed=7))
    failed_id = upload_through_page(browser, "event_image", images.photo_jpeg(tmp_path / "gig.jpg", 900, 600, seed=8))
    r = requests.delete(f"{system.api_url}/api/media/cleanup/{failed_id}", json={"reason": "decode failed"},
                        headers={"Authorization": f"Bearer {system.key}"}, timeout=30)
    assert r.status_code == 200, r.text
    (tmp_path / "huge.jpg").write_bytes(os.urandom(6 * 1024 * 1024))  # over MAX_UPLOAD_BYTES (5 MiB)
    by_css(browser, "#upload-file").send_keys(str(tmp_path / "huge.jpg"))
    refused = wait_until(lambda: all_css(browser, "#gallery .card-refused"), timeout=30, what="the refusal")[0]
    wait_until(lambda: state_of(browser, failed_id) == "failed", timeout=20, what="the failed state")
    wait_until(lambda: card_image(browser, again_id).get_attribute("data-state"), timeout=20, what="the duplicate")

    # newest first, as the API lists them, the refusal on top; no empty state
    ids = [int(c.get_attribute("data-upload-id")) for c in all_css(browser, "#gallery .card[data-upload-id]")]
    assert ids == sorted(ids, reverse=True) and ids[:4] == [failed_id, avatar_id, again_id, logo_id], ids
    assert all_css(browser, "#gallery .card")[0] == refused
    assert not by_css(browser, "#gallery-empty").is_displayed()
    # the duplicate says which upload it repeats
    note = by_css(browser, f'#gallery .card[data-upload-id="{again_id}"] .card-note')
    assert note.is_displayed() and note.text == "Same file as logo.png", note.text
    assert not by_css(browser, f'#gallery .card[data-upload-id="{logo_id}"] .card-note').is_displayed()
    # the failed card: one Retry, and words that do not send the user to upload again
    failed = by_css(browser, f'#gallery .card[data-upload-id="{failed_id}"]')
    wait_until(lambda: failed.find_element("css selector", ".si-reason").text, timeout=20, what="the reason")
    assert [b.text for b in failed.find_elements("css selector", "button") if b.is_displayed()].count("Retry") == 1
    assert "upload it again" not in failed.text
    # the refusal: an error, the limit in the hint's words (not a byte count), dismissable
    limit = by_css(browser, "#upload-limit").text
    assert limit == "5.0 MB" and f"limit of {limit}" in refused.text and "bytes" not in refused.text, refused.text
    assert browser.execute_script("return getComputedStyle(arguments[0]).borderTopColor", refused) == (
        "rgb(179, 38, 30)")  # --bad
    assert refused.find_element("css selector", ".dismiss").is_displayed()
    # the avatar shows its upload's status
    avatar = by_css(browser, '.slot[data-field="profile_image"]')
    assert avatar.find_element("css selector", ".si-status").is_displayed()

    def ask_delete(upload_id: int) -> None:
        by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"] .confirm-ask').click()
        wait_until(lambda: by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"] .confirm').is_displayed(),
                   timeout=5, what="Delete's confirm step")

    try:
        ask_delete(logo_id)
        assert layout_problems(browser) == [], "desktop"
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        time.sleep(0.3)
        assert layout_problems(browser) == [], "phone"
        browser.get(f"{system.api_url}/")  # the cards as the server renders them, at phone size
        wait_until(lambda: state_of(browser, failed_id) == "failed", timeout=20, what="the page again")
        ask_delete(logo_id)
        assert layout_problems(browser) == [], "phone, reloaded"
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    browser.get(f"{system.api_url}/")
    by_css(browser, "#upload-file").send_keys(str(tmp_path / "huge.jpg"))
    refused = wait_until(lambda: all_css(browser, "#gallery .card-refused"), timeout=30, what="the refusal")[0]
    refused.find_element("css selector", ".dismiss").click()
    assert not all_css(browser, "#gallery .card-refused")

    # Delete asks first: Cancel keeps the upload, Yes deletes it
    ask_delete(failed_id)
    card = by_css(browser, f'#gallery .card[data-upload-id="{failed_id}"]')
    assert not card.find_element("css selector", ".confirm-ask").is_displayed()
    assert card.find_element("css selector", ".confirm-text").text == "Delete?"
    headers = {"Authorization": f"Token {system.token}"}
    assert requests.get(f"{system.api_url}/api/uploads/{failed_id}", headers=headers, timeout=30).status_code == 200
    card.find_element("css selector", ".confirm-cancel").click()
    assert card.find_element("css selector", ".confirm-ask").is_displayed()
    assert not card.find_element("css selector", ".confirm").is_displayed()
    assert requests.get(f"{system.api_url}/api/uploads/{failed_id}", headers=headers, timeout=30).status_code == 200
    ask_delete(failed_id)
    card.find_element("css selector", '.confirm button[type="submit"]').click()
    wait_until(lambda: not all_css(browser, f'#gallery .card[data-upload-id="{failed_id}"]'), timeout=15,
               what="the card gone")
    assert requests.get(f"{system.api_url}/api/uploads/{failed_id}", headers=headers, timeout=30).status_code == 404


def test_a_failed_upload_shows_its_reason_and_retry_works(system: System, browser: Any, tmp_path: Path):
    photo = images.photo_jpeg(tmp_path / "beach.jpg", 900, 600, seed=3)
    upload_id = upload_through_page(browser, "header_image", photo)
    # the media VM gives up on it before any worker took it
    r = requests.delete(f"{system.api_url}/api/media/cleanup/{upload_id}", json={"reason": "decode failed"},
                        headers={"Authorization": f"Bearer {system.key}"}, timeout=30)
    assert r.status_code == 200, r.text
    wait_until(lambda: state_of(browser, upload_id) == "failed", timeout=20, what="the failed state, live")
    card = by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"]')

    def reason_shown() -> str:
        try:  # inside the component, which may re-render as an event arrives: find it afresh
            return str(by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"] .si-reason').text)
        except Exception:  # noqa: BLE001
            return ""

    reason = wait_until(reason_shown, timeout=20, what="the failure reason")
    assert reason and "decode failed" not in reason  # in words for the user, not the VM's log text
    retry = card.find_element("css selector", ".si-retry")
    assert retry.is_displayed() and not card.find_element("css selector", 'form[data-action="retry"]').is_displayed()
    retry.click()
    wait_until(lambda: state_of(browser, upload_id) in ("queued", "processing"), timeout=20,
               what="the upload queued again")
    system.spawn("worker", ["-m", "media_vm", "worker"])
    image = wait_loaded(browser, upload_id)
    assert image.get_attribute("data-state") == "done"
    assert not card.find_elements("css selector", ".si-retry")


def test_an_upload_becomes_an_image_live_avif_without_layout_shift_over_one_event_stream(
        system: System, browser: Any, tmp_path: Path):
    photo = images.photo_jpeg(tmp_path / "portrait.jpg", 1400, 1000, seed=5)
    upload_id = upload_through_page(browser, "profile_image", photo)
    browser.execute_script("window.__cls = 0")  # from here on: the new card on top moved the others down
    image = wait_loaded(browser, upload_id)
    states = browser.execute_script("return window.__states[arguments[0]] || []", str(upload_id))
    seen = [s["state"] for s in states]
    assert seen[-1] == "done" and len(set(seen)) >= 2, seen  # it changed in the page, without a reload
    assert any(s["placeholder"] for s in states if s["state"] == "done"), states  # the ThumbHash first

    img = image.find_element("css selector", "picture img")
    types = [s.get_attribute("type") for s in image.find_elements("css selector", "picture source")]
    assert types == ["image/avif", "image/webp"]
    assert "format=jpeg" in img.get_attribute("src")
    current = browser.execute_script("return arguments[0].currentSrc", img)
    assert "format=avif" in current, current
    assert int(img.get_dom_attribute("width")) > 0 and int(img.get_dom_attribute("height")) > 0
    assert " 500w" in image.find_element("css selector", "source").get_attribute("srcset")

    # the profile slot follows the new profile image
    slot = by_css(browser, '.slot[data-field="profile_image"] smart-image')
    assert slot.get_attribute("upload-id") == str(upload_id)

    cls = browser.execute_script("return window.__cls")
    assert cls == 0, f"cumulative layout shift {cls}"
    sources = browser.execute_script("return window.__sources")
    assert len(sources) == 1 and "/api/uploads/events" in sources[0], sources
    gets = browser.execute_script("return window.__uploadGets")
    assert sum(g.endswith(f"/api/uploads/{upload_id}") for g in gets) <= 2, gets  # card + slot, no polling
    for url in browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"):
        assert url.startswith(system.api_url) or url.startswith("data:"), url  # nothing from outside


def test_a_transparent_png_keeps_its_transparency(system: System, browser: Any, tmp_path: Path):
    upload_id = upload_through_page(browser, "site_image", images.rgba_png(tmp_path / "disc.png", 600, 400))
    image = wait_loaded(browser, upload_id)
    assert "format=png" in image.find_element("css selector", "picture img").get_attribute("src")


def test_the_logo_toggle_switches_to_the_transparent_version(system: System, browser: Any, tmp_path: Path):
    path = tmp_path / "logo.png"
    images.logo(path, 600, 360)
    upload_id = upload_through_page(browser, "logo_image", path)
    image = wait_loaded(browser, upload_id)
    assert "bg=removed" not in browser.execute_script("return arguments[0].currentSrc",
                                                      image.find_element("css selector", "picture img"))
    card = by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"]')
    toggle = card.find_element("css selector", 'form[data-action="background"] button')
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()

    # the component re-renders as the change's events arrive: every look finds its elements afresh
    def transparent_shown() -> bool:
        try:
            img = card_image(browser, upload_id).find_element("css selector", "picture img")
            return ("bg=removed" in (browser.execute_script("return arguments[0].currentSrc", img) or "")
                    and "format=png" in (img.get_attribute("src") or ""))
        except Exception:  # noqa: BLE001 - re-rendered meanwhile
            return False

    wait_until(transparent_shown, timeout=20, what="the logo's transparent version, a PNG")

    def toggle_pressed() -> bool:
        try:
            found = by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"]')
            return found.find_element("css selector", 'form[data-action="background"] button').get_attribute(
                "aria-pressed") == "true"
        except Exception:  # noqa: BLE001 - re-rendered meanwhile
            return False

    wait_until(toggle_pressed, timeout=20, what="the toggle pressed")
    r = requests.get(f"{system.api_url}/api/uploads/{upload_id}", headers={"Authorization": f"Token {system.token}"},
                     timeout=30)
    assert r.json()["background"] == "removed"
    # the analysis panel opens with the keyboard-reachable <summary>, with brand colours for a logo
    # (the component may re-render once more as the last event of the change arrives: find again)
    def panel_open() -> bool:
        try:
            found = by_css(browser, f'#gallery .card[data-upload-id="{upload_id}"]')
            summary = found.find_element("css selector", "summary")
            if summary.find_element("xpath", "..").get_attribute("open") is None:
                summary.click()
            return "Brand colours" in found.find_element("css selector", ".si-analysis").text
        except Exception:  # noqa: BLE001 - re-rendered meanwhile
            return False

    wait_until(panel_open, timeout=20, what="the analysis panel with the logo's brand colours")


#: the side of the square blocks two screenshots are compared in, in pixels
BLOCK = 16
#: rendering noise (anti-aliasing, a colour rounded): the most a block's pixels may differ on
#: average, in levels of 255 over its pixels and channels; any block beyond it is a changed page
BLOCK_NOISE = 3.0


def screenshots_differ(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two screenshots (height x width x bands) show different pages: another size, or
    any ``BLOCK`` x ``BLOCK`` block whose mean absolute difference is over ``BLOCK_NOISE``. A
    word changed is a few blocks of a big picture, where a share of all its pixels would miss it."""
    if a.shape != b.shape:
        return True
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float64)
    height, width = diff.shape[:2]
    rows, cols = -(-height // BLOCK), -(-width // BLOCK)
    sums = np.zeros((rows * BLOCK, cols * BLOCK) + diff.shape[2:])
    sums[:height, :width] = diff
    sums = sums.reshape(rows, BLOCK, cols, BLOCK, -1).sum(axis=(1, 3, 4))
    # the blocks at the right and bottom edges may be cut short: the mean over their real pixels
    counts = np.full((rows, cols), BLOCK * BLOCK, dtype=np.float64)
    if height % BLOCK:
        counts[-1, :] *= (height % BLOCK) / BLOCK
    if width % BLOCK:
        counts[:, -1] *= (width % BLOCK) / BLOCK
    bands = diff.shape[2] if diff.ndim == 3 else 1
    return bool((sums / (counts * bands) > BLOCK_NOISE).any())


def screenshot(driver: Any, name: str, tmp: Path) -> bool:
    """``docs/screenshots/<name>``, rewritten only when the page looks different
    (:func:`screenshots_differ`): a re-run leaves the committed file (and the git tree) alone.
    The page is taken once it holds still (two shots in a row alike). True when it was (re)written."""
    import pyvips

    fresh, kept = tmp / name, SCREENSHOTS / name

    def shot() -> np.ndarray:
        driver.save_screenshot(str(fresh))
        return pyvips.Image.new_from_file(str(fresh), access="sequential").numpy()

    latest = shot()
    for _ in range(20):
        time.sleep(0.25)
        before, latest = latest, shot()
        if not screenshots_differ(before, latest):
            break
    else:
        raise AssertionError(f"{name}: the page kept changing")
    if kept.exists() and not screenshots_differ(latest, pyvips.Image.new_from_file(str(kept)).numpy()):
        return False
    shutil.copyfile(fresh, kept)
    return True


def test_a_small_change_in_one_block_is_a_changed_page_and_rendering_noise_is_not():
    """A word's worth of pixels in one 16x16 block counts (0.005% of a desktop screenshot);
    noise of a level or two everywhere and a few anti-aliased pixels per block do not."""
    rng = np.random.default_rng(1)
    page = rng.integers(0, 256, (800, 1280, 3), dtype=np.uint8)
    changed = page.copy()
    changed[403:409, 600:606] = 255 - changed[403:409, 600:606]  # 6x6 pixels in one block
    assert screenshots_differ(page, changed)
    cut = page[:-2, :-3]  # 798x1277: the last row and column of blocks cut short
    edge = cut.copy()
    edge[-4:, -4:] = 255 - edge[-4:, -4:]  # in the corner block
    assert screenshots_differ(cut, edge)
    noise = np.clip(page.astype(int) + rng.integers(-2, 3, page.shape), 0, 255).astype(np.uint8)
    assert not screenshots_differ(page, noise)
    aliased = page.copy()
    aliased[::16, ::16] = 255 - aliased[::16, ::16]  # one pixel of every block, however far off
    assert not screenshots_differ(page, aliased)
    assert screenshots_differ(page, page[:-1])  # another size


def test_screenshots_of_the_demo_page(system: System, browser: Any, tmp_path: Path):
    """The README's screenshots, rewritten when the page changed; the same page rendered again
    leaves them as they are (no spinner turning: reduced motion)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def render() -> None:
        browser.get(f"{system.api_url}/")
        wait_until(lambda: all(i.get_attribute("data-loaded") == "true" or i.get_attribute("data-state") != "done"
                               for i in all_css(browser, "smart-image[upload-id]"))
                   and all_css(browser, "[data-loaded]"), timeout=30, what="the images")
        time.sleep(0.5)

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    try:
        for name, metrics in (("demo-desktop.png", DESKTOP), ("demo-phone.png", PHONE)):
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            render()
            screenshot(browser, name, tmp_path)
            kept = (SCREENSHOTS / name).stat().st_mtime_ns
            render()
            assert screenshot(browser, name, tmp_path) is False, f"{name}: the same page again differs"
            assert (SCREENSHOTS / name).stat().st_mtime_ns == kept
    finally:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert (SCREENSHOTS / "demo-desktop.png").stat().st_size > 10_000


def test_delete_removes_it_from_the_page_and_the_server(system: System, browser: Any):
    browser.get(f"{system.api_url}/")
    card = wait_until(lambda: all_css(browser, "#gallery .card[data-upload-id]"), timeout=15, what="cards")[-1]
    upload_id = int(card.get_attribute("data-upload-id"))
    card.find_element("css selector", 'form[data-action="delete"] .confirm-ask').click()
    card.find_element("css selector", '.confirm button[type="submit"]').click()
    wait_until(lambda: not all_css(browser, f'#gallery .card[data-upload-id="{upload_id}"]'), timeout=15,
               what="the card gone")
    r = requests.get(f"{system.api_url}/api/uploads/{upload_id}", headers={"Authorization": f"Token {system.token}"},
                     timeout=30)
    assert r.status_code == 404


def test_on_another_page_the_component_works_with_a_token_or_a_media_id(system: System, browser: Any):
    """Signed out (no session), an element given the token reads its upload and opens the stream
    with a ticket; an element given only a media id shows the public image."""
    browser.get(f"{system.api_url}/")
    card = wait_until(lambda: all_css(browser, '#gallery smart-image[data-loaded="true"]'), timeout=30,
                      what="a loaded image")[0]
    upload_id = card.get_attribute("upload-id")
    media_id = requests.get(f"{system.api_url}/api/uploads/{upload_id}", timeout=30,
                            headers={"Authorization": f"Token {system.token}"}).json()["media_id"]
    module = next(u for u in browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") if "/smart-image." in u)
    by_css(browser, ".topbar form button").click()  # sign out
    wait_until(lambda: "/login" in browser.current_url, timeout=15, what="the sign-in page")
    browser.execute_async_script("""
        const [url, uploadId, token, mediaId, done] = arguments;
        import(url).then(() => {
          document.body.insertAdjacentHTML('beforeend',
            `<smart-image id="by-token" upload-id="${uploadId}" token="${token}" size="grid"></smart-image>` +
            `<smart-image id="by-media-id" media-id="${mediaId}" size="grid" alt="public"></smart-image>`);
          done();
        });
    """, module, upload_id, system.token, media_id)
    wait_until(lambda: by_css(browser, "#by-token").get_attribute("data-loaded") == "true", timeout=30,
               what="the image read with the token")
    img = by_css(browser, "#by-media-id picture img")
    wait_until(lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img),
               timeout=30, what="the public image")
    assert "format=avif" in browser.execute_script("return arguments[0].currentSrc", img)
    assert (img.get_dom_attribute("width"), img.get_dom_attribute("height")) == ("500", "500")
    sources = wait_until(lambda: browser.execute_script("return window.__sources"), timeout=15, what="the stream")
    assert len(sources) == 1 and "ticket=" in sources[0] and system.token not in sources[0], sources


def test_an_artwork_made_through_the_form_goes_live_and_public(system: System, browser: Any, tmp_path: Path):
    """The artworks page: a refused file shows the API's message; a photo goes up by direct
    upload, its card turns active live once a worker processed it; then the public artist page
    and the artwork's page show it, the display image loaded."""
    from selenium.webdriver.support.ui import Select

    sign_in(browser, system)  # signed out by an earlier test
    browser.get(f"{system.api_url}/artworks")
    form = wait_until(lambda: all_css(browser, "#artwork-form"), timeout=15, what="the artworks page")[0]
    categories = [o.get_attribute("value") for o in all_css(browser, "#artwork-category option")]
    assert "painting" in categories and "mixed-media" in categories

    # a file that is no image: the API's message, in words, in the form's live region
    (tmp_path / "notes.txt").write_text("not an image")
    by_css(browser, "#artwork-file").send_keys(str(tmp_path / "notes.txt"))
    by_css(browser, "#artwork-title").send_keys("Blue Hour")
    form.find_element("css selector", 'button[type="submit"]').click()
    message = by_css(browser, "#artwork-message")
    wait_until(lambda: "error" in message.get_attribute("class"), timeout=15, what="the refusal")
    assert "content_type" in message.text, message.text
    assert not all_css(browser, "#artworks .artwork-card")

    photo = images.photo_jpeg(tmp_path / "blue-hour.jpg", 1400, 1000, seed=11)
    by_css(browser, "#artwork-file").send_keys(str(photo))
    Select(by_css(browser, "#artwork-category")).select_by_value("painting")
    by_css(browser, "#artwork-tags").send_keys("Sea, dusk")
    by_css(browser, "#artwork-materials").send_keys("oil on linen")
    by_css(browser, "#artwork-dimensions").send_keys("60 x 80 cm")
    browser.execute_script("arguments[0].value = '2024-05-01'", by_css(browser, "#artwork-date"))
    form.find_element("css selector", 'button[type="submit"]').click()
    card = wait_until(lambda: all_css(browser, "#artworks .artwork-card[data-artwork-id]"), timeout=30,
                      what="the new artwork's card")[0]
    assert card.get_attribute("data-status") == "processing"
    assert "created" in message.text and "error" not in message.get_attribute("class")
    upload_id = card.get_attribute("data-upload-id")

    if "worker" not in system.procs:  # else the worker an earlier test started takes it
        run = system.worker("--once")
        assert run.returncode == 0, run.stderr[-3000:]
    image = by_css(browser, f'#artworks .artwork-card[data-upload-id="{upload_id}"] smart-image')
    wait_until(lambda: image.get_attribute("data-loaded") == "true", timeout=90, interval=0.2,
               what="the artwork's display image in its card")
    wait_until(lambda: card.get_attribute("data-status") == "active", timeout=15, what="the card's status, live")
    seen = [s["state"] for s in browser.execute_script("return window.__states[arguments[0]] || []", upload_id)]
    assert seen[-1] == "done" and len(set(seen)) >= 2, seen  # it changed in the page, without a reload
    img = image.find_element("css selector", "picture img")
    assert img.get_attribute("alt") == "Blue Hour" and "size=display" in img.get_attribute("src")

    # hidden from the public, then back, through the API
    card.find_element("css selector", 'form[data-action="visibility"] button').click()
    wait_until(lambda: card.get_attribute("data-status") == "hidden", timeout=15, what="the artwork hidden")
    assert requests.get(f"{system.api_url}/artists/alice/blue-hour", timeout=30).status_code == 404
    assert not card.find_element("css selector", ".artwork-link").is_displayed()
    card.find_element("css selector", 'form[data-action="visibility"] button').click()
    wait_until(lambda: card.get_attribute("data-status") == "active", timeout=15, what="the artwork shown again")

    def loaded(selector: str) -> Any:
        found = by_css(browser, selector)
        ready = browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", found)
        return found if ready else None

    # the public pages, as the navigation and the card link to them
    by_css(browser, '.topbar a[href="/artists/alice"]').click()
    tile = wait_until(lambda: all_css(browser, 'a.artwork-tile[href="/artists/alice/blue-hour"]'), timeout=15,
                      what="the artist page")[0]
    wait_until(lambda: loaded("a.artwork-tile img"), timeout=30, what="the grid image")
    assert "size=thumbnail" in browser.execute_script("return arguments[0].currentSrc",
                                                      by_css(browser, "a.artwork-tile img"))
    tile.click()
    wait_until(lambda: browser.current_url.endswith("/artists/alice/blue-hour"), timeout=15, what="the artwork page")
    assert by_css(browser, "h1").text == "Blue Hour"
    assert [t.text for t in all_css(browser, ".tags li")] == ["sea", "dusk"]
    display = wait_until(lambda: loaded(".artwork-display img"), timeout=30, what="the display image")
    assert display.get_attribute("alt") == "Blue Hour"
    current = browser.execute_script("return arguments[0].currentSrc", display)
    assert "size=display" in current and "format=avif" in current, current
    # the file is 1200 wide; naturalWidth is in CSS pixels of the srcset's density (1200w for 700px)
    assert browser.execute_script("return arguments[0].naturalWidth", display) > 0
    # and for anyone: no session
    public = requests.get(f"{system.api_url}/artists/alice/blue-hour", timeout=30)
    assert public.status_code == 200 and "<h1>Blue Hour</h1>" in public.text


def test_the_home_gallery_takes_uploads_made_elsewhere_but_not_artworks(system: System, browser: Any,
                                                                       tmp_path: Path):
    """An upload made through the API joins the open home page's gallery live; an artwork's
    image, made elsewhere meanwhile, does not (it lives on /artworks with its artwork)."""
    from tests.system.e2e.test_artworks import create, direct_upload

    sign_in(browser, system)
    wait_until(lambda: all_css(browser, "#gallery"), timeout=15, what="the home page")
    wait_until(lambda: browser.execute_script("return (window.__sources || []).length") == 1, timeout=15,
               what="the page's event stream")

    key = direct_upload(system.api_url, system.token, images.photo_jpeg(tmp_path / "w.jpg", 800, 600, seed=21)
                        .read_bytes(), expect_method="PUT")
    made = create(system.api_url, system.token, key, title="Made Elsewhere")
    assert made.status_code == 201, made.text
    artwork_upload = made.json()["upload"]["id"]
    answer = system.upload(system.token, {"product_image": images.photo_jpeg(tmp_path / "p.jpg", 640, 480, seed=22)})
    assert answer.status_code == 200, answer.text
    product = requests.get(f"{system.api_url}/api/uploads?data_type=product", timeout=30,
                           headers={"Authorization": f"Token {system.token}"}).json()["results"][0]["id"]

    wait_until(lambda: all_css(browser, f'#gallery .card[data-upload-id="{product}"]'), timeout=30,
               what="the API upload's card, live")
    assert not all_css(browser, f'#gallery .card[data-upload-id="{artwork_upload}"]')


# a 1x1 PNG: what the ThumbHash placeholder is made of (a data: URL)
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ"
         "RU5ErkJggg==")

# What the policy must refuse on the page: an inline script, an image of another origin (a name
# that resolves nowhere); and what it must allow: a data: image
PROBE = """
const [pixel, done] = arguments;
window.__inlineRan = false;
const script = document.createElement('script');
script.textContent = 'window.__inlineRan = true';
document.body.append(script);
const load = (src) => new Promise((resolve) => {
  const img = new Image();
  img.onload = () => resolve(true);
  img.onerror = () => resolve(false);
  img.src = src;
});
Promise.all([load(pixel), load('http://csp-probe.invalid/x.png')]).then(([data]) => {
  setTimeout(() => done({inlineRan: window.__inlineRan, dataImage: data, refused: window.__csp.splice(0)}), 100);
});
"""


def test_no_demo_page_breaks_its_content_security_policy(system: System, browser: Any, tmp_path: Path):
    """Every page the demo site serves, signed out and in, with processed images and their
    placeholders: no violation of the policy from the first byte to the images loaded and the
    event stream open, while the policy is in force (an inline script does not run, an image of
    another origin is refused, a data: image loads). The public pages keep the placeholder's
    colour under their no-JavaScript pictures without a style attribute."""
    from tests.system.e2e.test_artworks import create, direct_upload

    # an upload and a public artwork of alice's, processed (by the worker an earlier test started)
    answer = system.upload(system.token, {"event_image": images.photo_jpeg(tmp_path / "e.jpg", 900, 600, seed=31)})
    assert answer.status_code == 200, answer.text
    key = direct_upload(system.api_url, system.token, images.photo_jpeg(tmp_path / "a.jpg", 1000, 800, seed=32)
                        .read_bytes(), expect_method="PUT")
    made = create(system.api_url, system.token, key, title="Policy Check")
    assert made.status_code == 201, made.text
    if "worker" not in system.procs:
        system.spawn("worker", ["-m", "media_vm", "worker"])
    headers = {"Authorization": f"Token {system.token}"}
    artwork_url = f"{system.api_url}/api/artworks/{made.json()['id']}"
    wait_until(lambda: requests.get(artwork_url, headers=headers, timeout=30).json()["status"] == "active",
               timeout=120, interval=0.5, what="the artwork active")
    colour = requests.get(f"{system.api_url}/api/uploads/{made.json()['upload']['id']}", headers=headers,
                          timeout=30).json()["placeholder"]["dominant_color"]
    slug = made.json()["slug"]

    def settled() -> bool:
        """Loaded: every <img> (a lazy one off screen aside), every processed component's image."""
        return bool(browser.execute_script("""
            return document.readyState === 'complete'
              && [...document.images].every(i => i.complete || i.loading === 'lazy')
              && [...document.querySelectorAll('smart-image[data-state="done"]')]
                   .every(e => e.dataset.loaded === 'true');
        """))

    def check(page: str) -> None:
        wait_until(settled, timeout=30, interval=0.2, what=f"the {page} page loaded")
        if all_css(browser, "smart-image[upload-id]"):  # the page's event stream open too
            wait_until(lambda: browser.execute_script("return (window.__sources || []).length") == 1, timeout=15,
                       what=f"the {page} page's event stream")
        time.sleep(0.3)
        assert browser.execute_script("return window.__csp.splice(0)") == [], page
        probe = browser.execute_async_script(PROBE, PIXEL)
        assert probe["inlineRan"] is False and probe["dataImage"] is True, (page, probe)
        refused = " ".join(probe["refused"])
        assert "script-src-elem refused inline" in refused and "img-src refused http://csp-probe.invalid" in refused, (
            page, probe)

    browser.delete_all_cookies()  # signed out
    browser.get(f"{system.api_url}/login")
    check("sign-in")
    by_css(browser, "#id_username").send_keys("nobody")
    by_css(browser, "#id_password").send_keys("wrong")
    by_css(browser, "#password-form button").click()
    wait_until(lambda: all_css(browser, ".signin .error"), timeout=15, what="the refusal")
    check("refused sign-in")
    for page, path in (("artist", "/artists/alice"), ("artwork", f"/artists/alice/{slug}"),
                       ("no such artist", "/artists/nobody-at-all"), ("no such artwork", "/artists/alice/no-such")):
        browser.get(f"{system.api_url}{path}")
        check(page)
        if page == "artwork":
            # the placeholder's colour under the picture, from its data attribute (no JavaScript here)
            img = by_css(browser, ".artwork-display img")
            assert img.get_dom_attribute("style") is None and img.get_dom_attribute("data-dominant-color") == colour
            rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
            assert browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", img) == (
                f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})")
    sign_in(browser, system)
    for page, path in (("profile", "/"), ("artworks", "/artworks")):
        browser.get(f"{system.api_url}{path}")
        check(page)
