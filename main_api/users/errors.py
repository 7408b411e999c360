"""The users app's error messages (``main_api.common.error_messages``). What the media app's intake
refuses of an upload (an unknown field, the gate's verdicts, a URL import) is ``main_api.media.errors``'s."""

from __future__ import annotations

from main_api.common.error_messages import error_message
from main_api.media.errors import PROFILE_UPLOADS

NO_LOGO = error_message(PROFILE_UPLOADS, 400, "only artist and promoter users have a logo",
                        "logo_image from a community user", ("field", "user_type"))
