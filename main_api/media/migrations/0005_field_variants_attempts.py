"""``pending_images.field`` (the upload field), ``variants`` (each file the media VM made, with
its real pixel size), ``background`` (a logo's default background) and ``attempts`` (processing
rounds). Existing rows get the field where their data type has only one (a profile row may be a
profile or a header image: left empty).
"""

from django.db import migrations, models

from shared.data_types import UPLOAD_FIELDS


def fields_backfill(apps, schema_editor):
    PendingImage = apps.get_model("media", "PendingImage")
    by_type: dict[str, list[str]] = {}
    for field, data_type in UPLOAD_FIELDS.items():
        by_type.setdefault(data_type.value, []).append(field)
    for data_type, fields in by_type.items():
        if len(fields) == 1:
            PendingImage.objects.filter(data_type=data_type, field="").update(field=fields[0])


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0004_previous_reference'),
    ]

    operations = [
        migrations.AddField(
            model_name='pendingimage',
            name='field',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AddField(
            model_name='pendingimage',
            name='variants',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='pendingimage',
            name='background',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.AddField(
            model_name='pendingimage',
            name='attempts',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunPython(fields_backfill, migrations.RunPython.noop),
    ]
