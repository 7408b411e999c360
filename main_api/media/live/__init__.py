"""Live progress: ``records`` (one row per change of an upload, announced on Redis),
``event_stream`` (the owner's SSE stream, ``GET /api/uploads/events``) and ``tickets`` (the
short-lived credential ``EventSource`` opens it with)."""
