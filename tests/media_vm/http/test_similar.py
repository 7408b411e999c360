"""``GET /similar/{media_id}`` over real HTTP on loopback."""

from __future__ import annotations

from dataclasses import replace

import requests

from media_vm.config import Settings
from media_vm.http import MediaApp
from tests.helpers.wsgi import serving
from tests.media_vm.test_similarity import NEAR, add


def test_similar_over_http(media_db_url, tmp_path):
    app = MediaApp(replace(Settings(), database_url=media_db_url, storage_root=tmp_path / "media",
                           main_api_keys=("new-key", "old-key")))
    me, _ = add(app.repo, 1)
    near, _ = add(app.repo, 2, sha="e" * 64, embedding=NEAR)
    try:
        with serving(app) as base, requests.Session() as http:
            http.headers["Authorization"] = "Bearer old-key"  # any key of the list, as while rotating
            r = http.get(f"{base}/similar/{me['media_id']}", params={"limit": 5}, timeout=10)
            assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
            assert [x["media_id"] for x in r.json()["results"]] == [near["media_id"]]
            bad = http.get(f"{base}/similar/{me['media_id']}?limit=zero", timeout=10)
            assert bad.status_code == 400 and set(bad.json()) == {"message", "extra"}
            assert http.get(f"{base}/similar/{me['media_id']}?scope=world", timeout=10).status_code == 400
            unknown = http.get(f"{base}/similar/{'0' * 32}", timeout=10)
            assert unknown.status_code == 404 and unknown.json()["extra"] == {"media_id": "0" * 32}
            assert http.get(f"{base}/similar/not-an-id", timeout=10).status_code == 404
    finally:
        app.engine.dispose()
