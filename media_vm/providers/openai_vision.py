"""An OpenAI-compatible chat endpoint with an image: ``POST {base}/chat/completions``.

The picture goes as an ``image_url`` data URI (JPEG, base64) in a user message that asks for
one JSON object: ``style``, ``medium``, ``subject`` (each ``{"label", "confidence"}``) and
``mood`` (a list of words). The whole response body is kept as ``raw_gpt4_response``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from media_vm.exceptions import ProviderError
from media_vm.providers.base import ProviderAnswer, ProviderRequest, VisionProvider

PROMPT = (
    "Describe this image for an art platform. Answer with one JSON object and nothing else: "
    '{"style": {"label": str, "confidence": 0-1}, "medium": {"label": str, "confidence": 0-1}, '
    '"subject": {"label": str, "confidence": 0-1}, "mood": [up to 5 lowercase words]}'
)


class OpenAIVisionProvider(VisionProvider):
    name = "openai_vision"
    raw_field = "raw_gpt4_response"

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float,
                 session: requests.Session | None = None):
        if not api_key:
            raise ValueError("OpenAIVisionProvider needs an API key")
        self.api_key = api_key
        self.url = f"{base_url.rstrip('/')}/chat/completions"
        self.model = model
        self.timeout = timeout
        self.session = session or requests.Session()

    def request_body(self, jpeg: bytes) -> dict[str, Any]:
        data_uri = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        return {
            "model": self.model,
            "temperature": 0,
            "max_tokens": 300,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": "You are an image classifier that answers in JSON only."},
                {"role": "user", "content": [
                    {"type": "text", "text": PROMPT},
                    {"type": "image_url", "image_url": {"url": data_uri}},
                ]},
            ],
        }

    def annotate(self, request: ProviderRequest) -> ProviderAnswer:
        try:
            response = self.session.post(
                self.url, json=self.request_body(request.jpeg()), timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.api_key}"},
            )
        except requests.Timeout as e:
            raise ProviderError(f"no answer within {self.timeout:g} s", status="timeout") from e
        except requests.RequestException as e:
            raise ProviderError(f"cannot reach {self.url}: {type(e).__name__}") from e
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            message = body.get("error", {}).get("message") if isinstance(body, dict) and isinstance(
                body.get("error"), dict) else None
            raise ProviderError(f"HTTP {response.status_code}: {message or response.reason}", raw=body)
        if not isinstance(body, dict):
            raise ProviderError("malformed answer: not JSON", raw=response.text[:2000])
        try:
            content = body["choices"][0]["message"]["content"]
            answer = json.loads(content)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ProviderError(f"malformed answer: {type(e).__name__}: {e}", raw=body) from e
        if not isinstance(answer, dict):
            raise ProviderError("malformed answer: the message is not a JSON object", raw=body)
        return ProviderAnswer(fields_from_answer(answer), raw=body)


def _labelled(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and value.strip():
        return {"label": value.strip(), "confidence": None}
    if isinstance(value, dict) and isinstance(value.get("label"), str) and value["label"].strip():
        confidence = value.get("confidence")
        try:
            confidence = None if confidence is None else max(0.0, min(1.0, float(confidence)))
        except (TypeError, ValueError):
            confidence = None
        return {"label": value["label"].strip(), "confidence": confidence}
    return None


def fields_from_answer(answer: dict[str, Any]) -> dict[str, Any]:
    """``{"style", "medium", "subject", "mood"}`` of the model, each kept only when well-formed."""
    fields: dict[str, Any] = {}
    for key in ("style", "medium", "subject"):
        labelled = _labelled(answer.get(key))
        if labelled:
            fields[key] = labelled
    mood = answer.get("mood")
    if isinstance(mood, list):
        fields["mood"] = [str(w).strip().lower() for w in mood if isinstance(w, str) and w.strip()][:5]
    return fields
