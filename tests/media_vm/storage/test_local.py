"""The local backend: the storage contract on a folder, and what only files on disk do."""

from __future__ import annotations

import pytest

from media_vm.config import Settings
from media_vm.storage import LocalStorage, Storage, make_storage
from tests.media_vm.storage.contract import BULK, StorageContract


class TestLocalStorage(StorageContract):
    signs_urls = False

    @pytest.fixture
    def make_store(self):
        return LocalStorage


def test_make_storage_gives_local_storage_by_default(tmp_path):
    store = make_storage(Settings(storage_root=tmp_path))
    assert type(store) is LocalStorage and isinstance(store, Storage) and not store.remote
    assert store.redirect(BULK) is None  # /serve sends the bytes


def test_the_files_under_the_root_are_the_store(tmp_path):
    store = LocalStorage(tmp_path)
    store.write_stream(BULK, [b"jpeg"], max_bytes=10)
    assert (tmp_path / BULK).read_bytes() == b"jpeg"
    assert store.fetch(BULK) == store.path(BULK) == (tmp_path / BULK).resolve()
    assert store.for_claim("abc123") is store
    store.for_claim("abc123").discard()
    assert (tmp_path / BULK).exists()


def test_hidden_and_temp_files_and_other_folders_are_not_listed(tmp_path):
    store = LocalStorage(tmp_path)
    store.write_stream(BULK, [b"x"], max_bytes=10)
    (tmp_path / "bulk/2026-11-22/.x.jpg.tmp-1234").write_bytes(b"half")
    (tmp_path / "s3-work/shared/bulk/2026-11-22").mkdir(parents=True)
    (tmp_path / "s3-work/shared/bulk/2026-11-22/y.jpg").write_bytes(b"y")
    (tmp_path / "library/user_1").mkdir(parents=True)  # an empty folder is no object
    assert store.list_names() == [BULK]
    with pytest.raises(FileNotFoundError):
        store.size("library/user_1")


def test_a_symlink_out_of_the_tree_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"secret")
    (tmp_path / "store" / "bulk").mkdir(parents=True)
    (tmp_path / "store" / "bulk" / "day").symlink_to(outside)
    store = LocalStorage(tmp_path / "store")
    with pytest.raises(ValueError, match="escapes"):
        store.open("bulk/day/secret.jpg")
