"""``pending_images.previous_reference``: what the upload's reference held before it, so that a
failed upload can give it back. NULL on the rows before it (and on uploads that replace nothing).
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0003_target_opaque_key'),
    ]

    operations = [
        migrations.AddField(
            model_name='pendingimage',
            name='previous_reference',
            field=models.TextField(blank=True, null=True),
        ),
    ]
