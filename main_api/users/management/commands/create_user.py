"""``python -m main_api create_user NAME [--type T] [--password P]``; the token is the last line.

Given ``--password``, an existing user gets that password too (``make run`` keeps its demo
user's printed password true across runs)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from main_api.users.models import User
from main_api.users.services import user_create, user_password_set, user_token_get


class Command(BaseCommand):
    help = (
        "Create a user with its profile rows and print its API token as the last line. "
        "If the user already exists with the same type, only its token is printed (and its password "
        "set, with --password)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the username")
        parser.add_argument(
            "--type",
            dest="user_type",
            choices=[t.value for t in User.Type],
            default=User.Type.ARTIST.value,
            help="the user type (default: %(default)s)",
        )
        parser.add_argument("--password", default=None,
                            help="a password for the session sign-in: the admin and the demo site (default: none)")

    def handle(self, *args, name: str, user_type: str, password: str | None, **options) -> None:
        user = User.objects.filter(username=name).first()
        if user is None:
            try:
                user = user_create(username=name, user_type=user_type, password=password)
            except Exception as e:  # a bad name fails full_clean with a ValidationError
                raise CommandError(f"cannot create user {name!r}: {e}") from e
            self.stdout.write(f"created {user.user_type} user {user.username!r} (id {user.pk})")
        elif user.user_type != user_type:
            raise CommandError(f"user {name!r} exists with type {user.user_type}, not {user_type}")
        else:
            self.stdout.write(f"user {user.username!r} (id {user.pk}) already exists")
            if password:
                user_password_set(user=user, password=password)
        self.stdout.write(user_token_get(user=user))
