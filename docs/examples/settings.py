"""The portal's flask_kapu settings, loaded with ``app.config.from_pyfile("settings.py")``."""

from datetime import date, timedelta

KAPU_PLUSZ_REQUIRED_FROM = date(2026, 1, 16)  # from midnight, Budapest time: Plusz for all
KAPU_PLUSZ_MAX_AGE = timedelta(hours=1)  # a step-up counts for an hour, unless a view says less
KAPU_EMAIL_CODE_TTL = 300  # seconds work wherever a timedelta does
KAPU_SECOND_FACTORS = ("webauthn", "totp", "email")
KAPU_MAX_FAILED_ATTEMPTS = 5
KAPU_HELP_TEXT = "Ügyfélszolgálat / help line: +36 1 555 0199"
