"""The rename of ``PendingImage`` to ``Upload`` (media migration 0014), run by ``migrate`` as an
upgrade runs it: the table, the rows and what ops were allowed to do are kept (a group's and a
user's model permissions follow the new name)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("media", "0013_source_tool")
AFTER = ("media", "0014_rename_pendingimage_upload")


def state(target: tuple[str, str]):
    return MigrationExecutor(connection).loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_survive_the_rename():
    call_command("migrate", *BEFORE, verbosity=0)
    try:
        old = state(BEFORE)
        Permission, Group = old.get_model("auth", "Permission"), old.get_model("auth", "Group")
        change = Permission.objects.get(content_type__model="pendingimage", codename="change_pendingimage")
        view = Permission.objects.get(content_type__model="pendingimage", codename="view_pendingimage")
        Group.objects.create(name="ops").permissions.add(change)
        user = old.get_model("users", "User").objects.create(username="watcher")
        user.user_permissions.add(view)
        row = old.get_model("media", "PendingImage").objects.create(user_id=user.pk, mime_type="image/png",
                                                                    data_type="profile")
        deletion = old.get_model("media", "MediaDeletion").objects.create(pending_image_id=row.pk + 1)

        call_command("migrate", *AFTER, verbosity=0)
        new = state(AFTER)
        Permission, Group = new.get_model("auth", "Permission"), new.get_model("auth", "Group")
        assert new.get_model("media", "Upload").objects.get(pk=row.pk).data_type == "profile"
        assert new.get_model("media", "MediaDeletion").objects.get(pk=deletion.pk).upload_id == row.pk + 1
        ops = Group.objects.get(name="ops").permissions.get()
        assert (ops.codename, ops.content_type.model, ops.pk) == ("change_upload", "upload", change.pk)
        held = new.get_model("users", "User").objects.get(pk=user.pk).user_permissions.get()
        assert (held.codename, held.pk) == ("view_upload", view.pk)
        assert not Permission.objects.filter(codename__endswith="_pendingimage").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pending_images")
            assert cursor.fetchone()[0] == 1
    finally:
        call_command("migrate", verbosity=0)
