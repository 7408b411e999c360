"""The media VM: a Django-less worker and server that turns uploads into variants."""
