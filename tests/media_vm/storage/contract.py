"""The storage contract: what every backend of :class:`media_vm.storage.Storage` does.

Each backend's test module subclasses :class:`StorageContract` and gives the ``make_store``
fixture (a function: root folder -> a fresh, empty store), as imgproxy's ``storage/testsuite``
is run against each of its backends. Backend-specific behaviour (caching headers in a
bucket, outages, symlinks) is tested beside it, not here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from media_vm.storage import Storage

BULK = "bulk/2026-11-22/" + "a" * 32 + ".jpg"
VARIANT = "library/user_7/product/img/" + "b" * 32 + "_grid.avif"
BAD_NAMES = ("../outside.jpg", "library/../../etc/passwd", "bulk/x/../y.jpg", "/bulk/x.jpg", "bulk//x.jpg",
             "bulk/./x.jpg", "bulk\\..\\x.jpg", "other/x.jpg", "", "s3-work/shared/bulk/x.jpg")


def chunks_of(data: bytes, size: int = 1000):
    return (data[i:i + size] for i in range(0, len(data), size))


def read(store: Storage, name: str) -> bytes:
    stream, size = store.open(name)
    try:
        data = stream.read()
    finally:
        stream.close()
    assert len(data) == size
    return data


def files_on_disk(store: Storage) -> list[str]:
    """Every file under the store's local folder (the store itself, or its work folder)."""
    root = store.path("bulk").parent
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


class StorageContract:
    #: whether the backend makes signed URLs (else ``signed_url`` is None)
    signs_urls = False

    @pytest.fixture
    def make_store(self):  # pragma: no cover - each backend's module gives its own
        raise NotImplementedError

    @pytest.fixture
    def store(self, make_store, tmp_path) -> Storage:
        return make_store(tmp_path / "store")

    # -- write, read -------------------------------------------------------------------

    def test_what_is_written_is_read_back_byte_for_byte(self, store):
        data = os.urandom(5000)
        assert store.write_stream(BULK, chunks_of(data), max_bytes=10_000) == 5000
        assert read(store, BULK) == data
        assert store.size(BULK) == 5000 and store.exists(BULK)
        assert store.fetch(BULK).read_bytes() == data

    def test_a_local_file_is_stored_as_a_copy(self, store, tmp_path):
        source = tmp_path / "variant.avif"
        source.write_bytes(b"avif" * 300)
        assert store.write_file(VARIANT, source) == 1200
        source.write_bytes(b"changed")
        assert read(store, VARIANT) == b"avif" * 300

    def test_a_write_replaces_the_object_whole(self, store):
        store.write_stream(BULK, [b"first"], max_bytes=100)
        store.write_stream(BULK, [b"second", b" version"], max_bytes=100)
        assert read(store, BULK) == b"second version"

    def test_a_write_over_the_cap_leaves_nothing(self, store):
        with pytest.raises(ValueError, match="larger than"):
            store.write_stream(BULK, chunks_of(b"x" * 5000), max_bytes=4000)
        assert not store.exists(BULK) and store.list_names() == [] and files_on_disk(store) == []

    def test_a_write_that_fails_midway_leaves_nothing_and_keeps_the_old_object(self, store):
        def broken():
            yield b"half of it"
            raise ConnectionError("the upload's source went away")

        with pytest.raises(ConnectionError):
            store.write_stream(BULK, broken(), max_bytes=100)
        assert not store.exists(BULK) and files_on_disk(store) == []
        store.write_stream(BULK, [b"whole"], max_bytes=100)
        with pytest.raises(ConnectionError):
            store.write_stream(BULK, broken(), max_bytes=100)
        assert read(store, BULK) == b"whole"
        assert [n for n in files_on_disk(store) if ".tmp" in n] == []

    def test_a_missing_object_is_file_not_found(self, store):
        assert not store.exists(BULK)
        with pytest.raises(FileNotFoundError):
            store.open(BULK)
        with pytest.raises(FileNotFoundError):
            store.size(BULK)
        with pytest.raises(FileNotFoundError):
            store.fetch(BULK)

    # -- delete, list ------------------------------------------------------------------

    def test_delete_one_and_many_missing_ones_are_no_error(self, store):
        names = [BULK, VARIANT, VARIANT.replace("_grid", "_zoom")]
        for name in names:
            store.write_stream(name, [name.encode()], max_bytes=1000)
        store.delete(BULK)
        assert not store.exists(BULK) and store.exists(VARIANT)
        with pytest.raises(FileNotFoundError):
            store.open(BULK)
        store.delete(BULK)  # already gone
        store.delete_many([*names[1:], "library/user_7/product/img/never.webp"])
        assert store.list_names() == []
        store.delete_many([])

    def test_names_are_listed_by_prefix(self, store):
        names = [BULK, VARIANT, VARIANT.replace("_grid", "_zoom"), "library/user_70/logo/img/c_grid.png",
                 "library/user_8/logo/img/d_grid.png"]
        for name in names:
            store.write_stream(name, [b"x"], max_bytes=10)
        assert store.list_names() == sorted(names)
        assert store.list_names("bulk/") == [BULK]
        assert store.list_names("library/user_7/") == sorted(names[1:3])
        assert store.list_names("library/user_7") == sorted(names[1:4])  # a prefix, not a folder
        assert store.list_names(VARIANT.replace("_grid.avif", "_g")) == [VARIANT]
        assert store.list_names("library/user_9/") == []
        for bad in ("../", "other/", "library/../bulk/", "/library/"):
            with pytest.raises(ValueError):
                store.list_names(bad)

    # -- names -------------------------------------------------------------------------

    def test_names_outside_the_tree_are_refused_by_every_method(self, store, tmp_path):
        source = tmp_path / "x.jpg"
        source.write_bytes(b"x")
        for name in BAD_NAMES:
            calls = [("write_stream", name, [b"x"]), ("write_file", name, source), ("open", name), ("size", name),
                     ("exists", name), ("delete", name), ("path", name), ("fetch", name), ("publish", [name]),
                     ("delete_many", [name])]
            for method, *args in calls:
                kwargs = {"max_bytes": 10} if method == "write_stream" else {}
                with pytest.raises(ValueError):
                    getattr(store, method)(*args, **kwargs)
        assert store.list_names() == []

    def test_names_are_built_from_ids(self, store):
        from datetime import date

        assert store.bulk_relpath("a" * 32, "image/png", date(2026, 1, 2)) == f"bulk/2026-01-02/{'a' * 32}.png"
        assert store.library_reldir(7, "logo") == "library/user_7/logo/img"
        with pytest.raises(ValueError):
            store.library_reldir(7, "../etc")

    # -- URLs --------------------------------------------------------------------------

    def test_a_signed_url_serves_the_bytes_where_the_backend_signs(self, store):
        store.write_stream(VARIANT, [b"avif bytes"], max_bytes=100)
        url = store.signed_url(VARIANT, expires=60)
        if not self.signs_urls:
            assert url is None
            return
        r = requests.get(url, timeout=10)
        assert r.status_code == 200 and r.content == b"avif bytes"
        assert r.headers["Content-Type"] == "image/avif"

    # -- the work folder ---------------------------------------------------------------

    def test_a_claim_writes_in_its_work_folder_publishes_and_discards(self, store):
        mine, theirs = store.for_claim("aaaa1111"), store.for_claim("bbbb2222")
        path = mine.path(VARIANT)
        assert isinstance(path, Path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"variant")

        mine.publish([VARIANT])

        assert store.exists(VARIANT) and read(store, VARIANT) == b"variant"
        assert theirs.fetch(VARIANT).read_bytes() == b"variant"
        mine.discard()
        theirs.discard()
        assert read(store, VARIANT) == b"variant"  # the store keeps what was published
        assert store.list_names() == [VARIANT]

    def test_an_original_written_in_a_claim_stays_readable_by_the_claim(self, store):
        mine = store.for_claim("cccc3333")
        mine.write_stream(BULK, [b"original"], max_bytes=100)
        assert mine.fetch(BULK).read_bytes() == b"original"
        assert store.for_claim("dddd4444").fetch(BULK).read_bytes() == b"original"
        mine.discard()
        assert read(store, BULK) == b"original"

    def test_publishing_what_was_never_written_fails(self, store):
        with pytest.raises(FileNotFoundError):
            store.for_claim("eeee5555").publish([VARIANT])
        assert not store.exists(VARIANT)

    def test_work_folder_names_are_checked(self, store):
        for token in ("../elsewhere", "a/b", "", "ä1"):
            with pytest.raises(ValueError):
                store.for_claim(token)

    def test_sweeping_fresh_work_folders_removes_nothing(self, store):
        busy = store.for_claim("ffff6666")
        busy.write_stream(BULK, [b"x"], max_bytes=10)
        assert store.sweep_working_copies(older_than=3600) == 0
        assert busy.fetch(BULK).read_bytes() == b"x"

    # -- health ------------------------------------------------------------------------

    def test_health(self, store, make_store, tmp_path):
        assert store.health() == "ok"
        blocked = tmp_path / "a-file"
        blocked.write_text("not a directory")
        assert make_store(blocked / "store").health().startswith("error: not writable")
