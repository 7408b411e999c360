"""The media VM's side of the wire: calls to the main API's ``/api/media/*``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from media_vm.logging_setup import current_request_id
from shared.payloads import CompletePayload, PendingImagePayload

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
#: Request ids remembered from polls; the oldest are forgotten past this many.
MAX_REMEMBERED_REQUEST_IDS = 10_000


class MainAPIError(RuntimeError):
    """The main API could not be reached or answered with an error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        """4xx other than 408/429 will not get better by retrying."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in (408, 429)


class MainAPIClient:
    def __init__(self, base_url: str, key: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # the key goes in a header only; it is never logged
        self.session.headers["Authorization"] = f"Bearer {key}"
        #: main API id -> the upload's request id, as the last polls listed them. Not in the media
        #: DB: a row still pending on the main API is listed (with its id) at every poll.
        self.request_ids: dict[int, str] = {}

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
        params: dict[str, str] = {}
        if wait > 0:
            params["wait"] = f"{wait:g}"
        if after is not None:
            params["after"] = str(int(after))
        # a held long poll must not hit the client's own read timeout
        timeout = self.timeout + wait if wait > 0 else self.timeout
        body = self._request("GET", "/api/media/pending/all", params=params, timeout=timeout).json()
        items = list(body.get("images", []))
        for item in items:
            if item.get("request_id"):
                self.request_ids[int(item["id"])] = str(item["request_id"])
        while len(self.request_ids) > MAX_REMEMBERED_REQUEST_IDS:
            self.request_ids.pop(next(iter(self.request_ids)))
        return items

    def request_id_for(self, main_api_id: int) -> str | None:
        """The upload's request id of a main API row, if a poll of this process listed it."""
        return self.request_ids.get(int(main_api_id))

    def _trace(self, main_api_id: int) -> dict[str, str]:
        request_id = current_request_id() or self.request_id_for(main_api_id)
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
                                  headers=self._trace(main_api_id)).json())

    def cleanup(self, main_api_id: int, reason: str) -> dict[str, Any]:
        return dict(self._request("DELETE", f"/api/media/cleanup/{int(main_api_id)}", json={"reason": reason},
                                  headers=self._trace(main_api_id)).json())
