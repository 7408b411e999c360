"""Pending images: uploads waiting for the media VM, the upload gate, the VM's API, temp files,
the one client of the media VM (the image proxy, similar images, its status)."""
