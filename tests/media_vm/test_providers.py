"""Vision providers against local servers that speak their protocols: answers merged, raw
answers kept, and every failure (HTTP error, malformed answer, timeout) recorded, never fatal."""

from __future__ import annotations

import base64
import json

import pytest
import pyvips

from media_vm.imaging import configure_libvips
from media_vm.providers import (
    GoogleVisionProvider,
    LocalProvider,
    OpenAIVisionProvider,
    ProviderAnswer,
    ProviderError,
    analyse_with_providers,
    merge,
)
from tests.helpers.images import photo_jpeg
from tests.media_vm.fake_vision import GOOGLE_ANSWER, OPENAI_MESSAGE, FakeVision

KEY = "test-key-123"


@pytest.fixture(scope="module", autouse=True)
def _libvips():
    configure_libvips()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return photo_jpeg(tmp_path_factory.mktemp("providers") / "photo.jpg", 1600, 1200)


@pytest.fixture
def fake():
    with FakeVision() as server:
        yield server


def google(fake, timeout=5.0):
    return GoogleVisionProvider(api_key=KEY, endpoint=fake.google_endpoint, timeout=timeout)


def openai(fake, timeout=5.0):
    return OpenAIVisionProvider(api_key=KEY, base_url=fake.openai_base, model="gpt-test", timeout=timeout)


def run(photo, *remotes):
    return analyse_with_providers(photo, data_type="product", max_pixels=10**8, local=LocalProvider(),
                                  remotes=list(remotes)).fields


def decoded_jpeg(b64: str) -> pyvips.Image:
    data = base64.b64decode(b64)
    assert data[:2] == b"\xff\xd8"
    return pyvips.Image.new_from_buffer(data, "")


def test_google_vision_protocol_and_merge(fake, photo):
    fields = run(photo, google(fake))
    (request,) = fake.requests
    assert request["path"] == "/v1/images:annotate" and request["query"] == {"key": [KEY]}
    (item,) = request["json"]["requests"]
    assert {f["type"] for f in item["features"]} >= {"LABEL_DETECTION", "OBJECT_LOCALIZATION", "TEXT_DETECTION"}
    sent = decoded_jpeg(item["image"]["content"])
    assert (sent.width, sent.height) == (1024, 768)  # the analysis copy, not the original

    assert fields["providers"]["google_vision"]["status"] == "ok"
    assert fields["providers"]["local"]["status"] == "ok"
    assert fields["raw_google_response"] == GOOGLE_ANSWER
    assert [(x["label"], x["source"]) for x in fields["labels"]] == [("Pattern", "google_vision"),
                                                                      ("Art", "google_vision")]
    ball = next(o for o in fields["detected_objects"] if o["label"] == "ball")
    assert ball["source"] == "google_vision" and ball["box"] == {"x": 0.1, "y": 0.2, "w": 0.3, "h": 0.4}
    # the local OCR found no text in the photo, so Google's fills the field and says so
    assert fields["detected_text"] == "SALE 50%"
    assert fields["detected_text_source"] == "google_vision"
    assert fields["provider_colors"]["google_vision"] == [{"hex": "#c81e28", "share": 0.4}]
    # local measurements are kept as they were
    assert fields["dominant_colors"] == run(photo)["dominant_colors"]


def test_openai_protocol_and_merge(fake, photo):
    fields = run(photo, openai(fake))
    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    body = request["json"]
    assert body["model"] == "gpt-test"
    content = body["messages"][-1]["content"]
    image_url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
    assert image_url.startswith("data:image/jpeg;base64,")
    decoded_jpeg(image_url.split(",", 1)[1])

    assert fields["providers"]["openai_vision"]["status"] == "ok"
    assert fields["raw_gpt4_response"]["choices"][0]["message"]["content"] == json.dumps(OPENAI_MESSAGE)
    opinion = fields["provider_classifications"]["openai_vision"]
    assert opinion["style"] == {"label": "abstract", "confidence": 0.7}
    assert opinion["medium"] == {"label": "digital painting", "confidence": 0.6}
    # measured style and medium stay; the model's mood words come after the measured ones
    assert fields["style_classification"]["label"] == "photographic"
    assert fields["medium_detected"] == "photograph"
    local_words = run(photo)["mood_keywords"]
    assert fields["mood_keywords"] == local_words + [w for w in ("playful", "calm") if w not in local_words]


def test_openai_medium_fills_only_an_empty_local_medium():
    answer = ProviderAnswer({"medium": {"label": "watercolour", "confidence": 0.8}}, raw={"x": 1})
    provider = OpenAIVisionProvider(api_key=KEY, base_url="http://127.0.0.1:9", model="m", timeout=1)
    empty = merge({"medium_detected": None, "providers": {}}, provider, answer)
    assert (empty["medium_detected"], empty["medium_confidence"]) == ("watercolour", 0.8)
    assert empty["medium_basis"].startswith("openai_vision")
    kept = merge({"medium_detected": "photograph", "providers": {}}, provider, answer)
    assert kept["medium_detected"] == "photograph"


@pytest.mark.parametrize("make", [google, openai], ids=["google", "openai"])
def test_an_http_error_is_recorded_and_the_image_goes_on(fake, photo, make):
    fake.mode = "error"
    provider = make(fake)
    fields = run(photo, provider)
    status = fields["providers"][provider.name]
    assert status["status"] == "error"
    assert status["detail"] in ("HTTP 403: API key not valid", "HTTP 429: Rate limit reached")
    assert fields[provider.raw_field]["error"] == status["detail"]
    assert fields[provider.raw_field]["body"]["error"]
    assert fields["dominant_colors"] and fields["quality_score"] > 0


@pytest.mark.parametrize("make", [google, openai], ids=["google", "openai"])
def test_a_malformed_answer_is_recorded(fake, photo, make):
    fake.mode = "malformed"
    provider = make(fake)
    fields = run(photo, provider)
    status = fields["providers"][provider.name]
    assert status["status"] == "error" and status["detail"].startswith("malformed answer")
    assert "labels" not in fields and "provider_classifications" not in fields


@pytest.mark.parametrize("make", [google, openai], ids=["google", "openai"])
def test_a_timeout_is_recorded(fake, photo, make):
    fake.mode, fake.delay = "slow", 3.0
    provider = make(fake, timeout=0.5)
    fields = run(photo, provider)
    status = fields["providers"][provider.name]
    assert status["status"] == "timeout"
    assert 0.4 <= status["seconds"] < 2.5


def test_an_unreachable_provider_is_recorded(photo, fake):
    fake.server.server_close()  # nothing listens there any more
    provider = GoogleVisionProvider(api_key=KEY, endpoint=fake.google_endpoint, timeout=2)
    fields = run(photo, provider)
    assert fields["providers"]["google_vision"]["status"] == "error"
    assert "cannot reach" in fields["providers"]["google_vision"]["detail"]


def test_both_providers_in_one_analysis(fake, photo):
    fields = run(photo, google(fake), openai(fake))
    assert {k: v["status"] for k, v in fields["providers"].items()} == {
        "local": "ok", "google_vision": "ok", "openai_vision": "ok"}
    assert len(fake.requests) == 2
    json.dumps(fields)  # storable as it is


def test_provider_error_keeps_what_was_sent():
    error = ProviderError("boom", status="timeout", raw={"partial": True})
    assert (str(error), error.status, error.raw, error.seconds) == ("boom", "timeout", {"partial": True}, None)
