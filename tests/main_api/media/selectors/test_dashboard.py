"""The operations dashboard: its selectors on a real database, and the admin page."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from main_api.media import vm_client
from main_api.media.models import Upload
from main_api.media.selectors.dashboard import (
    percentile,
    upload_counts,
    upload_failure_reasons,
    upload_failures_recent,
    upload_processing_times,
    uploads_stuck,
    uploads_throughput_per_hour,
)
from main_api.media.services.lifecycle import upload_complete, upload_fail
from main_api.users.models import User
from tests.helpers.processes import free_port
from tests.main_api.support import make_pending

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)

VM_METRICS = """\
# HELP media_vm_jobs Images in the media DB by state.
# TYPE media_vm_jobs gauge
media_vm_jobs{state="queued"} 4
media_vm_jobs{state="processing"} 1
media_vm_jobs{state="done"} 37
media_vm_jobs{state="failed"} 2
# HELP media_vm_step_failures Checklist steps whose last attempt failed.
# TYPE media_vm_step_failures gauge
media_vm_step_failures{step="resize_optimize"} 2
# HELP media_vm_processing_seconds Seconds from registration to done, per image.
# TYPE media_vm_processing_seconds summary
media_vm_processing_seconds_count 37
media_vm_processing_seconds_sum 74.0
# HELP media_vm_queue_depth_seen Pending images the main API listed at a worker's last poll.
# TYPE media_vm_queue_depth_seen gauge
media_vm_queue_depth_seen{worker="vm1-100"} 5
# HELP media_vm_worker_last_seen_timestamp Last heartbeat of each worker (unix time).
# TYPE media_vm_worker_last_seen_timestamp gauge
media_vm_worker_last_seen_timestamp{worker="vm1-100"} %d
"""


def image_at(user, field: str, *, created: datetime, processed: datetime | None = None, media_id: str = ""):
    """A pending row uploaded at ``created`` and, if given, processed at ``processed``."""
    image = make_pending(user, field)
    if processed is not None:
        upload_complete(
            image_id=image.pk, media_id=media_id or f"{image.pk:032x}", permanent_url="",
            formats_available=["jpeg"], sizes_available=["thumbnail"], ai_analysis={},
        )
        Upload.objects.filter(pk=image.pk).update(processed_at=processed)
    Upload.objects.filter(pk=image.pk).update(created_at=created, updated_at=processed or created)
    return Upload.objects.get(pk=image.pk)


@pytest.fixture
def fake_vm(settings):
    """A local HTTP server speaking the media VM's /health and /metrics."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path == "/health":
                body, kind = json.dumps({"status": "ok", "database": "ok", "storage": "ok"}), "application/json"
            elif self.path == "/metrics":
                body, kind = VM_METRICS % int(datetime.now(UTC).timestamp() - 7), "text/plain; version=0.0.4"
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.MEDIA_BACKEND_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield settings.MEDIA_BACKEND_URL
    server.shutdown()
    server.server_close()


@pytest.fixture
def vm_down(settings):
    settings.MEDIA_BACKEND_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.MEDIA_VM_STATUS_TIMEOUT = 0.5


@pytest.fixture
def rows(artist, make_user, temp_dir):
    """A day of activity around NOW."""
    other = make_user("promoter")
    made = {
        "fresh": image_at(artist, "profile_image", created=NOW - timedelta(minutes=10)),
        "stuck": image_at(artist, "header_image", created=NOW - timedelta(hours=3)),
        "stuck_older": image_at(other, "site_image", created=NOW - timedelta(hours=5)),
        # processed: 10 s, 20 s, ... 100 s after upload, spread over the last hours
        "done": [
            image_at(artist if n % 2 else other, "product_image", created=NOW - timedelta(hours=n, seconds=10 * n),
                     processed=NOW - timedelta(hours=n))
            for n in range(1, 11)
        ],
        # processed two days ago: outside every window
        "old": image_at(artist, "event_image", created=NOW - timedelta(days=2, seconds=5000),
                        processed=NOW - timedelta(days=2)),
    }
    failed = []
    for n, reason in enumerate(["decoder crashed", "decoder crashed", "refused: too many pixels"]):
        image = make_pending(artist, "site_image")
        upload_fail(image_id=image.pk, reason=reason)
        Upload.objects.filter(pk=image.pk).update(updated_at=NOW - timedelta(hours=n + 1))
        failed.append(image)
    long_ago = make_pending(artist, "site_image")
    upload_fail(image_id=long_ago.pk, reason="ancient")
    Upload.objects.filter(pk=long_ago.pk).update(updated_at=NOW - timedelta(days=3))
    made["failed"], made["failed_long_ago"] = failed, long_ago
    return made


def test_counts_stuck_and_failures(rows):
    # a completion completes its upload at once (its references follow in the same transaction)
    assert upload_counts() == {"pending": 3, "processed": 0, "complete": 11, "failed": 4}
    assert list(uploads_stuck(now=NOW)) == [rows["stuck_older"], rows["stuck"]]
    assert list(uploads_stuck(now=NOW, older_than=timedelta(hours=4))) == [rows["stuck_older"]]
    assert list(upload_failures_recent(now=NOW)) == rows["failed"]  # newest first
    assert upload_failure_reasons(now=NOW) == [("decoder crashed", 2), ("refused: too many pixels", 1)]


def test_processing_times_average_and_p95(rows):
    times = upload_processing_times(now=NOW)
    # the ten processed within the day took 10, 20, ... 100 seconds
    assert times.count == 10
    assert times.average_seconds == pytest.approx(55.0)
    assert times.p95_seconds == pytest.approx(100.0)
    assert upload_processing_times(now=NOW, since=timedelta(hours=3, minutes=30)).p95_seconds == pytest.approx(30.0)
    assert upload_processing_times(now=NOW - timedelta(days=5)).count == 0


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([], 0.95) is None


def test_throughput_per_hour(rows):
    hours = uploads_throughput_per_hour(now=NOW)
    assert len(hours) == 24
    assert hours[-1][0] == datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert hours[0][0] == datetime(2026, 11, 19, 13, tzinfo=UTC)
    by_hour = dict(hours)
    # one image processed at NOW - n hours, n = 1..10: hours 11:00 down to 02:00 hold one each
    for n in range(1, 11):
        assert by_hour[datetime(2026, 11, 20, 12 - n, tzinfo=UTC)] == 1
    assert by_hour[datetime(2026, 11, 20, 12, tzinfo=UTC)] == 0
    assert sum(by_hour.values()) == 10


def test_media_vm_status_from_health_and_metrics(db, fake_vm):
    status = vm_client.media_vm_status_get()
    assert status.reachable and status.healthy
    assert status.jobs == {"queued": 4, "processing": 1, "done": 37, "failed": 2}
    assert status.step_failures == {"resize_optimize": 2}
    assert status.average_processing_seconds == pytest.approx(2.0)
    [(worker, depth, age)] = status.workers
    assert (worker, depth) == ("vm1-100", 5) and 5 <= age < 60


def test_media_vm_unreachable(db, vm_down):
    status = vm_client.media_vm_status_get()
    assert not status.reachable and not status.healthy
    assert "ConnectionError" in status.error


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ops", "ops@example.test", "pw-for-tests-only"))
    return client


def test_the_dashboard_page_shows_the_numbers(staff_client, rows, fake_vm):
    # the rows were made around NOW; move them so that "now" at request time sees the same picture
    shift = timezone.now() - NOW
    for field in ("created_at", "updated_at", "processed_at"):
        for image in Upload.objects.exclude(**{f"{field}__isnull": True}):
            Upload.objects.filter(pk=image.pk).update(**{field: getattr(image, field) + shift})

    index = staff_client.get("/admin/")
    assert index.status_code == 200 and 'href="/admin/dashboard/"' in index.content.decode()

    response = staff_client.get("/admin/dashboard/")
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.queue_length == 3 and dashboard.stuck_total == 2 and dashboard.failures_total == 3
    assert dashboard.processing.count == 10 and dashboard.throughput_total == 10
    page = response.content.decode()
    for text in ('<div class="value">3</div>', "decoder crashed", "refused: too many pixels", "55.0 s", "100.0 s",
                 "done: 37", "vm1-100: queue seen 5", "database: ok", f"#{rows['stuck'].pk}"):
        assert text in page, text
    assert "ancient" not in page  # failed three days ago


def test_the_dashboard_says_when_the_vm_is_unreachable(staff_client, vm_down):
    response = staff_client.get("/admin/dashboard/")
    assert response.status_code == 200
    assert "unreachable" in response.content.decode()


def test_the_dashboard_is_staff_only(client, artist):
    assert client.get("/admin/dashboard/").status_code == 302
    client.force_login(artist)
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_text_colour_of_the_dashboard_meets_wcag_aa_in_the_light_and_dark_themes(staff_client, fake_vm):
    """WCAG 2.1 AA (4.5:1, normal text) for every colour the page gives text, read from the
    rendered page's CSS: the admin's sheets it links (light theme, dark theme by query and by
    toggle) and the dashboard's own rules. The VM's health used to be written in
    ``--message-success-bg``, a background colour (1.1:1 on white)."""
    from django.contrib.staticfiles import finders

    from tests.helpers.contrast import contrast_ratio, resolve, rules, theme_variables

    page = staff_client.get("/admin/dashboard/").content.decode()
    assert 'class="dash-ok"' in page  # the healthy VM's line is on the page, in the class checked below
    sheets = [open(finders.find(href.removeprefix(settings.STATIC_URL)), encoding="utf-8").read()
              for href in re.findall(r'<link rel="stylesheet" href="([^"]+\.css)"', page)]
    own = rules("\n".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S)))
    assert own, "the dashboard's own style rules"
    themes = theme_variables([rule for sheet in sheets for rule in rules(sheet)] + own)
    pairs = {"page text": ("var(--body-fg)", "var(--body-bg)"), "links": ("var(--link-fg)", "var(--body-bg)")}
    for rule in own:
        if "color" in rule.declarations:
            background = rule.declarations.get("background-color", rule.declarations.get("background"))
            pairs[", ".join(rule.selectors)] = (rule.declarations["color"], background or "var(--body-bg)")
    assert ".dash-ok" in pairs and ".dash-bad" in pairs
    too_faint = {}
    for theme, variables in themes.items():
        for what, (text, background) in pairs.items():
            ratio = contrast_ratio(resolve(text, variables), resolve(background, variables))
            if ratio < 4.5:
                too_faint[f"{theme}: {what}"] = round(ratio, 2)
    assert not too_faint, too_faint
