"""The frontend kit: ``<smart-image>``, ``{% smart_picture %}`` and the demo site at ``/``."""
