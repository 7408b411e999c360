"""``GET /similar/{media_id}?limit=&min_similarity=&scope=``: the images nearest to one, by the
fingerprints the analysis stored (:func:`media_vm.similarity.nearest`).

200 with :func:`~media_vm.similarity.nearest`'s body; 400 for a bad parameter; 404 for an
unknown id or an image without a fingerprint. The main API's ``/api/media/similar`` asks here,
with the media key: the answer names other users' images (401 without it, see
:mod:`media_vm.http.auth`).
"""

from __future__ import annotations

from media_vm.db import Repository
from media_vm.http.wsgi import HTTPError, Request, Response, json_response
from media_vm.similarity import SIMILAR_MIN_COSINE, nearest
from shared.naming import is_media_id


class SimilarRoute:
    """Reads the media DB's fingerprints per request (see :mod:`media_vm.similarity`)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def __call__(self, request: Request) -> Response:
        media_id = request.params["media_id"]
        try:
            limit = int(request.query.get("limit", "10"))
            min_similarity = float(request.query.get("min_similarity", str(SIMILAR_MIN_COSINE)))
            scope = request.query.get("scope", "user")
            if not is_media_id(media_id):
                raise HTTPError(404, "no such image", {"media_id": media_id})
            body = nearest(self.repo, media_id, limit=limit, min_similarity=min_similarity, scope=scope)
        except ValueError as e:
            raise HTTPError(400, str(e)) from e
        if body is None:
            raise HTTPError(404, "no fingerprint for this image (unknown, or not analysed yet)", {"media_id": media_id})
        return json_response(200, body)
