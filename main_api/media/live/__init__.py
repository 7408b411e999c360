"""Live progress: ``records`` (one row per change of an upload, announced on Redis),
``event_stream`` (the owner's SSE stream, ``GET /api/uploads/events``), ``hub`` (each process's
one poller feeding its streams), ``stream_slots`` (the cap on one user's open streams, in the
shared cache) and ``tickets`` (the short-lived credential ``EventSource`` opens it with)."""
