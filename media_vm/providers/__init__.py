"""Vision providers: the local analyser (always) and optional remote ones, merged into one analysis.

Merge rules (the local measurements are never overwritten; providers add to them):

- Google Vision: ``labels`` are added; its objects and faces are appended to
  ``detected_objects`` with ``"source": "google_vision"``; its text fills ``detected_text``
  only where the local OCR has none (``detected_text_source`` says whose text it is); its
  palette is kept as ``provider_colors["google_vision"]``.
- OpenAI-compatible: its ``style``/``medium``/``subject`` opinions are kept under
  ``provider_classifications["openai_vision"]``; its medium fills ``medium_detected`` only
  where the local rules found none; its mood words are added after the local ones.
- Every provider's outcome is in ``providers[name]``: ``{"status": "ok" | "error" |
  "timeout" | "off", "detail", "seconds"}``; its raw answer (or error body) in its raw
  field (``raw_google_response`` / ``raw_gpt4_response``). A failure never fails the image.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from media_vm.config import Settings
from media_vm.exceptions import ProviderError
from media_vm.providers.base import ProviderAnswer, ProviderRequest, VisionProvider
from media_vm.providers.google_vision import GoogleVisionProvider
from media_vm.providers.local import LocalProvider
from media_vm.providers.openai_vision import OpenAIVisionProvider

if TYPE_CHECKING:
    from media_vm.imaging import Analysis

log = logging.getLogger(__name__)

__all__ = [
    "GoogleVisionProvider",
    "LocalProvider",
    "OpenAIVisionProvider",
    "ProviderAnswer",
    "ProviderError",
    "ProviderRequest",
    "VisionProvider",
    "analyse_for_storage",
    "analyse_with_providers",
    "merge",
    "remote_providers",
]


def remote_providers(settings: Settings) -> list[VisionProvider]:
    """The remote providers whose keys are configured, Google first."""
    providers: list[VisionProvider] = []
    if settings.google_vision_api_key:
        providers.append(GoogleVisionProvider(
            api_key=settings.google_vision_api_key, endpoint=settings.google_vision_endpoint,
            timeout=settings.provider_timeout,
        ))
    if settings.openai_api_key:
        providers.append(OpenAIVisionProvider(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url,
            model=settings.openai_vision_model, timeout=settings.provider_timeout,
        ))
    return providers


def analyse_with_providers(
    source: Path, *, data_type: str, max_pixels: int, local: LocalProvider, remotes: list[VisionProvider],
) -> Analysis:
    """The local analysis with every remote provider's answer merged in (see the module doc).

    Errors of the local analysis (a rejected image) propagate; a remote provider's never do.
    """
    started = time.perf_counter()
    analysis = local.analyse(source, data_type=data_type, max_pixels=max_pixels)
    fields = dict(analysis.fields)
    fields["providers"] = {local.name: {"status": "ok", "seconds": round(time.perf_counter() - started, 3)}}
    request = ProviderRequest(source=source, data_type=data_type, max_pixels=max_pixels,
                              preview=analysis.preview_jpeg)
    for provider in remotes:
        fields = merge(fields, provider, _ask(provider, request))
    return replace(analysis, fields=fields)


def analyse_for_storage(source: Path, *, data_type: str, max_pixels: int, settings: Settings) -> dict[str, Any]:
    """What the worker stores for one image, as plain (picklable) data: ``{"analysis": fields,
    "fingerprint": {"phash", "sha256", "embedding", "embedding_version"}}``.

    Runs the local analysis and the remote providers ``settings`` enables; meant to run in
    the image's child process (see :mod:`media_vm.isolation`).
    """
    analysis = analyse_with_providers(
        source, data_type=data_type, max_pixels=max_pixels,
        local=LocalProvider(tesseract_cmd=settings.tesseract_cmd), remotes=remote_providers(settings),
    )
    return {
        "analysis": analysis.fields,
        "fingerprint": {
            "phash": analysis.fingerprint.phash,
            "sha256": analysis.sha256,
            "embedding": analysis.fingerprint.embedding_list(),
            "embedding_version": analysis.fields["embedding_version"],
        },
    }


def _ask(provider: VisionProvider, request: ProviderRequest) -> ProviderAnswer | ProviderError:
    started = time.perf_counter()
    try:
        answer = provider.annotate(request)
    except ProviderError as e:
        log.warning("vision provider %s: %s: %s", provider.name, e.status, e)
        e.seconds = round(time.perf_counter() - started, 3)
        return e
    except Exception as e:  # noqa: BLE001 - a provider's bug must not fail the image either
        log.exception("vision provider %s crashed", provider.name)
        error = ProviderError(f"{type(e).__name__}: {e}")
        error.seconds = round(time.perf_counter() - started, 3)
        return error
    return replace(answer, fields={**answer.fields, "_seconds": round(time.perf_counter() - started, 3)})


def merge(fields: dict[str, Any], provider: VisionProvider, outcome: ProviderAnswer | ProviderError) -> dict[str, Any]:
    """``fields`` with one provider's outcome merged in (see the module doc); a new dict."""
    merged = dict(fields)
    statuses = dict(merged.get("providers") or {})
    if isinstance(outcome, ProviderError):
        statuses[provider.name] = {"status": outcome.status, "detail": str(outcome), "seconds": outcome.seconds}
        merged["providers"] = statuses
        if provider.raw_field:
            merged[provider.raw_field] = {"error": str(outcome), "body": outcome.raw}
        return merged
    answer = dict(outcome.fields)
    statuses[provider.name] = {"status": "ok", "seconds": answer.pop("_seconds", None)}
    merged["providers"] = statuses
    if provider.raw_field:
        merged[provider.raw_field] = outcome.raw
    source = provider.name
    if answer.get("labels"):
        merged["labels"] = [*(merged.get("labels") or []), *({**a, "source": source} for a in answer["labels"])]
    if answer.get("detected_objects"):
        merged["detected_objects"] = [
            *(merged.get("detected_objects") or []), *({**o, "source": source} for o in answer["detected_objects"])
        ]
    if answer.get("detected_text") and not merged.get("detected_text"):
        merged["detected_text"] = answer["detected_text"]
        merged["detected_text_source"] = source
    if answer.get("dominant_colors"):
        merged["provider_colors"] = {**(merged.get("provider_colors") or {}), source: answer["dominant_colors"]}
    opinions = {k: answer[k] for k in ("style", "medium", "subject") if k in answer}
    if opinions:
        merged["provider_classifications"] = {**(merged.get("provider_classifications") or {}), source: opinions}
        if "medium" in opinions and not merged.get("medium_detected"):
            merged["medium_detected"] = opinions["medium"]["label"]
            merged["medium_confidence"] = opinions["medium"]["confidence"]
            merged["medium_basis"] = f"{source} (the local rules found none)"
    if answer.get("mood"):
        words = list(merged.get("mood_keywords") or [])
        merged["mood_keywords"] = words + [w for w in answer["mood"] if w not in words]
    return merged
