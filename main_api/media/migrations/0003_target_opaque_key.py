"""``pending_images.target`` holds the owning app's key, no longer a list of its table columns.

The column is unchanged (a varchar of 64); only the choices go. The rows' values are
converted by the app that owns the keys (``users`` migration 0002).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0002_request_id_reprocess_of'),
    ]

    operations = [
        migrations.AlterField(
            model_name='pendingimage',
            name='target',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
    ]
