"""``GET /health``: whether the media DB answers and the store works.

200 ``{"status": "ok", "database": "ok", "storage": "ok"}``; 503 with ``"status":
"unhealthy"`` and what is wrong under ``database``/``storage`` (kept at the top level for the
main API's dashboard), plus ``message`` and ``extra`` like every error.

Without a media key the answer is the status alone (``{"status": "ok"}`` or ``{"status":
"unhealthy"}``, same status codes): enough for a load balancer or a container healthcheck,
nothing about the VM's insides for anyone else.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from media_vm.db import ping
from media_vm.http.wsgi import Request, Response, json_response
from media_vm.storage import Storage


class HealthRoute:
    """Checks the media DB (a ``SELECT 1``) and the store (:meth:`Storage.health`) per request."""

    def __init__(self, engine: Engine, storage: Storage) -> None:
        self.engine = engine
        self.storage = storage

    def __call__(self, request: Request) -> Response:
        checks = {"database": "ok", "storage": "ok"}
        try:
            ping(self.engine)
        except Exception as e:  # noqa: BLE001 - any failure is the answer, not a 500
            checks["database"] = f"error: {type(e).__name__}"
        checks["storage"] = self.storage.health()
        healthy = all(v == "ok" for v in checks.values())
        if not request.has_media_key:
            return json_response(200 if healthy else 503, {"status": "ok" if healthy else "unhealthy"})
        if healthy:
            return json_response(200, {"status": "ok", **checks})
        failing = ", ".join(k for k, v in checks.items() if v != "ok")
        return json_response(503, {"status": "unhealthy", **checks, "message": f"unhealthy: {failing}",
                                   "extra": checks})
