"""The main API: a Django REST service that takes uploads and owns ``pending_images``."""
