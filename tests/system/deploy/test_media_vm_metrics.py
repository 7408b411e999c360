"""The media VM's /metrics: processing-seconds histogram and step retries, from a real media DB."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from media_vm.checklist import Step
from media_vm.config import Settings
from media_vm.http import MediaApp
from tests.helpers.databases import DB_KINDS, media_database


@pytest.mark.parametrize("kind", DB_KINDS)
def test_histogram_and_retries(kind, tmp_path):
    with media_database(kind, tmp_path) as url:
        app = MediaApp(replace(Settings(), database_url=url, storage_root=tmp_path / "media",
                               main_api_key="k"))
        repo = app.repo
        for main_id, seconds, resize_attempts in ((1, 0.5, 1), (2, 4.0, 3), (3, 45.0, 2)):
            repo.register({"id": main_id, "user_id": 1, "image_path": "/temp_images/profiles/x.png",
                           "data_type": "product", "mime_type": "image/png"})
            claim = repo.claim_next("t")
            for _ in range(resize_attempts):
                repo.step_started(claim, Step.RESIZE_OPTIMIZE)
            repo.finish(claim, processing_seconds=seconds)

        status = []
        environ = {"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET", "HTTP_AUTHORIZATION": "Bearer k"}
        body = b"".join(app(environ, lambda s, h: status.append(s)))
        app.engine.dispose()

    assert status == ["200 OK"]
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["media_vm_processing_seconds"].type == "histogram"
    buckets = {s.labels["le"]: s.value for s in families["media_vm_processing_seconds"].samples
               if s.name.endswith("_bucket")}
    assert (buckets["1.0"], buckets["5.0"], buckets["30.0"], buckets["60.0"], buckets["+Inf"]) == (1, 2, 2, 3, 3)
    retries = {s.labels["step"]: s.value for s in families["media_vm_step_retries"].samples}
    assert retries["resize_optimize"] == 3 and retries["retrieve_file"] == 0
