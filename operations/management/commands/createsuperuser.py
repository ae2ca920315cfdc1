"""manage.py createsuperuser: a platform staff member with every back-office right, made by the identity
service (in the platform admin group, audited), not by the user model's manager as Django's own would."""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.admin import error_text
from core.api.exceptions import ApiError
from identity.onboarding import create_platform_staff

PASSWORD_VARIABLE = "DJANGO_SUPERUSER_PASSWORD"


class Command(BaseCommand):
    help = "Create a platform staff superuser. With --noinput the password comes from DJANGO_SUPERUSER_PASSWORD."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("DJANGO_SUPERUSER_EMAIL"))
        parser.add_argument("--name", default="")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, email, name, interactive, **options):
        if not email:
            if not interactive:
                raise CommandError("--email is required with --noinput.")
            email = input("Email: ").strip()
        password = self._password(interactive)
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            user = create_platform_staff(email=email, password=password, superuser=True, name=name)
        except ApiError as exc:
            raise CommandError(error_text(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Superuser {user.email} created in the platform tenant."))

    @staticmethod
    def _password(interactive: bool) -> str:
        if not interactive:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"{PASSWORD_VARIABLE} must be set with --noinput.")
            return password
        password = getpass.getpass()
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords differ.")
        return password
