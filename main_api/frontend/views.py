"""The demo site: sign in, the profile, uploads with live status (``<smart-image>``), and
form fallbacks (retry, background, delete) that work without JavaScript."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from main_api.common.exceptions import ApplicationError
from main_api.media import selectors, services
from main_api.users.models import User
from shared.data_types import UPLOAD_FIELDS

#: the profile slots shown on top, with the size each is shown at
PROFILE_SLOTS = (("header_image", "Header", "header"), ("profile_image", "Profile image", "thumbnail"),
                 ("logo_image", "Logo", "small"))
#: the upload fields as the drop zone names them
FIELD_LABELS = {"profile_image": "Profile image", "header_image": "Header", "logo_image": "Logo",
                "site_image": "Site image", "product_image": "Product image", "event_image": "Event image"}
#: how many uploads the gallery shows
GALLERY_SIZE = 50


def sign_in(request: HttpRequest) -> HttpResponse:
    """``/login``: a username and password (the Django session, with django-axes' lockout),
    or an API token, which signs its user in to a session the same way."""
    error = ""
    if request.method == "POST":
        user: User | None = None
        token = request.POST.get("token", "").strip()
        if token:
            found = Token.objects.select_related("user").filter(key=token).first()
            user = found.user if found is not None else None
            if user is not None:
                user.backend = "django.contrib.auth.backends.ModelBackend"
        else:
            user = authenticate(request, username=request.POST.get("username", ""),
                                password=request.POST.get("password", ""))
        if user is not None and user.is_active:
            login(request, user)
            return HttpResponseRedirect(reverse("frontend:home"))
        error = "That token is not valid." if token else "Wrong username or password."
    return render(request, "frontend/login.html", {"error": error}, status=400 if error else 200)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """``POST /logout``: ends the session."""
    logout(request)
    return HttpResponseRedirect(reverse("frontend:login"))


@login_required(login_url="frontend:login")
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the signed-in user's profile, the drop zone and the gallery (oldest first, so that
    a new upload is added at the end and nothing above it moves)."""
    user_id = request.user.pk
    rows = list(selectors.uploads_for_user(user_id=user_id)[:GALLERY_SIZE])
    uploads = [selectors.upload_detail(row) for row in reversed(rows)]
    slots = []
    for field, label, size in PROFILE_SLOTS:
        latest = next((u for u in reversed(uploads) if u["field"] == field), None)
        slots.append({"field": field, "label": label, "size": size, "upload": latest})
    can_logo = getattr(request.user, "user_type", "") in ("artist", "promoter")  # a community user has no logo
    fields = [(f, FIELD_LABELS.get(f, f)) for f in UPLOAD_FIELDS if f != "logo_image" or can_logo]
    return render(request, "frontend/home.html", {
        "uploads": uploads, "slots": [s for s in slots if s["field"] != "logo_image" or can_logo], "fields": fields,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
    })


@require_POST
@login_required(login_url="frontend:login")
def upload_action(request: HttpRequest, upload_id: str, action: str) -> HttpResponse:
    """``POST /uploads/{id}/{retry|delete|background}``: the forms of a gallery card, for a page
    without JavaScript (the component calls the API instead)."""
    try:
        if action == "retry":
            services.pending_image_retry(image_id=int(upload_id), user_id=request.user.pk, failed_only=True)
        elif action == "delete":
            services.upload_delete(image_id=int(upload_id), user_id=request.user.pk)
        elif action == "background":
            services.upload_background_set(image_id=int(upload_id), user_id=request.user.pk,
                                           background=request.POST.get("background", ""))
    except ApplicationError:
        pass  # the page shows the upload as it is
    return HttpResponseRedirect(reverse("frontend:home"))
