"""One module per route of the media VM's HTTP side; :mod:`media_vm.http.app` maps paths to them.

Each route is a small class built with its collaborators (settings, media DB, store) and
called with a :class:`~media_vm.http.wsgi.Request`; it returns a
:class:`~media_vm.http.wsgi.Response` or raises :class:`~media_vm.http.wsgi.HTTPError`.
"""
