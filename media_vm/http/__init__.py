"""The media VM's HTTP side: ``/serve/{media_id}``, ``/similar/{media_id}``, ``/health``,
``/metrics``, run under gunicorn by ``python -m media_vm serve`` (``media_vm.http:create_app()``).

- :mod:`.app`: the route table and the WSGI callable (errors as JSON ``{"message", "extra"}``);
- :mod:`.auth`: ``/serve`` is public, the rest needs a media key (``/health``: its detail);
- :mod:`.routes`: one module per route;
- :mod:`.negotiation`: which stored format answers an ``Accept`` header;
- :mod:`.wsgi`: request, response and error types the routes share.

It imports no pyvips: serving needs only the media DB and the store.
"""

from __future__ import annotations

from media_vm.http.app import MediaApp, create_app

__all__ = ["MediaApp", "create_app"]
