"""The wire contract between the main API and the media VM.

Both services import this package; it depends on nothing but the standard library
(no Django, no pyvips), so a media VM host can install it without the main API.
"""
