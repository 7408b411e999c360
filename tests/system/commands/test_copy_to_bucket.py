"""``python -m media_vm copy-to-bucket``: a local deployment's tree into a real S3 server."""

from __future__ import annotations

import json
import subprocess
import sys

from media_vm.db import Repository, make_engine, migrate
from media_vm.storage import IMMUTABLE
from tests.helpers import images
from tests.helpers.processes import ROOT


def run(env, *args):
    return subprocess.run([sys.executable, "-m", "media_vm", "copy-to-bucket", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_local_tree_is_copied_with_types_and_caching_once_and_checked_against_the_media_db(
        s3_bucket, media_db_url, tmp_path):
    import os

    tree = tmp_path / "media"
    engine = make_engine(media_db_url)
    migrate(engine)
    repo = Repository(engine)
    repo.register({"id": 1, "user_id": 4, "image_path": "/temp_images/profiles/x.jpg", "original_name": "x",
                   "mime_type": "image/jpeg", "data_type": "product"})
    claim = repo.claim_next("t")
    media_id = repo.media_file(claim.media_file_id)["media_id"]
    original = f"bulk/2026-01-02/{media_id}.jpg"
    (tree / "bulk" / "2026-01-02").mkdir(parents=True)
    images.photo_jpeg(tree / original, 400, 300)
    repo.save_original(claim, original)
    reldir = "library/user_4/product/img"
    (tree / reldir).mkdir(parents=True)
    variants = []
    for ext, fmt in (("avif", "avif"), ("webp", "webp"), ("jpg", "jpeg")):
        name = f"{reldir}/{media_id}_grid.{ext}"
        (tree / name).write_bytes(fmt.encode() * 10)
        variants.append({"size": "grid", "format": fmt, "bg": "original", "path": name, "width": 1, "height": 1,
                         "bytes": len(fmt) * 10})
    repo.save_variants(claim, media_id, variants)
    (tree / reldir / f".{media_id}_zoom.avif.tmp-1234").write_bytes(b"half-written")  # never copied
    env = {**os.environ, **s3_bucket.env, "MEDIA_DATABASE_URL": media_db_url, "MEDIA_STORAGE_ROOT": str(tree)}

    dry = run(env, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["copied"] == 0 and s3_bucket.keys() == {}
    assert "4 to copy" in dry.stderr

    first = run(env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["files"], summary["copied"], summary["missing_count"]) == (4, 4, 0)
    assert "copied 4/4 files" in first.stderr
    assert set(s3_bucket.keys()) == {original, *(v["path"] for v in variants)}
    assert s3_bucket.get(original)["Body"] == (tree / original).read_bytes()
    assert s3_bucket.get(original)["ContentType"] == "image/jpeg"
    avif = s3_bucket.get(f"{reldir}/{media_id}_grid.avif")
    assert (avif["ContentType"], avif["CacheControl"]) == ("image/avif", IMMUTABLE)

    again = run(env)
    assert again.returncode == 0 and json.loads(again.stdout)["already_there"] == 4
    assert json.loads(again.stdout)["copied"] == 0

    # a file the media DB names but the tree lost: said, and the exit status says so
    s3_bucket.client.delete_object(Bucket=s3_bucket.name, Key=f"{reldir}/{media_id}_grid.webp")
    (tree / reldir / f"{media_id}_grid.webp").unlink()
    lost = run(env)
    assert lost.returncode == 1
    assert json.loads(lost.stdout)["named_by_media_db_but_not_in_bucket"] == [f"{reldir}/{media_id}_grid.webp"]
    engine.dispose()


def test_it_refuses_to_run_without_the_s3_backend(tmp_path):
    import os

    env = {**os.environ, "MEDIA_STORAGE_BACKEND": "local", "MEDIA_DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    r = run(env)
    assert r.returncode == 2 and "MEDIA_STORAGE_BACKEND is not s3" in r.stderr
