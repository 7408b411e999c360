"""Uploads (the ``pending_images`` table): images on their way through the media VM, the upload
gate, the VM's API, temp storage, live events, the one client of the media VM (the image proxy,
similar images, its status). The sub-packages are its rooms (see ``apis/``, ``services/``,
``selectors/``, ``intake/``, ``live/``)."""
