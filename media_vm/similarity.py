"""Similar images and duplicates, from the fingerprints the analysis stored.

Two measures (see :mod:`media_vm.imaging.fingerprint` for how they are made):

- cosine similarity of the visual embeddings (1 identical, ~0.3-0.7 unrelated photos),
  which ranks the answers of ``GET /similar/{media_id}``;
- Hamming distance of the 64-bit perceptual hashes (0 identical, ~32 unrelated), which
  together with the cosine decides a near duplicate.

A search reads the candidates' embeddings and compares them all (one matrix product):
fine for the tens of thousands of images one user or one VM holds. No pyvips here: the
HTTP route ``/similar`` (:mod:`media_vm.http.routes.similar`) imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from media_vm.checklist import JobStatus
from media_vm.db import Repository

SIMILAR_MIN_COSINE = 0.9
"""Default floor of ``/similar``. Measured: re-encoded, resized, 2%-cropped or lightly
blurred copies score >= 0.99; unrelated photos 0.3-0.7; two different pictures from the
test generator (same gradient background, other shapes) 0.72-0.88."""

DUPLICATE_MAX_HAMMING = 6
"""A near duplicate differs in at most this many of the 64 pHash bits (copies measured 0-2,
different images 24 or more)."""

DUPLICATE_MIN_COSINE = 0.97
"""...and its embedding's cosine similarity is at least this (copies measured >= 0.99)."""

MAX_LIMIT = 100
SCOPES = ("user", "all")


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex-encoded hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _cosines(query: Sequence[float], rows: Sequence[Any]) -> np.ndarray:
    if not rows:
        return np.empty(0)
    matrix = np.asarray([row["embedding"] for row in rows], dtype=np.float64)
    vector = np.asarray(query, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(vector)), 1e-12)
    return np.asarray(matrix @ vector / np.maximum(norms, 1e-12))


def is_duplicate(*, cosine: float, distance: int) -> bool:
    return distance <= DUPLICATE_MAX_HAMMING and cosine >= DUPLICATE_MIN_COSINE


def find_duplicate(repo: Repository, fingerprint: dict[str, Any], *, media_file_id: int) -> dict[str, Any] | None:
    """The closest earlier upload of the same user that this image duplicates, or ``None``.

    Only earlier images (lower id) count, so of two copies the later one is flagged, also
    when both are analysed at the same time: each stores its fingerprint before it looks,
    so the later of the two always sees the earlier.
    Returns ``{"duplicate_of", "duplicate_distance", "duplicate_similarity", "duplicate_exact"}``.
    """
    rows = [
        r for r in repo.fingerprints(user_id=fingerprint["user_id"], embedding_version=fingerprint["embedding_version"])
        if r["media_file_id"] < media_file_id and r["status"] != JobStatus.FAILED.value
    ]
    best: tuple[int, float, Any] | None = None
    for row, cosine in zip(rows, _cosines(fingerprint["embedding"], rows), strict=True):
        exact = row["sha256"] == fingerprint["sha256"]
        distance = hamming(row["phash"], fingerprint["phash"])
        if not (exact or is_duplicate(cosine=float(cosine), distance=distance)):
            continue
        key = (0 if exact else distance, -float(cosine), row)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None
    row = best[2]
    return {
        "duplicate_of": row["media_id"],
        "duplicate_distance": hamming(row["phash"], fingerprint["phash"]),
        "duplicate_similarity": round(-best[1], 4),
        "duplicate_exact": row["sha256"] == fingerprint["sha256"],
    }


def nearest(
    repo: Repository, media_id: str, *, limit: int = 10, min_similarity: float = SIMILAR_MIN_COSINE,
    scope: str = "user",
) -> dict[str, Any] | None:
    """The body of ``GET /similar/{media_id}``, or ``None`` when the image has no fingerprint.

    Candidates are the processed images of the same user (``scope="user"``) or of everyone
    (``"all"``), the image itself excluded, ranked by cosine similarity, those under
    ``min_similarity`` left out, at most ``limit``.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1-{MAX_LIMIT}, got {limit}")
    if not math.isfinite(min_similarity) or not -1.0 <= min_similarity <= 1.0:
        raise ValueError(f"min_similarity must be between -1 and 1, got {min_similarity}")
    own = repo.fingerprint(media_id)
    if own is None:
        return None
    rows = [
        r for r in repo.fingerprints(user_id=own["user_id"] if scope == "user" else None,
                                     embedding_version=own["embedding_version"])
        if r["media_id"] != media_id and r["status"] == JobStatus.DONE.value
    ]
    results = []
    for row, cosine in zip(rows, _cosines(own["embedding"], rows), strict=True):
        if cosine < min_similarity:
            continue
        distance = hamming(row["phash"], own["phash"])
        results.append({
            "media_id": row["media_id"],
            "user_id": row["user_id"],
            "data_type": row["data_type"],
            "similarity": round(float(cosine), 4),
            "phash_distance": distance,
            "duplicate": row["sha256"] == own["sha256"] or is_duplicate(cosine=float(cosine), distance=distance),
        })
    results.sort(key=lambda r: (-r["similarity"], r["phash_distance"]))
    return {
        "media_id": media_id,
        "scope": scope,
        "min_similarity": min_similarity,
        "results": results[:limit],
        "count": len(results[:limit]),
    }
