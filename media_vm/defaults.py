"""Defaults of the media VM's settings; each can be overridden by the environment."""

MAIN_API_URL = "http://127.0.0.1:8000"
"""Where the main API answers (``MAIN_API_URL``)."""

MEDIA_DATABASE_URL = "sqlite:///var/media_vm.sqlite3"
"""The media DB (``MEDIA_DATABASE_URL``); ``mysql://user:pass@host/oaf_media`` to share it between hosts."""

MEDIA_VM_PUBLIC_URL = "http://127.0.0.1:3001"
"""Base URL under which this VM's ``/serve`` is reachable; goes into ``permanent_url``."""

POLL_IDLE_SECONDS = 5.0
"""Seconds the worker sleeps when the queue is empty (``POLL_IDLE_SECONDS``)."""

POLL_ERROR_MAX_SECONDS = 60.0
"""Upper bound of the backoff while the main API is unreachable or answering 5xx."""

MAX_ATTEMPTS = 3
"""Attempts per checklist step before the image is given up (``MAX_ATTEMPTS``)."""

RETRY_BASE_SECONDS = 2.0
"""First retry delay of a failed step; doubles with each attempt (``RETRY_BASE_SECONDS``)."""

LEASE_SECONDS = 300
"""How long a claim holds without renewal, the last resort for a worker that writes no
heartbeat; a worker that does is taken over far sooner (``HEARTBEAT_SECONDS``)."""

HEARTBEAT_SECONDS = 5.0
"""How often a running worker writes its heartbeat (``HEARTBEAT_SECONDS``). A worker that has
missed ``HEARTBEAT_MISSED`` of them (15 s by default) counts as dead: another worker takes its
claims over, however long their leases still run. On the same host a worker whose process is
gone is taken over at the next heartbeat of any other worker there, or at once by a worker
that starts."""

HEARTBEAT_MISSED = 3
"""Heartbeats a worker may miss before its claims are taken over: a busy host or a slow media
DB can delay one or two; a takeover of a live worker costs only repeated work (the lease fencing
keeps its writes out), but it is work thrown away."""

MAX_IMAGE_PIXELS = 100_000_000
"""Largest accepted image, in pixels of one page (width x height after orientation), read from
the header before decoding (``MAX_IMAGE_PIXELS``). 100 MP covers every phone and most DSLRs; a
decoded 100 MP RGBA page is 400 MB in memory, the most one worker should ever hold. The image
pipeline's default (``imaging.defaults.DEFAULT_MAX_PIXELS``) is this same value."""

MAX_IMAGE_FRAMES = 500
"""Most frames (pages) an accepted file may have; only the first is used. The main API's
``MAX_IMAGE_FRAMES`` default is the same number, and its upload gate judges with the same code
(``imaging.judging``), so both refuse the same files."""

HTTP_TIMEOUT = 30.0
"""Seconds before a call to the main API is abandoned (``MAIN_API_TIMEOUT``)."""

HEAL_BATCH = 10
"""Most images one self-healing cycle touches (``HEAL_BATCH``)."""

HEAL_INTERVAL_SECONDS = 60.0
"""How often a worker runs the self-healing cycle (``HEAL_INTERVAL_SECONDS``)."""

STALL_SECONDS = 900
"""A step running longer than this, with an expired lease, counts as stalled (``STALL_SECONDS``)."""

TESSERACT_CMD = "tesseract"
"""The OCR binary, a name on PATH or a path (``TESSERACT_CMD``); empty turns OCR off."""

GOOGLE_VISION_ENDPOINT = "https://vision.googleapis.com/v1/images:annotate"
"""Google Cloud Vision ``images:annotate`` (``GOOGLE_VISION_ENDPOINT``); the provider is on
only when ``GOOGLE_VISION_API_KEY`` is set."""

OPENAI_BASE_URL = "https://api.openai.com/v1"
"""Base of an OpenAI-compatible API (``OPENAI_BASE_URL``); the provider is on only when
``OPENAI_API_KEY`` is set."""

OPENAI_VISION_MODEL = "gpt-4o-mini"
"""Model asked for style, medium and mood (``OPENAI_VISION_MODEL``)."""

PROVIDER_TIMEOUT_SECONDS = 20.0
"""Seconds before a vision provider's answer is given up (``VISION_PROVIDER_TIMEOUT``);
the image goes on with the local analysis and the timeout recorded."""

PROCESS_TIMEOUT_SECONDS = 120.0
"""Longest the analysis or the variants of one image may take, each in a child process that is
killed past it (``PROCESS_TIMEOUT_SECONDS``; 0 runs them in the worker itself, without a limit)."""

LONG_POLL_SECONDS = 10.0
"""How long the main API may hold an idle worker's poll open waiting for an upload
(``LONG_POLL_SECONDS``; 0 falls back to plain polls every ``POLL_IDLE_SECONDS``)."""

FULL_POLL_EVERY = 6
"""Every n-th poll of the long-polling worker asks for every pending row, not only newer ones:
rows ops re-queued (admin "retry") have old ids a poll for newer ones would miss."""

S3_URL_EXPIRES_SECONDS = 3600
"""Lifetime of the signed URL ``/serve`` redirects to with ``MEDIA_S3_SERVE=redirect``
(``MEDIA_S3_URL_EXPIRES``); the redirect itself may be cached for half of it."""

MAX_ORIGINAL_BYTES = 64 * 1024 * 1024
"""Largest original the VM downloads or fetches back from the store (bytes); the main API caps
uploads far lower (5 MB). Past it the image is rejected, not retried."""

REPORT_RETRY_SECONDS = 30.0
"""After a failed delivery of an outcome (callback or cleanup), the healer tries again no sooner
than this (seconds)."""

DELETIONS_POLL_SECONDS = 10.0
"""How often a running worker asks the main API for deleted uploads to erase
(``GET /api/media/deletions``); with the server's variant cache TTL this keeps a deleted
image's ``/serve`` answering 404 within the 60 s the uploads issue allows."""

DELETION_UNSEEN_GRACE_SECONDS = 120.0
"""A deletion of an upload this VM has no record of is acknowledged only once it is this old:
a poll that listed the upload just before its deletion may still register it, and the next
pass then erases it. Meanwhile the deletion stays listed (harmless: nothing is kept)."""

DELETIONS_BATCH = 100
"""Deletions fetched and erased per pass."""

MEDIA_WAKEUP_LIST = "media:wakeup"
"""The Redis list idle workers wait on with ``BRPOP`` when ``REDIS_URL`` is set
(``MEDIA_WAKEUP_LIST``; ``media_vm.wakeups``): the main API's ``MEDIA_WAKEUP_LIST``, the same key."""
