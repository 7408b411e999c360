"""``pending_images.target``: the old ``table.column`` values become the keys of
``main_api.users.references.Target``, and back on reverse."""

from django.db import migrations

#: old value (``table.column``) -> key
KEYS = {
    "user_profiles.profile_image_path": "profile_image",
    "user_profiles.header_image_path": "header_image",
    "artist_profiles.logo_path": "artist_logo",
    "promoter_profiles.logo_path": "promoter_logo",
    "site_media.media_path": "site_media",
}


def _convert(apps, mapping: dict[str, str]) -> None:
    PendingImage = apps.get_model("media", "PendingImage")
    for old, new in mapping.items():
        PendingImage.objects.filter(target=old).update(target=new)


def forwards(apps, schema_editor) -> None:
    _convert(apps, KEYS)


def backwards(apps, schema_editor) -> None:
    _convert(apps, {new: old for old, new in KEYS.items()})


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0001_initial'),
        ('media', '0003_target_opaque_key'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
