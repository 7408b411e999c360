"""The serving reference: whitenoise alone serving one variant file, under the same gunicorn
settings as the media VM (``bench`` section 3)."""

from __future__ import annotations

import os

from whitenoise import WhiteNoise


def _not_found(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


app = WhiteNoise(_not_found, root=os.environ["BENCH_STATIC_ROOT"], prefix="static/", max_age=31536000)
