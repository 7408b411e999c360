"""The entity is ``Upload`` in code; its table stays ``pending_images`` (the name the system is
specified with) and no row moves. ``media_deletions.pending_image_id`` is ``upload_id`` in code
with its column kept. The model permissions follow the new model name: users and groups that
could change a pending image can change an upload."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIONS = ("add", "change", "delete", "view")


def permissions_rename(old: str, new: str, verbose: str):
    def run(apps, schema_editor):
        Permission = apps.get_model("auth", "Permission")
        for action in ACTIONS:
            stale = Permission.objects.filter(content_type__app_label="media", codename=f"{action}_{old}").first()
            if stale is None:
                continue  # a new database: post_migrate makes the permissions afterwards
            fresh = Permission.objects.filter(content_type=stale.content_type, codename=f"{action}_{new}").first()
            if fresh is None:
                stale.codename, stale.name = f"{action}_{new}", f"Can {action} {verbose}"
                stale.save(update_fields=["codename", "name"])
            else:  # both exist: the holders of the old one get the new one
                for group in stale.group_set.all():
                    group.permissions.add(fresh)
                for user in stale.user_set.all():
                    user.user_permissions.add(fresh)
                stale.delete()
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("media", "0013_source_tool"),
        ("artworks", "0001_initial"),
        # its data migration reads the model by its old name: it runs before the rename
        ("users", "0002_pending_image_target_keys"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # db_table is set: the table keeps its name (the content type follows the rename)
        migrations.RenameModel(old_name="PendingImage", new_name="Upload"),
        migrations.AlterField(
            model_name="upload",
            name="user",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="uploads",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name="mediadeletion", old_name="pending_image_id", new_name="upload_id"),
                migrations.AlterField(
                    model_name="mediadeletion",
                    name="upload_id",
                    field=models.BigIntegerField(db_column="pending_image_id"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(permissions_rename("pendingimage", "upload", "upload"),
                             permissions_rename("upload", "pendingimage", "pending image")),
    ]
