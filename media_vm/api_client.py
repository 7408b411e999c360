"""The media VM's side of the wire: calls to the main API's ``/api/media/*``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from media_vm.exceptions import MainAPIError
from media_vm.logging_setup import current_request_id
from shared.payloads import CompletePayload, DeletionPayload, PendingImagePayload

log = logging.getLogger(__name__)

__all__ = ["REQUEST_ID_HEADER", "MainAPIClient", "MainAPIError"]

REQUEST_ID_HEADER = "X-Request-ID"


#: A progress report waits at most this long: it must never hold up the image it reports on.
PROGRESS_TIMEOUT_SECONDS = 5.0


class MainAPIClient:
    """The main API's ``/api/media/*`` over one keep-alive session; every failure is a
    :class:`MainAPIError` (``permanent`` for a 4xx that retrying will not change)."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # the key goes in a header only; it is never logged
        self.session.headers["Authorization"] = f"Bearer {key}"

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            kwargs.setdefault("timeout", self.timeout)
            resp = self.session.request(method, url, **kwargs)
        except requests.RequestException as e:
            raise MainAPIError(f"{method} {path}: {type(e).__name__}: {e}") from e
        if resp.status_code >= 400:
            detail = resp.text[:300]
            resp.close()
            raise MainAPIError(f"{method} {path}: HTTP {resp.status_code}: {detail}", status=resp.status_code)
        return resp

    def pending(self, *, wait: float = 0.0, after: int | None = None) -> list[PendingImagePayload]:
        """Pending rows; ``wait`` > 0 long-polls for rows with an id above ``after``."""
        return self.pending_page(wait=wait, after=after)[0]

    def pending_page(self, *, wait: float = 0.0, after: int | None = None,
                     since: str | None = None) -> tuple[list[PendingImagePayload], str | None]:
        """Pending rows, and the main API's time before it looked (its ``now``; None from an
        older main API). ``wait`` > 0 long-polls for rows with an id above ``after`` or, with
        ``since`` (the ``now`` of the previous answer), put back in the queue after it."""
        params: dict[str, str] = {}
        if wait > 0:
            params["wait"] = f"{wait:g}"
        if after is not None:
            params["after"] = str(int(after))
            if since:
                params["since"] = since
        # a held long poll must not hit the client's own read timeout
        timeout = self.timeout + wait if wait > 0 else self.timeout
        body = self._request("GET", "/api/media/pending/all", params=params, timeout=timeout).json()
        return list(body.get("images", [])), body.get("now")

    @staticmethod
    def _trace() -> dict[str, str]:
        """The ``X-Request-ID`` of the image being worked on (the media DB keeps it with the
        row; the worker and the healer put it in the logging context)."""
        request_id = current_request_id()
        return {REQUEST_ID_HEADER: request_id} if request_id else {}

    @contextmanager
    def download(self, image_path: str) -> Iterator[Iterator[bytes]]:
        """Stream a temp original; ``image_path`` must be a path under ``/temp_images/``."""
        if not image_path.startswith("/temp_images/") or ".." in image_path or "//" in image_path:
            raise MainAPIError(f"refusing image_path outside /temp_images/: {image_path!r}", status=400)
        resp = self._request("GET", image_path, stream=True)
        try:
            yield resp.iter_content(chunk_size=256 * 1024)
        finally:
            resp.close()

    def complete(self, main_api_id: int, payload: CompletePayload) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/media/complete/{int(main_api_id)}", json=payload,
                                  headers=self._trace()).json())

    def progress(self, main_api_id: int, stage: str, media_id: str | None = None) -> dict[str, Any]:
        """Report a stage (``shared.statuses.PROGRESS_STAGES``) of an upload; the main API keeps
        stages monotonic, so a repeated or late report is harmless."""
        body: dict[str, Any] = {"stage": stage} | ({"media_id": media_id} if media_id else {})
        return dict(self._request("POST", f"/api/media/progress/{int(main_api_id)}", json=body,
                                  headers=self._trace(), timeout=min(self.timeout, PROGRESS_TIMEOUT_SECONDS)).json())

    def cleanup(self, main_api_id: int, reason: str) -> dict[str, Any]:
        return dict(self._request("DELETE", f"/api/media/cleanup/{int(main_api_id)}", json={"reason": reason},
                                  headers=self._trace()).json())

    def deletions(self, *, limit: int = 100) -> list[DeletionPayload]:
        """Deleted uploads this VM has not acknowledged erasing yet, oldest first."""
        body = self._request("GET", "/api/media/deletions", params={"limit": str(int(limit))}).json()
        return list(body.get("deletions", []))

    def deletion_done(self, deletion_id: int) -> dict[str, Any]:
        """Acknowledge one deletion (idempotent on the main API's side)."""
        return dict(self._request("POST", f"/api/media/deletions/{int(deletion_id)}/done").json())
