"""The main API: a Django REST service that takes uploads and owns ``pending_images``.

Five apps, each importing only the ones below it (``tests/main_api/test_layering.py``)::

    frontend  the frontend kit: <smart-image> (static/frontend/smart-image.js), the {% smart_picture %}
            template tag, and the demo site at / (sign in, profile, uploads live, gallery)
      |
    artworks  artists' works (/api/artworks, public /api/users/{username}/artworks): each artwork's
            image is an upload of data type artwork, made from a direct upload's key
      |
    users   users, profiles, the profile fields that refer to uploads (references.py), PATCH and
            GET /users/me; keeps the references true as uploads fail, complete, are deleted
      |
    media   uploads (pending_images) and their life (services/), their events
            (domain_events.py), intake/ (the upload gate, temp storage, direct uploads, URL
            import), live/ (the event stream), the media VM's /api/media/* API (apis/), the
            one client of the VM (vm_client.py: /api/images proxy, /similar, status), the
            admin of uploads, the sweeps and the scheduler (management/commands)
      |
    common  errors, authentication, middleware, logging, /metrics, /health, the admin site

No app calls back up. ``pending_images.target`` is an opaque key that ``users`` chooses and
``media`` only stores. Where ``common`` shows something of ``media``, ``media`` registers it
from above: its database gauges with ``common.metrics.database_collector_register`` (in
``MediaConfig.ready()``), its dashboard with ``admin.site.operations_view_register`` (in
``media/admin.py``). Likewise ``users`` and ``artworks`` hear of an upload's failure, retry,
completion and deletion through the upload events of ``media.domain_events`` (connected in
their ``AppConfig.ready()``; ``docs/upload-events.md`` is the table of what runs).
"""
