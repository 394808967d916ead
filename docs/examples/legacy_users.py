"""The app's users, as `flask kapu import-users --from-host legacy_users:users` reads them."""

from legacy_site import User, db
from sqlalchemy import select


def users():
    """Every user not yet linked to an account, with the hash the app already stores."""
    linked = User.kapu_account_id.is_not(None)
    for user in db.session.scalars(select(User).where(~linked).order_by(User.id)):
        yield {
            "username": user.username,
            "email": user.email,
            "password_hash": user.password_hash,
            "email_verified": True,  # the app has been mailing these addresses for years
        }
