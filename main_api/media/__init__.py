"""Pending images: uploads waiting for the media VM, the VM's API, temp files, the image proxy."""
