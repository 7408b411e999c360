"""The media app's HTTP views, by audience: ``media_vm`` (the API the media VM calls, with the
media key), ``uploads`` (the owner's uploads resource), ``images`` (public images),
``originals`` (temp originals and direct uploads' bytes), ``analysis`` (an image's analysis and
nearest images); ``access`` says who may call the views shared by the VM and owners."""
