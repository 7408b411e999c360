"""ASGI entry point: ``gunicorn -k main_api.common.serving.UvicornWorker main_api.asgi:application``.

Django's ASGI handler behind :class:`main_api.common.asgi.RequestBodyGuard`, which caps the
request body's size and the wait between its bytes before Django reads it. Sync views run
as before, each request's sync code in a thread of its own (asgiref's ThreadSensitiveContext).
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "main_api.settings")
django.setup(set_prefix=False)

from main_api.common.asgi import ASGIHandler, application_for  # noqa: E402 - needs the settings loaded
from main_api.common.unauthenticated import anonymous_challenge  # noqa: E402
from main_api.media.intake.direct_uploads import direct_upload_body_limit  # noqa: E402
from main_api.media.intake.multipart import request_body_limit  # noqa: E402

application = application_for(ASGIHandler(), max_body_bytes=request_body_limit, body_limit_for=direct_upload_body_limit,
                              challenge_for=anonymous_challenge)
