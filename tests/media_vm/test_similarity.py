"""Fingerprints in the media DB: duplicates and nearest images (``GET /similar`` over HTTP is in
``tests/media_vm/http/test_similar.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from media_vm.similarity import find_duplicate, hamming, nearest


def unit(vector):
    vector = np.asarray(vector, dtype=float)
    return [float(v) for v in vector / np.linalg.norm(vector)]


BASE = unit(np.linspace(1, 2, 159))
NEAR = unit(np.linspace(1, 2, 159) + np.r_[0.05, np.zeros(158)])  # cosine ~0.9999
FAR = unit(np.r_[np.ones(80), -np.ones(79)])


def add(repo, main_id, *, user_id=7, phash="0f0f0f0f0f0f0f0f", sha="a" * 64, embedding=BASE, done=True):
    repo.register({"id": main_id, "user_id": user_id, "image_path": f"/temp_images/profiles/{main_id}.jpg",
                   "original_name": f"{main_id}.jpg", "mime_type": "image/jpeg", "data_type": "product"})
    claim = repo.claim_next("t")
    row = repo.media_file(claim.media_file_id)
    fingerprint = {"media_id": row["media_id"], "user_id": user_id, "data_type": "product", "phash": phash,
                   "sha256": sha, "embedding": embedding, "embedding_version": 1}
    repo.save_fingerprint(claim, fingerprint)
    if done:
        repo.finish(claim, processing_seconds=1.0)
    else:
        repo.release(claim)
    return row, fingerprint


def test_hamming():
    assert hamming("0000000000000000", "000000000000000f") == 4
    assert hamming("ffffffffffffffff", "0000000000000000") == 64


def test_a_later_near_copy_is_flagged_and_an_earlier_one_is_not(repo):
    first, _ = add(repo, 1)
    second, fp = add(repo, 2, phash="0f0f0f0f0f0f0f0e", sha="b" * 64, embedding=NEAR)
    found = find_duplicate(repo, fp, media_file_id=second["id"])
    assert found == {"duplicate_of": first["media_id"], "duplicate_distance": 1,
                     "duplicate_similarity": pytest.approx(0.9999, abs=1e-3), "duplicate_exact": False}
    # the earlier image does not point at the later one
    assert find_duplicate(repo, {**fp, "phash": "0f0f0f0f0f0f0f0f", "sha256": "a" * 64},
                          media_file_id=first["id"]) is None


def test_identical_bytes_are_an_exact_duplicate(repo):
    first, _ = add(repo, 1, sha="c" * 64)
    second, fp = add(repo, 2, sha="c" * 64)
    found = find_duplicate(repo, fp, media_file_id=second["id"])
    assert found["duplicate_of"] == first["media_id"] and found["duplicate_exact"] is True


def test_different_pictures_and_other_users_are_not_duplicates(repo):
    add(repo, 1, phash="ffffffff00000000", embedding=FAR)
    add(repo, 2, user_id=8)  # same picture, another user
    third, fp = add(repo, 3, phash="0f0f0f0f0f0f0f0f", sha="d" * 64)
    assert find_duplicate(repo, fp, media_file_id=third["id"]) is None


def test_nearest_ranks_filters_and_scopes(repo):
    me, _ = add(repo, 1)
    near, _ = add(repo, 2, phash="0f0f0f0f0f0f0f0e", sha="e" * 64, embedding=NEAR)
    add(repo, 3, phash="f0f0f0f0f0f0f0f0", sha="f" * 64, embedding=FAR)
    other_user, _ = add(repo, 4, user_id=8, sha="1" * 64, embedding=NEAR)
    add(repo, 5, sha="2" * 64, embedding=NEAR, done=False)  # not processed: not offered

    body = nearest(repo, me["media_id"])
    assert [r["media_id"] for r in body["results"]] == [near["media_id"]]
    assert body["results"][0]["duplicate"] is True and body["results"][0]["phash_distance"] == 1
    assert body["count"] == 1 and body["scope"] == "user"

    everyone = nearest(repo, me["media_id"], scope="all")
    assert {r["media_id"] for r in everyone["results"]} == {near["media_id"], other_user["media_id"]}

    all_of_mine = nearest(repo, me["media_id"], min_similarity=-1)
    assert len(all_of_mine["results"]) == 2
    assert all_of_mine["results"][0]["similarity"] > all_of_mine["results"][1]["similarity"]
    assert nearest(repo, me["media_id"], min_similarity=-1, limit=1)["count"] == 1
    assert nearest(repo, "0" * 32) is None
    for bad in ({"limit": 0}, {"limit": 101}, {"scope": "world"}, {"min_similarity": 2.0}):
        with pytest.raises(ValueError):
            nearest(repo, me["media_id"], **bad)
