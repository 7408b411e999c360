"""Constants of the media VM. Its settings, with their defaults, are declared in
``media_vm.declarations``; of these only ``MAX_IMAGE_PIXELS`` is also a setting's default, as the
image pipeline's own limit (``imaging.defaults``) is the same number."""

POLL_ERROR_MAX_SECONDS = 60.0
"""Upper bound of the backoff while the main API is unreachable or answering 5xx."""

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

MAX_JPEG_SCANS = 100
"""Most scans (SOS markers) an accepted JPEG may have, counted before decoding
(``imaging.jpeg_scans``). Each scan costs the decoder a full pass over the image: a 0.28 MB
24 MP "scan bomb" of 2,080 scans (libjpeg-turbo's LJT-01-003) held the upload gate 11 s, so at
100 the worst accepted 24 MP JPEG costs the gate ~0.5 s (5.4 ms a scan, measured). Encoders
write far fewer: baseline 1-3, libjpeg/jpegtran ``-progressive`` 10 (6 for grey), mozjpeg's
optimised scripts and Photoshop 3-20. The anchors: libjpeg-turbo's own fuzz targets decode with
``TJPARAM_SCANLIMIT`` 100 (``fuzz/decompress.cc``, ``fuzz/transform.cc``), and jpegtran's
``-scans`` scripts stop at 100 (``MAX_SCANS``, ``rdswitch.c``); TurboJPEG 2's
``TJFLAG_LIMITSCANS`` and NVIDIA DALI cap at 500, five times the cost we accept here. The main
API's ``MAX_JPEG_SCANS`` default is the same number."""

FULL_POLL_EVERY = 6
"""Every n-th poll of the long-polling worker asks for every pending row, not only newer ones:
rows ops re-queued (admin "retry") have old ids a poll for newer ones would miss."""

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
