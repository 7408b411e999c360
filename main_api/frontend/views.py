"""The demo site: sign in, the profile, uploads with live status (``<smart-image>``), and
form fallbacks (retry, background, delete) that work without JavaScript; the artist's artworks
(created by direct upload in the browser) and the public pages of each artist's active artworks,
rendered on the server."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from main_api.artworks import selectors as artwork_selectors
from main_api.artworks import services as artwork_services
from main_api.artworks.models import Artwork
from main_api.common.exceptions import ApplicationError, NotFoundError
from main_api.common.lockout import token_attempt_failed, token_attempt_refused
from main_api.frontend.csp import content_security_policy, origin_of
from main_api.media.intake import temp_storage
from main_api.media.intake.gate import CONTENT_TYPE_ALIASES
from main_api.media.models import Upload
from main_api.media.selectors.uploads import uploads_for_user
from main_api.media.services.deletion import upload_delete
from main_api.media.services.lifecycle import upload_background_set, upload_retry
from main_api.media.upload_object import upload_detail, upload_variants
from main_api.users.models import User
from shared.data_types import UPLOAD_FIELDS
from shared.naming import ACCEPTED_TYPES
from shared.sizes import SOURCE_TOOLS

#: the profile slots shown on top, with the size each is shown at
PROFILE_SLOTS = (("header_image", "Header", "header"), ("profile_image", "Profile image", "thumbnail"),
                 ("logo_image", "Logo", "small"))
#: the upload fields as the drop zone names them
FIELD_LABELS = {"profile_image": "Profile image", "header_image": "Header", "logo_image": "Logo",
                "site_image": "Site image", "product_image": "Product image", "event_image": "Event image"}
#: how many uploads the gallery shows
GALLERY_SIZE = 50
#: how many of your artworks the artworks page shows (the newest; the API pages through all)
ARTWORKS_SHOWN = 100
#: artworks per page of an artist's public page
ARTIST_PAGE_SIZE = 24


@content_security_policy
def sign_in(request: HttpRequest) -> HttpResponse:
    """``/login``: a username and password (the Django session, with django-axes' lockout),
    or an API token, which signs its user in to a session the same way."""
    error = ""
    if request.method == "POST":
        user: User | None = None
        token = request.POST.get("token", "").strip()
        if token:
            refused = token_attempt_refused(request)
            if refused is not None:
                return refused
            found = Token.objects.select_related("user").filter(key=token).first()
            user = found.user if found is not None else None
            if user is None or not user.is_active:
                token_attempt_failed(request)  # the limit reached: axes' middleware answers 429
            else:
                user.backend = "django.contrib.auth.backends.ModelBackend"
        else:
            user = authenticate(request, username=request.POST.get("username", ""),
                                password=request.POST.get("password", ""))
        if user is not None and user.is_active:
            login(request, user)
            return HttpResponseRedirect(reverse("frontend:home"))
        error = "That token is not valid." if token else "Wrong username or password."
    return render(request, "frontend/login.html", {"error": error}, status=400 if error else 200)


@content_security_policy
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """``POST /logout``: ends the session."""
    logout(request)
    return HttpResponseRedirect(reverse("frontend:login"))


@content_security_policy
@login_required(login_url="frontend:login")
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the signed-in user's profile, the drop zone and the gallery, newest first as
    ``GET /api/uploads`` lists them (a duplicate's card names the upload it repeats). Artworks'
    images are on ``/artworks``, with their artworks, not here (a card's delete would take the
    artwork along). A profile slot shows the field's newest upload that has not failed."""
    user_id = request.user.pk
    rows = uploads_for_user(user_id=user_id).exclude(data_type=Upload.DataTypes.ARTWORK)[:GALLERY_SIZE]
    uploads = [upload_detail(row) for row in rows]
    names = {u["id"]: u["original_name"] for u in uploads}
    for upload in uploads:
        if upload["duplicate_of"] is not None:
            upload["duplicate_name"] = names.get(upload["duplicate_of"]) or f"upload {upload['duplicate_of']}"
    slots = []
    for field, label, size in PROFILE_SLOTS:
        latest = next((u for u in uploads if u["field"] == field and u["status"] != "failed"), None)
        slots.append({"field": field, "label": label, "size": size, "upload": latest})
    can_logo = getattr(request.user, "user_type", "") in ("artist", "promoter")  # a community user has no logo
    fields = [(f, FIELD_LABELS.get(f, f)) for f in UPLOAD_FIELDS if f != "logo_image" or can_logo]
    return render(request, "frontend/home.html", {
        "uploads": uploads, "slots": [s for s in slots if s["field"] != "logo_image" or can_logo], "fields": fields,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
    })


@content_security_policy
@require_POST
@login_required(login_url="frontend:login")
def upload_action(request: HttpRequest, upload_id: str, action: str) -> HttpResponse:
    """``POST /uploads/{id}/{retry|delete|background}``: the forms of a gallery card, for a page
    without JavaScript (the component calls the API instead)."""
    try:
        if action == "retry":
            upload_retry(image_id=int(upload_id), user_id=request.user.pk, failed_only=True)
        elif action == "delete":
            upload_delete(image_id=int(upload_id), user_id=request.user.pk)
        elif action == "background":
            upload_background_set(image_id=int(upload_id), user_id=request.user.pk,
                                           background=request.POST.get("background", ""))
    except ApplicationError:
        pass  # the page shows the upload as it is
    return HttpResponseRedirect(reverse("frontend:home"))


def category_choices() -> list[tuple[str, str]]:
    """``ARTWORK_CATEGORIES`` as ``(value, label)``: ``mixed-media`` shows as "Mixed media"."""
    return [(c, c.replace("-", " ").capitalize()) for c in settings.ARTWORK_CATEGORIES]


def direct_upload_origins() -> list[str]:
    """Where the artworks page's script posts a file: the bucket's origin with ``TEMP_STORAGE=s3``
    (a presigned POST, signed here and never sent), else nowhere but this origin."""
    backend = temp_storage.storage()
    if not isinstance(backend, temp_storage.S3TempStorage):
        return []
    try:
        url = backend.presigned_post("probe", content_type="image/jpeg", max_bytes=1, expires_in=60)["url"]
    except BotoCoreError:  # no credentials: no upload URL either (the API answers that error)
        return []
    origin = origin_of(url)
    return [origin] if origin else []


@content_security_policy(connect_src=direct_upload_origins)
@login_required(login_url="frontend:login")
def artworks(request: HttpRequest) -> HttpResponse:
    """``/artworks``: the form that creates an artwork (``artworks.js``: a direct upload, then
    ``POST /api/artworks``) and your artworks, newest first, as ``GET /api/artworks`` shows them."""
    user_id = request.user.pk
    rows = artwork_selectors.artworks_of_owner(user_id=user_id)
    return render(request, "frontend/artworks.html", {
        "artworks": [artwork_selectors.artwork_owner_detail(a) for a in rows[:ARTWORKS_SHOWN]],
        "total": rows.count(),
        "limit": artwork_selectors.artwork_limit_for(user_id=user_id),
        "categories": category_choices(),
        "source_tools": SOURCE_TOOLS,
        # what the file picker offers: the accepted types, the names browsers give some of them
        # (an iPhone's .heic is image/heic), and the extensions for pickers that go by name
        "accepted_types": ",".join([*sorted({*ACCEPTED_TYPES, *CONTENT_TYPE_ALIASES}), ".heic", ".heif"]),
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
    })


@content_security_policy
@require_POST
@login_required(login_url="frontend:login")
def artwork_action(request: HttpRequest, artwork_id: str, action: str) -> HttpResponse:
    """``POST /artworks/{id}/{hide|unhide|delete}``: the forms of an artwork card, for a page
    without JavaScript (``artworks.js`` calls the API instead)."""
    try:
        if action == "delete":
            artwork_services.artwork_delete(artwork_id=int(artwork_id), user_id=request.user.pk)
        else:
            artwork_services.artwork_update(artwork_id=int(artwork_id), user_id=request.user.pk,
                                            changes={"hidden": action == "hide"})
    except ApplicationError:
        pass  # the page shows the artworks as they are
    return HttpResponseRedirect(reverse("frontend:artworks"))


def public_artwork(artwork: Artwork) -> dict[str, Any]:
    """What the public pages show of an active artwork: ``artwork_public_detail`` (never the
    upload, a temp path or the original), and as ``picture`` the little of its upload object
    that ``{% smart_picture %}`` reads (the variants' smart URLs and pixels, the placeholder)."""
    detail = artwork_selectors.artwork_public_detail(artwork)
    analysis = artwork.upload.ai_analysis if isinstance(artwork.upload.ai_analysis, dict) else {}
    detail["picture"] = {"variants": upload_variants(artwork.upload), "placeholder": detail["placeholder"],
                         "analysis": {"has_alpha": bool(analysis.get("has_alpha"))}}
    return detail


@content_security_policy
def not_found(request: HttpRequest, message: str) -> HttpResponse:
    """The demo site's 404 page (the API's own 404s stay JSON)."""
    return render(request, "frontend/not_found.html", {"message": message}, status=404)


@content_security_policy
def artist(request: HttpRequest, username: str) -> HttpResponse:
    """``/artists/{username}``: the artist's active artworks, newest first, ``ARTIST_PAGE_SIZE``
    a page (``?page=``); no sign-in. 404 for an unknown (or inactive) user."""
    try:
        rows = artwork_selectors.artworks_public(username=username)
    except NotFoundError:
        return not_found(request, "There is no artist of that name.")
    page = Paginator(rows, ARTIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/artist.html", {
        "artist": username, "page": page, "artworks": [public_artwork(a) for a in page],
    })


@content_security_policy
def artwork_public(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    """``/artists/{username}/{slug}``: one active artwork, its watermarked display image, fields
    and tags; no sign-in. 404 for an unknown artist or slug, and for a hidden, processing or
    failed artwork."""
    try:
        artwork = artwork_selectors.artwork_public_get(username=username, slug=slug)
    except NotFoundError:
        return not_found(request, "There is no such artwork (or it is not public).")
    return render(request, "frontend/artwork.html", {"artwork": public_artwork(artwork)})
