"""POST /api/uploads/from-url: the main API fetches an image and takes it as a PATCH /users/me
upload, and refuses every URL, address, redirect, size and delay the rules refuse, storing nothing.

The images come from a real HTTP server on 127.0.0.1 (:class:`ImageHost`) that each test's
``URL_IMPORT_ALLOWED_HOSTS`` names by exact host and port. No test connects anywhere else:
``no_connection_leaves_loopback`` fails any connection to an address outside 127.0.0.0/8 before it
is made (and records it), so the refusal tests prove the rule without sending a packet out.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
import threading
import time

import pytest
import urllib3.util.connection

from main_api.media.intake.url_connections import address_refused, allowed_hosts_parse
from main_api.media.intake.url_import import UrlImportError, url_fetch
from main_api.media.models import Upload
from main_api.users.models import ArtistProfile, SiteMedia, UserProfile
from tests.helpers.files import files_under
from tests.helpers.image_host import ImageHost
from tests.helpers.images import image_bytes
from tests.helpers.processes import wait_until
from tests.helpers.trickle_host import trickle_host
from tests.main_api.support import client_for

ENDPOINT = "/api/uploads/from-url"
MAX_BYTES = 64 * 1024

@pytest.fixture
def image_host():
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture
def other_host():
    """A second loopback server, on a port no allow-list names."""
    host = ImageHost()
    yield host
    host.close()


@pytest.fixture(autouse=True)
def no_connection_leaves_loopback(monkeypatch):
    """Every outgoing connection of the fetch to an address outside 127.0.0.0/8 fails before a
    packet is sent; the addresses tried are recorded here."""
    attempted: list[str] = []
    real = urllib3.util.connection.create_connection

    def guarded(address, *args, **kwargs):
        host = address[0].strip("[]")
        try:
            loopback_v4 = ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            loopback_v4 = False  # a name: only an allow-listed one gets here unpinned; none in these tests
        if not loopback_v4:
            attempted.append(host)
            raise ConnectionRefusedError(f"test guard: no connection to {host}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)
    return attempted


@pytest.fixture
def url_import_settings(main_api_settings, image_host):
    main_api_settings.URL_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{image_host.port}"]
    main_api_settings.URL_IMPORT_TIMEOUT_SECONDS = 3.0
    main_api_settings.MAX_UPLOAD_BYTES = MAX_BYTES
    main_api_settings.UPLOAD_THROTTLE_RATE = "60/min"
    return main_api_settings


@pytest.fixture
def fake_dns(monkeypatch):
    """``names`` (a dict the test fills): a name -> the addresses ``socket.getaddrinfo`` answers for
    it, one list per lookup in turn (the last one repeats); other names resolve as usual. Lookups
    of each name are counted in ``names["_count"]``."""
    names: dict = {"_count": {}}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if isinstance(host, bytes):
            host = host.decode()
        if host in names:
            count = names["_count"].get(host, 0)
            names["_count"][host] = count + 1
            answers = names[host]
            address = answers[min(count, len(answers) - 1)]
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port or 0, 0, 0) if fam == socket.AF_INET6 else (address, port or 0)
            return [(fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def post(client, url: str, field: str = "profile_image"):
    return client.post(ENDPOINT, {"url": url, "field": field}, format="json")


def assert_nothing_stored(user, temp_dir):
    assert Upload.objects.filter(user=user).count() == 0
    assert files_under(temp_dir) == []
    assert SiteMedia.objects.filter(user=user).count() == 0
    profile = UserProfile.objects.get(user=user)
    assert (profile.profile_image_path, profile.header_image_path) == ("", "")


def refused(response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert set(body) == {"message", "extra"} and body["extra"]["reason"] == reason, body
    return body


# --- the happy path ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_image_from_a_url_becomes_an_upload_of_its_field(
    artist, user_client, temp_dir, image_host, url_import_settings
):
    data = image_bytes("PNG", (120, 80))
    url = image_host.body("/pics/Sunset%20Beach.png", data, content_type="application/octet-stream")

    response = post(user_client, url, field="header_image")

    assert response.status_code == 201, response.json()
    body = response.json()
    image = Upload.objects.get(user=artist)
    assert body["id"] == image.pk and body["field"] == "header_image" and body["data_type"] == "profile"
    assert body["status"] == "pending" and body["stage"] == "queued" and body["original_name"] == "Sunset Beach.png"
    assert image.mime_type == "image/png" and image.data_type == "profile" and image.target == "header_image"
    assert image.image_path.startswith(f"/temp_images/profiles/{artist.pk}-profile-") and image.image_path.endswith(
        ".png")
    (stored,) = files_under(temp_dir)
    assert stored.read_bytes() == data  # byte for byte what the server sent
    assert UserProfile.objects.get(user=artist).header_image_path == image.image_path
    # GET /api/uploads/{id} answers the same object
    assert user_client.get(f"/api/uploads/{image.pk}").json() == body
    # the request it made: our User-Agent, nothing of the user's
    ((path, headers),) = image_host.hits
    assert path == "/pics/Sunset%20Beach.png"
    assert headers["User-Agent"] == "oaf-media-url-import/1" and headers["Host"] == f"127.0.0.1:{image_host.port}"
    assert not {"Authorization", "Cookie"} & set(headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "data_type"), [("logo_image", "logo"), ("site_image", "sites"),
                                                    ("product_image", "product")])
def test_the_field_decides_data_type_and_reference(
    field, data_type, artist, user_client, temp_dir, image_host, url_import_settings
):
    url = image_host.body("/a.jpg", image_bytes("JPEG"))
    response = post(user_client, url, field=field)
    assert response.status_code == 201, response.json()
    image = Upload.objects.get(user=artist)
    assert response.json()["data_type"] == data_type == image.data_type
    if field == "logo_image":
        assert ArtistProfile.objects.get(user=artist).logo_path == image.image_path
    if field == "site_image":
        assert image.image_path.startswith("/temp_images/sites/")
        assert list(SiteMedia.objects.filter(user=artist).values_list("media_path", flat=True)) == [image.image_path]


@pytest.mark.django_db
def test_redirects_are_followed_and_cookies_of_one_hop_not_sent_to_the_next(
    artist, user_client, temp_dir, image_host, url_import_settings
):
    data = image_bytes("JPEG")
    image_host.body("/final.jpg", data)
    image_host.redirect("/r3", "/final.jpg", status=308)
    image_host.redirect("/r2", f"{image_host.base}/r3", status=301)
    url = image_host.redirect("/r1", "/r2")

    response = post(user_client, url)

    assert response.status_code == 201, response.json()
    assert files_under(temp_dir)[0].read_bytes() == data
    assert response.json()["original_name"] == "final.jpg"
    assert [path for path, _ in image_host.hits] == ["/r1", "/r2", "/r3", "/final.jpg"]
    assert all("Cookie" not in headers for _, headers in image_host.hits)


@pytest.mark.django_db
def test_the_same_bytes_again_are_a_duplicate(artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.body("/same.png", image_bytes("PNG", serial=4242))
    first = post(user_client, url)
    second = post(user_client, url)
    assert first.status_code == second.status_code == 201
    assert second.json()["duplicate_of"] == first.json()["id"]
    assert len(files_under(temp_dir)) == 1


@pytest.mark.django_db
def test_session_auth_works_with_csrf(artist, temp_dir, image_host, url_import_settings):
    from django.utils.crypto import get_random_string
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(artist)
    url = image_host.body("/s.png", image_bytes("PNG"))
    assert post(client, url).status_code == 403  # no CSRF token: refused before anything is fetched
    assert image_host.hits == []
    token = get_random_string(32)  # a CSRF secret, sent as the cookie and echoed in the header
    client.cookies["csrftoken"] = token
    response = client.post(ENDPOINT, {"url": url, "field": "profile_image"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_anonymous_is_refused(client, image_host, url_import_settings):
    url = image_host.body("/x.png", image_bytes("PNG"))
    response = client.post(ENDPOINT, {"url": url, "field": "profile_image"}, content_type="application/json")
    assert response.status_code == 401
    assert image_host.hits == []


# --- refusals: the URL itself -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://127.0.0.1/image.png", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:70/_x", "scheme"),
    ("data:image/png;base64,iVBORw0KGgo=", "scheme"),
    ("//127.0.0.1/image.png", "scheme"),
    ("http://127.0.0.1:99999/x.png", "bad_url"),
    ("http:///x.png", "bad_url"),
    ("http://exa mple.test/x.png", "bad_url"),
    ("http://" + "a" * 64 + ".test/x.png", "bad_url"),
])
def test_urls_that_are_not_http_are_refused(url, reason, artist, user_client, temp_dir, image_host,
                                             url_import_settings):
    refused(post(user_client, url), 400, reason)
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("userinfo", ["user:secret@", "user@", ":pw@"])
def test_userinfo_in_the_url_is_refused(userinfo, artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.body("/x.png", image_bytes("PNG")).replace("http://", f"http://{userinfo}")
    body = refused(post(user_client, url), 400, "credentials")
    assert "credentials" in body["message"]
    assert image_host.hits == []
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_an_unknown_field_is_refused(artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.body("/x.png", image_bytes("PNG"))
    response = post(user_client, url, field="artwork")
    assert response.status_code == 400 and "field" in response.json()["extra"]["fields"]
    assert image_host.hits == []


@pytest.mark.django_db
def test_a_community_users_logo_is_refused_before_fetching(make_user, temp_dir, image_host, url_import_settings):
    community = make_user("community")
    url = image_host.body("/logo.png", image_bytes("PNG"))
    response = post(client_for(community), url, field="logo_image")
    assert response.status_code == 400 and response.json()["extra"]["field"] == "logo_image"
    assert image_host.hits == []
    assert_nothing_stored(community, temp_dir)


# --- refusals: addresses ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_redirect_to_another_loopback_port_is_refused(
    artist, user_client, temp_dir, image_host, other_host, url_import_settings, no_connection_leaves_loopback
):
    target = other_host.body("/secret.png", image_bytes("PNG"))
    url = image_host.redirect("/hop", target)

    body = refused(post(user_client, url), 400, "address")

    assert body["extra"] == {"reason": "address", "url": target, "host": "127.0.0.1"}
    assert other_host.hits == []  # never reached
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_the_allow_list_is_exact_host_and_port(artist, user_client, temp_dir, image_host, url_import_settings):
    # the same server under another name is not the allow-listed entry: the address check applies
    url = image_host.body("/x.png", image_bytes("PNG")).replace("127.0.0.1", "localhost")
    refused(post(user_client, url), 400, "address")
    assert image_host.hits == []
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254", "100.64.0.1",
                                     "0.0.0.0", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"])
def test_a_name_that_resolves_to_a_private_address_is_refused(
    address, artist, user_client, temp_dir, url_import_settings, fake_dns, no_connection_leaves_loopback, caplog
):
    """The caller hears "not allowed", never the address the name resolved to (issue 25: how
    internal names resolve is not the caller's to learn); the log keeps it, as a warning."""
    fake_dns["images.example.test"] = [address]

    response = post(user_client, "http://images.example.test/cat.png")

    body = refused(response, 400, "address")
    assert body == {"message": "the URL's host images.example.test is not allowed",
                    "extra": {"reason": "address", "url": "http://images.example.test/cat.png",
                              "host": "images.example.test"}}
    mapped = ipaddress.ip_address(address)
    shown = {address, str(getattr(mapped, "ipv4_mapped", None) or mapped)}
    assert not any(form in response.content.decode() for form in shown)
    assert any(r.levelname == "WARNING" and "images.example.test resolves to" in r.getMessage()
               and any(form in r.getMessage() for form in shown) for r in caplog.records)
    assert no_connection_leaves_loopback == []  # refused before any connection was tried
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(
    artist, user_client, temp_dir, image_host, url_import_settings, fake_dns, no_connection_leaves_loopback
):
    """DNS rebinding: the name answers a public address first and loopback after. The fetch looks
    it up once and connects to the public address it checked (the guard refuses the connection, so
    nothing leaves the machine); a second lookup would have reached the loopback server."""
    image_host.body("/x.png", image_bytes("PNG"))
    fake_dns["rebind.example.test"] = ["93.184.215.14", "127.0.0.1"]

    body = refused(post(user_client, f"http://rebind.example.test:{image_host.port}/x.png"), 502, "unreachable")

    assert fake_dns["_count"]["rebind.example.test"] == 1
    assert no_connection_leaves_loopback == ["93.184.215.14"]
    assert image_host.hits == []
    assert "rebind.example.test" in body["message"]
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "[::]", "0.0.0.0", "127.1", "2130706433"])
def test_loopback_literals_are_refused(host, artist, user_client, temp_dir, image_host, url_import_settings,
                                       no_connection_leaves_loopback):
    refused(post(user_client, f"http://{host}:{image_host.port}/x.png"), 400, "address")
    assert image_host.hits == [] and no_connection_leaves_loopback == []
    assert_nothing_stored(artist, temp_dir)


def test_the_address_rule():
    refused_ = ["127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                "100.127.255.254", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
                "198.18.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
                "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1",
                "2002:a00:1::", "2001::1", "2001:db8::1", "::127.0.0.1"]
    public = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
    assert [a for a in refused_ if not address_refused(ipaddress.ip_address(a))] == []
    assert [a for a in public if address_refused(ipaddress.ip_address(a))] == []


def test_allow_list_entries_are_exact():
    assert allowed_hosts_parse(["127.0.0.1:8080", "[::1]:9000", "Images.Internal:443"]) == {
        ("127.0.0.1", 8080), ("::1", 9000), ("images.internal", 443)}
    from django.core.exceptions import ImproperlyConfigured

    for bad in ["127.0.0.1", "images.internal", "*:80", "http://a:80", "a:0", "a:70000", "::1:80"]:
        with pytest.raises(ImproperlyConfigured):
            allowed_hosts_parse([bad])


# --- refusals: redirects, size, time, content ---------------------------------------------------


@pytest.mark.django_db
def test_more_than_three_redirects_are_refused(artist, user_client, temp_dir, image_host, url_import_settings):
    image_host.body("/final.png", image_bytes("PNG"))
    for i in range(1, 5):
        image_host.redirect(f"/r{i}", f"/r{i + 1}" if i < 4 else "/final.png")

    body = refused(post(user_client, f"{image_host.base}/r1"), 400, "too_many_redirects")

    assert body["extra"]["max_redirects"] == 3
    assert [path for path, _ in image_host.hits] == ["/r1", "/r2", "/r3", "/r4"]  # the 4th is not followed
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_a_redirect_to_another_scheme_is_refused(artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.redirect("/r", "file:///etc/passwd")
    refused(post(user_client, url), 400, "scheme")
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_a_declared_length_over_the_limit_is_refused_unread(
    artist, user_client, temp_dir, image_host, url_import_settings
):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(MAX_BYTES + 1))
        handler.end_headers()
        handler.wfile.flush()
        # the body never comes: a client that read it would wait for the deadline (504)
        image_host.stop.wait(10)

    image_host.routes["/big.png"] = route
    body = refused(post(user_client, f"{image_host.base}/big.png"), 413, "too_large")  # not 504: no body was awaited
    assert body["extra"]["declared_bytes"] == MAX_BYTES + 1 and body["extra"]["max_bytes"] == MAX_BYTES
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "undeclared"])
def test_a_body_over_the_limit_is_refused_while_streaming(
    chunked, artist, user_client, temp_dir, image_host, url_import_settings
):
    written = []

    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Connection", "close")  # no length: the body ends when the connection does
            handler.close_connection = True
        handler.end_headers()
        piece = image_bytes("PNG")[:1024].ljust(1024, b"\0")
        for _ in range(4 * MAX_BYTES // 1024):  # four times the limit, if the client kept reading
            if chunked:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                handler.wfile.write(piece)
            written.append(len(piece))
        if chunked:
            handler.wfile.write(b"0\r\n\r\n")

    image_host.routes["/stream.png"] = route
    body = refused(post(user_client, f"{image_host.base}/stream.png"), 413, "too_large")
    assert body["extra"]["max_bytes"] == MAX_BYTES and "declared_bytes" not in body["extra"]
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("behaviour", ["silent", "trickle"])
def test_a_server_that_never_answers_is_given_up_at_the_deadline(
    behaviour, artist, user_client, temp_dir, image_host, url_import_settings
):
    url_import_settings.URL_IMPORT_TIMEOUT_SECONDS = 1.0

    def route(handler):
        if behaviour == "trickle":  # headers at once, then a byte every 0.2 s forever
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", "50000")
            handler.end_headers()
            handler.wfile.write(image_bytes("PNG")[:8])
            while not image_host.stop.wait(0.2):
                handler.wfile.write(b"\0")
                handler.wfile.flush()
        else:  # reads the request, answers nothing
            image_host.stop.wait(10)

    image_host.routes["/slow.png"] = route
    started = time.monotonic()
    body = refused(post(user_client, f"{image_host.base}/slow.png"), 504, "timeout")
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.5, elapsed  # the server would hold on for 10 s
    assert body["extra"]["timeout_seconds"] == pytest.approx(1.0, abs=0.05)
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_a_body_that_is_not_an_image_gets_the_gates_400(artist, user_client, temp_dir, image_host,
                                                         url_import_settings):
    url = image_host.body("/page.png", b"<!DOCTYPE html><html><body>hello</body></html>", content_type="image/png")
    response = post(user_client, url)
    assert response.status_code == 400
    body = response.json()
    assert body["extra"]["field"] == "profile_image" and "not an accepted image type" in body["message"]
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [404, 500, 204, 206])
def test_only_a_200_is_taken(status, artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.body("/x.png", image_bytes("PNG"), status=status) if status != 204 else None
    if status == 204:
        def route(handler):
            handler.send_response(204)
            handler.end_headers()

        image_host.routes["/x.png"] = route
        url = f"{image_host.base}/x.png"
    body = refused(post(user_client, url), 502, "status")
    assert body["extra"]["status"] == status
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_a_closed_port_is_a_502(artist, user_client, temp_dir, url_import_settings):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    url_import_settings.URL_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    refused(post(user_client, f"http://127.0.0.1:{port}/x.png"), 502, "unreachable")
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
@pytest.mark.parametrize("failure", ["closed port", "not 200", "deadline"])
def test_what_the_remote_host_did_is_logged_as_a_warning_not_an_error(
    failure, artist, user_client, temp_dir, image_host, url_import_settings, caplog
):
    """A 502/504 of an import reports the host the user named, not a fault of this server:
    ``django.request`` logs it as a warning (issue 25), and nothing at ERROR."""
    url_import_settings.URL_IMPORT_TIMEOUT_SECONDS = 0.5
    if failure == "closed port":
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        url_import_settings.URL_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
        url, status = f"http://127.0.0.1:{port}/x.png", 502
    elif failure == "not 200":
        url, status = image_host.body("/x.png", image_bytes("PNG"), status=500), 502
    else:
        image_host.routes["/slow.png"] = lambda handler: image_host.stop.wait(5)
        url, status = f"{image_host.base}/slow.png", 504
    assert post(user_client, url).status_code == status
    logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert ("django.request", "WARNING", f"{'Bad Gateway' if status == 502 else 'Gateway Timeout'}: {ENDPOINT}") \
        in logged, logged
    assert [entry for entry in logged if entry[1] in ("ERROR", "CRITICAL")] == []


# --- the budget -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_upload_budget_applies_and_a_spent_one_fetches_nothing(
    artist, user_client, temp_dir, image_host, url_import_settings
):
    url_import_settings.UPLOAD_THROTTLE_RATE = "2/min"
    first = image_host.body("/1.png", image_bytes("PNG"))
    assert post(user_client, first).status_code == 201
    # a refused import costs its unit too, as a refused file of a PATCH does
    refused(post(user_client, "ftp://127.0.0.1/x.png"), 400, "scheme")
    hits = len(image_host.hits)

    response = post(user_client, image_host.body("/2.png", image_bytes("PNG")))

    assert response.status_code == 429 and "Retry-After" in response
    assert set(response.json()) == {"message", "extra"}
    assert len(image_host.hits) == hits  # nothing fetched
    assert Upload.objects.filter(user=artist).count() == 1


@pytest.mark.django_db
def test_a_patch_spends_the_same_budget(artist, user_client, temp_dir, image_host, url_import_settings):
    from tests.main_api.support import upload

    url_import_settings.UPLOAD_THROTTLE_RATE = "1/min"
    assert upload(user_client, profile_image=("a.png", image_bytes("PNG"))).status_code == 200
    response = post(user_client, image_host.body("/x.png", image_bytes("PNG")))
    assert response.status_code == 429
    assert image_host.hits == []


def test_the_endpoint_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/uploads/from-url"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "401", "413", "429", "502", "504"}
    assert operation["operationId"] == "uploads_from_url"


def test_an_import_may_name_the_tool_that_made_it(artist, user_client, temp_dir, image_host, url_import_settings):
    url = image_host.body("/a.png", image_bytes("PNG", (60, 40)), content_type="image/png")
    answer = user_client.post("/api/uploads/from-url", {"url": url, "field": "product_image",
                                                        "source_tool": "sora"}, format="json")
    assert answer.status_code == 201, answer.json()
    assert Upload.objects.get(user=artist).source_tool == "sora"
    refused = user_client.post("/api/uploads/from-url", {"url": url, "field": "product_image",
                                                         "source_tool": "photoshop"}, format="json")
    assert refused.status_code == 400 and "source_tool" in refused.json()["extra"]["fields"]
    assert image_host.hits and len(image_host.hits) == 1, "a refused tool fetches nothing"


# --- the deadline and the bound on imports in flight -------------------------------------------


def _open_sockets() -> int:
    """Sockets this process holds open now (``/proc/self/fd``)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own fd is gone by now
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["head", "body"])
def test_at_the_deadline_20_trickling_imports_leave_no_thread_or_socket_and_the_21st_is_a_429(
    part, artist, user_client, temp_dir, url_import_settings
):
    """Issue 25 #6: an HTTP/1.0 server that trickles a byte every 0.2 s (its status line, or its
    body after the headers) holds 20 imports; at the deadline each is a 504 and, within a second,
    the process has the threads and sockets it had before (the server goes on trickling). The
    21st import while they run is refused at once: 429, ``Retry-After``, nothing fetched."""
    deadline = 1.5
    url_import_settings.URL_IMPORT_TIMEOUT_SECONDS = deadline
    url_import_settings.URL_IMPORT_MAX_IN_FLIGHT = 20
    with trickle_host(0.2) as host:
        url_import_settings.URL_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{host.port}"]
        threads_before, sockets_before = set(threading.enumerate()), _open_sockets()
        outcomes: list[BaseException | None] = []

        def one_import():
            try:
                url_fetch(url=f"{host.base}/{part}")
                outcomes.append(None)
            except BaseException as e:  # noqa: BLE001 - the test reads it below
                outcomes.append(e)

        callers = [threading.Thread(target=one_import) for _ in range(20)]
        started = time.monotonic()
        for caller in callers:
            caller.start()
        wait_until(lambda: _open_sockets() >= sockets_before + 20, timeout=deadline / 2, interval=0.02,
                   what="20 connections")
        refused_at = time.monotonic()
        body = refused(post(user_client, f"{host.base}/{part}"), 429, "busy")
        assert time.monotonic() - refused_at < 0.5
        assert body["extra"]["max_in_flight"] == 20
        for caller in callers:
            caller.join(timeout=deadline + 5)
        assert [getattr(e, "status_code", e) for e in outcomes] == [504] * 20
        assert time.monotonic() - started < deadline + 0.5

        def back_to_baseline():
            return set(threading.enumerate()) <= threads_before and _open_sockets() <= sockets_before

        try:
            wait_until(back_to_baseline, timeout=started + deadline + 1 - time.monotonic(), interval=0.02)
        except TimeoutError:
            pytest.fail(f"a second after the deadline: {len(set(threading.enumerate()) - threads_before)} threads "
                        f"and {_open_sockets() - sockets_before} sockets more than before")
    assert_nothing_stored(artist, temp_dir)


@pytest.mark.django_db
def test_a_429_for_imports_in_flight_says_when_to_retry(artist, user_client, temp_dir, url_import_settings):
    url_import_settings.URL_IMPORT_TIMEOUT_SECONDS = 3.0
    url_import_settings.URL_IMPORT_MAX_IN_FLIGHT = 1
    with trickle_host(0.2) as host:
        url_import_settings.URL_IMPORT_ALLOWED_HOSTS = [f"127.0.0.1:{host.port}"]
        holder = threading.Thread(target=lambda: pytest.raises(UrlImportError, url_fetch, url=f"{host.base}/body"))
        holder.start()
        try:
            time.sleep(0.3)
            response = post(user_client, f"{host.base}/body")
            body = refused(response, 429, "busy")
            assert response["Retry-After"] == "3"  # the held import's deadline, in whole seconds up
            assert body["extra"] == {"reason": "busy", "max_in_flight": 1, "retry_after": 3}
        finally:
            holder.join(timeout=10)
    assert_nothing_stored(artist, temp_dir)
