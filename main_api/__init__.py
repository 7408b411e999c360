"""The main API: a Django REST service that takes uploads and owns ``pending_images``.

Five apps, each importing only the ones below it (``tests/main_api/test_layering.py``)::

    frontend  the frontend kit: <smart-image> (static/frontend/smart-image.js), the {% smart_picture %}
            template tag, and the demo site at / (sign in, profile, uploads live, gallery)
      |
    artworks  artists' works (/api/artworks, public /api/users/{username}/artworks): each artwork's
            image is an upload of data type artwork, made from a direct upload's key
      |
    users   users, profiles, the profile fields that refer to uploads (references.py), PATCH and
            GET /users/me, the URL replacement (services.temp_urls_replace; the replace_temp_urls
            and run_scheduler commands)
      |
    media   pending_images and its lifecycle, the upload gate (uploads.py: size, fields, content,
            pixels), temp originals (temp_files.py: local or S3) and direct uploads, the media
            VM's /api/media/* API, the one client of the VM
            (vm_client.py: /api/images proxy, /similar, status), the admin of pending images
      |
    common  errors, authentication, middleware, logging, /metrics, /health, the admin site

No app calls back up. ``pending_images.target`` is an opaque key that ``users`` chooses and
``media`` only stores. Where ``common`` shows something of ``media``, ``media`` registers it
from above: its database gauges with ``common.metrics.database_collector_register`` (in
``MediaConfig.ready()``), its dashboard with ``admin.site.operations_view_register`` (in
``media/admin.py``). Likewise ``users`` hears of a failed upload, to give back the reference
it replaced, through ``media.services.lifecycle.upload_failure_handler_register`` (in
``UsersConfig.ready()``).
"""
