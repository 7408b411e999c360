"""A real S3-compatible server for the tests: moto's standalone server, as a child process.

Speaks the S3 REST protocol on loopback (signed requests, multipart, presigned URLs), so the
media VM's boto3 client, its worker processes and a browser-like ``requests.get`` of a signed
URL all talk to it exactly as they would to AWS S3, R2 or MinIO. It is a dev dependency
(``moto[server]``), so it is always there: nothing skips for want of it.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import requests

from tests.helpers.processes import free_port, stop, wait_until

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


@contextlib.contextmanager
def s3_server(log_dir: Path) -> Iterator[str]:
    """Start ``python -m moto.server`` on a free port; yields its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "moto.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}: {(log_dir / 'moto.log').read_text()}")
            try:
                return requests.get(url, timeout=1).status_code < 500
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="the S3 server (moto)")
        yield url
    finally:
        stop(proc, timeout=10)


@dataclass
class Bucket:
    """One fresh bucket on the test S3 server, with the media VM settings that point at it."""

    endpoint: str
    name: str
    prefix: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {
            "MEDIA_STORAGE_BACKEND": "s3",
            "MEDIA_S3_BUCKET": self.name,
            "MEDIA_S3_PREFIX": self.prefix,
            "MEDIA_S3_ENDPOINT_URL": self.endpoint,
            "MEDIA_S3_REGION": REGION,
            "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "MEDIA_S3_ADDRESSING_STYLE": "path",
        }

    @property
    def temp_env(self) -> dict[str, str]:
        """The main API's settings that keep its temp originals in this bucket (``TEMP_STORAGE=s3``)."""
        return {
            "TEMP_STORAGE": "s3",
            "TEMP_S3_BUCKET": self.name,
            "TEMP_S3_PREFIX": self.prefix,
            "TEMP_S3_ENDPOINT_URL": self.endpoint,
            "TEMP_S3_REGION": REGION,
            "TEMP_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "TEMP_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "TEMP_S3_ADDRESSING_STYLE": "path",
        }

    def settings(self, **changes: Any) -> Any:
        from media_vm.config import S3Settings

        values = {"bucket": self.name, "prefix": self.prefix, "endpoint_url": self.endpoint, "region": REGION,
                  "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, "addressing_style": "path"}
        return S3Settings(**{**values, **changes})

    @cached_property
    def client(self) -> Any:
        from media_vm.storage.s3 import make_client

        return make_client(self.settings())

    def keys(self, under: str = "") -> dict[str, int]:
        """Every object under ``prefix + under``: key -> size."""
        found: dict[str, int] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name,
                                                                         Prefix=self.prefix + under):
            found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return found

    def get(self, key: str) -> dict[str, Any]:
        answer = self.client.get_object(Bucket=self.name, Key=key)
        return {**answer, "Body": answer["Body"].read()}


def new_bucket(endpoint: str, *, prefix: str = "") -> Bucket:
    bucket = Bucket(endpoint, f"media-{secrets.token_hex(6)}", prefix)
    bucket.client.create_bucket(Bucket=bucket.name)
    return bucket
