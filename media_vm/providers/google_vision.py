"""Google Cloud Vision, over its REST protocol: ``POST {endpoint}?key=...`` (``images:annotate``).

One request per image with the features labels, objects, text, faces and image properties.
What comes back is translated into analysis fields (see :func:`fields_from_response`); the
whole ``responses[0]`` is kept as ``raw_google_response``.
"""

from __future__ import annotations

import base64
from typing import Any

import requests

from media_vm.exceptions import ProviderError
from media_vm.providers.base import ProviderAnswer, ProviderRequest, VisionProvider

FEATURES: tuple[tuple[str, int], ...] = (
    ("LABEL_DETECTION", 10),
    ("OBJECT_LOCALIZATION", 10),
    ("TEXT_DETECTION", 1),
    ("FACE_DETECTION", 10),
    ("IMAGE_PROPERTIES", 1),
)


class GoogleVisionProvider(VisionProvider):
    name = "google_vision"
    raw_field = "raw_google_response"

    def __init__(self, *, api_key: str, endpoint: str, timeout: float, session: requests.Session | None = None):
        if not api_key:
            raise ValueError("GoogleVisionProvider needs an API key")
        self.api_key = api_key
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = session or requests.Session()

    def request_body(self, jpeg: bytes) -> dict[str, Any]:
        return {
            "requests": [
                {
                    "image": {"content": base64.b64encode(jpeg).decode("ascii")},
                    "features": [{"type": name, "maxResults": n} for name, n in FEATURES],
                }
            ]
        }

    def annotate(self, request: ProviderRequest) -> ProviderAnswer:
        try:
            response = self.session.post(
                self.endpoint, params={"key": self.api_key}, json=self.request_body(request.jpeg()),
                timeout=self.timeout,
            )
        except requests.Timeout as e:
            raise ProviderError(f"no answer within {self.timeout:g} s", status="timeout") from e
        except requests.RequestException as e:
            raise ProviderError(f"cannot reach {self.endpoint}: {type(e).__name__}") from e
        body = _json(response)
        if response.status_code != 200:
            message = (body or {}).get("error", {}).get("message") if isinstance(body, dict) else None
            raise ProviderError(f"HTTP {response.status_code}: {message or response.reason}", raw=body)
        if not isinstance(body, dict) or not isinstance(body.get("responses"), list) or not body["responses"]:
            raw = body if body is not None else response.text[:2000]
            raise ProviderError("malformed answer: no responses[0]", raw=raw)
        first = body["responses"][0]
        if not isinstance(first, dict):
            raise ProviderError("malformed answer: responses[0] is not an object", raw=body)
        if "error" in first:
            raise ProviderError(f"annotate error: {first['error'].get('message', first['error'])}", raw=first)
        return ProviderAnswer(fields_from_response(first), raw=first)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _box(poly: Any) -> dict[str, float] | None:
    vertices = (poly or {}).get("normalizedVertices") or []
    if not vertices:
        return None
    xs = [float(v.get("x", 0.0)) for v in vertices]
    ys = [float(v.get("y", 0.0)) for v in vertices]
    return {"x": round(min(xs), 4), "y": round(min(ys), 4),
            "w": round(max(xs) - min(xs), 4), "h": round(max(ys) - min(ys), 4)}


def fields_from_response(answer: dict[str, Any]) -> dict[str, Any]:
    """Analysis fields from one ``AnnotateImageResponse``:

    - ``labels``: ``labelAnnotations`` as ``{"label", "score"}``;
    - ``detected_objects``: ``localizedObjectAnnotations`` (normalised boxes) and
      ``faceAnnotations`` (pixel boxes of the preview sent; kept as ``vertices``);
    - ``detected_text``: the full text of ``textAnnotations[0]``;
    - ``dominant_colors``: ``imagePropertiesAnnotation.dominantColors`` as hex + share.
    """
    fields: dict[str, Any] = {}
    labels = answer.get("labelAnnotations") or []
    fields["labels"] = [
        {"label": str(a.get("description", "")), "score": round(float(a.get("score", 0.0)), 3)}
        for a in labels if isinstance(a, dict) and a.get("description")
    ]
    objects = []
    for a in answer.get("localizedObjectAnnotations") or []:
        if isinstance(a, dict) and a.get("name"):
            objects.append({"label": str(a["name"]).lower(), "box": _box(a.get("boundingPoly")),
                            "confidence": round(float(a.get("score", 0.0)), 3)})
    for a in answer.get("faceAnnotations") or []:
        if isinstance(a, dict):
            objects.append({"label": "face", "vertices": (a.get("boundingPoly") or {}).get("vertices"),
                            "confidence": round(float(a.get("detectionConfidence", 0.0)), 3)})
    fields["detected_objects"] = objects
    texts = answer.get("textAnnotations") or []
    if texts and isinstance(texts[0], dict) and texts[0].get("description"):
        fields["detected_text"] = str(texts[0]["description"]).strip()
    colours = ((answer.get("imagePropertiesAnnotation") or {}).get("dominantColors") or {}).get("colors") or []
    palette = []
    for c in colours:
        rgb = c.get("color") or {}
        r, g, b = (int(round(float(rgb.get(k, 0)))) for k in ("red", "green", "blue"))
        palette.append({"hex": f"#{r:02x}{g:02x}{b:02x}", "share": round(float(c.get("pixelFraction", 0.0)), 3)})
    if palette:
        fields["dominant_colors"] = palette
    return fields
