"""Tunable constants of the image pipeline, each with the reason for its value.

Encoder settings were measured on this project's reference machine (2 cores) with a
12 MP photo-like image from ``tests/helpers/images.py``; see ``AVIF_EFFORT``.
"""

from __future__ import annotations

import os

from media_vm.defaults import MAX_IMAGE_FRAMES, MAX_IMAGE_PIXELS, MAX_JPEG_SCANS

DEFAULT_MAX_PIXELS: int = MAX_IMAGE_PIXELS
"""Largest accepted image in pixels of one page: the VM's one limit (``media_vm.defaults``)."""

DEFAULT_MAX_FRAMES: int = MAX_IMAGE_FRAMES
"""Most frames (pages) of an accepted file (``media_vm.defaults``); the first one is used."""

DEFAULT_MAX_JPEG_SCANS: int = MAX_JPEG_SCANS
"""Most scans of an accepted JPEG (``media_vm.defaults``, where the number is justified)."""

JUDGE_BOX: int = 256
"""Box the upload gate decodes into to prove a file whole (``judging.judge``). JPEG and WebP
shrink on load, which still reads every byte of the compressed data; PNG and GIF decode every
row on the way down. TIFF and HEIF are decoded at full size instead: a TIFF pyramid or a HEIF
thumbnail would let a smaller box skip the main image."""

AVIF_EFFORT: int = 2
"""AVIF (libaom) ``effort``, 0 fastest .. 9 smallest. The knee of the curve is 2.

Measured on this 2-core machine, encoding all six sizes (2560 px down to 300 px, 8.6 MP in
total) of the real 12 MP iPhone photo in the corpus (avif-orientation-6.avif) at Q=50:

====== ========= ========= ============================
effort  time      bytes     PSNR of zoom vs its source
====== ========= ========= ============================
0       0.31 s    335 KB    39.6 dB
1       0.72 s    283 KB    39.7 dB
2       1.6 s     269 KB    40.0 dB
3       2.6-4 s   256 KB    40.4 dB
4       12.6 s    245 KB    40.5 dB
====== ========= ========= ============================

(the synthetic 12 MP photo of tests/helpers: effort 0 0.22 s / 328 KB, effort 2 0.71 s /
332 KB, effort 4 7.1 s / 223 KB). Effort 2 saves a fifth of every AVIF byte served for
~1.3 s more per upload; 3 and 4 add 1-10 s for another 5-9%. A whole ``make_variants``
(decode, 6 sizes, AVIF+WebP+JPEG, atomic writes): the synthetic 12 MP JPEG 1.9-2.1 s at
effort 2; the real 12 MP AVIF photo 2.0 s at effort 0, 4.1 s at 2, 13.8 s at 4.
"""

AVIF_QUALITY: int = 50
"""AVIF ``Q`` (libheif quality, ~ aom cq-level 31): on the 12 MP photo its zoom size scores
40.0 dB PSNR at effort 2, next to WebP q80's 41.7 dB and JPEG q82's 43.2 dB at a half and
a third of their bytes (AVIF blurs rather than blocks, so it looks better than its PSNR)."""

WEBP_QUALITY: int = 80
"""WebP ``Q``: libwebp's own photo default; ~478 KB for the six sizes of the 12 MP photo."""

WEBP_EFFORT: int = 4
"""WebP ``effort`` (0-6): libwebp's default, 0.65 s for the six sizes of the 12 MP photo.

``smart_subsample`` is left off: it cost +1 s (2.6x) for +0.1 dB.
"""

JPEG_QUALITY: int = 82
"""JPEG ``Q`` (with optimised Huffman tables and progressive scans): the usual web sweet
spot; the six sizes of the 12 MP photo are 854 KB in 0.16 s (q80: 809 KB, q85: 931 KB)."""

PNG_COMPRESSION: int = 6
"""zlib level for PNG (lossless either way): 6 is zlib's default size/time balance."""

ANALYSIS_BOX: int = 1024
"""Longest side the analysis decodes to: sharpness and exposure are measured at this scale,
so the score of an image does not depend on how many megapixels it has (that is the
separate resolution part)."""

COLOUR_SAMPLE_BOX: int = 64
"""Longest side of the downscale that dominant colours are clustered on (<= 4096 pixels)."""

PLACEHOLDER_BOX: int = 100
"""Longest side of the downscale a ThumbHash is computed from: ThumbHash's own limit (its
reference encoder refuses larger input; it keeps at most 7 x 7 frequencies anyway)."""

DOMINANT_COLOURS: int = 8
"""k of the k-means over Lab pixels; clusters closer than ``COLOUR_MERGE_DELTA_E`` merge."""

COLOUR_MIN_SHARE: float = 0.02
"""A dominant colour covers at least this share of the sample; smaller clusters (the
anti-aliased rim between two fills, specks) join the nearest larger one."""

COLOUR_MERGE_DELTA_E: float = 8.0
"""Two cluster centres closer than this (CIE76 Delta E) are one colour to a viewer."""

FLAT_PIXEL_DELTA_E: float = 4.0
"""A sampled pixel is "flat" within this Delta E of its dominant colour. Measured on the
corpus: photos have 6-40% flat pixels, logos and flat GIF art 88-100%."""

QUALITY_REFERENCE_SIDE: int = 2560
"""Longest side that scores 100 for resolution: the largest variant (zoom) needs no more."""

BACKGROUND_BORDER_PX: int = 2
"""Width of the border ring sampled to judge (and colour) a logo's background."""

BACKGROUND_FLAT_DELTA_E: float = 6.0
"""A border is flat when 95% of its pixels are within this Delta E of its median colour.

Photos and gradients fail it by far (tens of units); JPEG noise on a flat fill stays under 3.
"""

BACKGROUND_MATCH_DELTA_E: float = 12.0
"""A pixel is background-coloured within this Delta E of the border colour (absorbs JPEG
ringing around shapes; clearly different colours are 20+ apart)."""

BACKGROUND_FEATHER_SIGMA: float = 0.7
"""Gaussian sigma (pixels) softening the cut-out's edge so it is not jagged."""

BACKGROUND_MIN_FOREGROUND: float = 0.005
"""Below this fraction of foreground pixels the image is a flat field, not a logo on a ground."""

FACE_DETECTION_BOX: int = 640
"""Longest side of the greyscale copy the Haar face cascade scans: a face of 24 px there
(the cascade's window) is ~4% of the image side, and the scan costs ~30 ms on 2 cores."""

FACE_MIN_NEIGHBOURS: int = 5
"""Overlapping detections a face needs (OpenCV's ``minNeighbors``): 5 finds the astronaut's
face down to 26 px; the false faces it lets through in textures are then dropped by the eye
check in :mod:`.faces`."""

FACE_MIN_SIDE_FRACTION: float = 0.04
"""Smallest face searched, as a fraction of the short side of the detection copy."""

OCR_MIN_CONFIDENCE: float = 60.0
"""Tesseract word confidence (0-100) below which a word is dropped: photos without text make
Tesseract emit short junk "words" at 0-40; printed words score 85-96."""

OCR_LINE_HEIGHT_PX: int = 32
"""Text regions are upscaled so that a line is about this tall before OCR (Tesseract reads
best from ~20 px x-height; upscaling small text 2-3x is what makes it legible to it)."""

OCR_TIMEOUT_SECONDS: float = 20.0
"""A Tesseract run taking longer is killed and recorded as a timeout (the image still goes on)."""

ENCODE_THREADS: int = max(1, min(4, os.cpu_count() or 1))
"""Encodes of one image run on this many threads at once (libvips releases the GIL): the
cores of the host, up to 4. ``VIPS_CONCURRENCY`` still bounds libvips' own threads per
operation; a worker with ``--concurrency N`` runs N images like this side by side."""
