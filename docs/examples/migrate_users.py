"""Bring the users of a Flask-Login app over as Ügyfélkapu accounts (run once)."""

from flask_kapu.errors import InvalidInput, UsernameTaken


def register_existing_users(kapu, users):
    """Office-register each ``(username, email)``; each gets an activation code by mail.

    Run it inside an app context (in ``flask shell``, say). Returns the new
    account ids by username, to link your own rows to, and the users that need a
    hand: a username that breaks the Ügyfélkapu rules, or one already taken.
    """
    account_ids, needs_attention = {}, {}
    for username, email in users:
        try:
            account_ids[username] = kapu.register(username, email).id
        except UsernameTaken:
            needs_attention[username] = "taken"
        except InvalidInput as error:
            problems = sorted({code for codes in error.errors.values() for code in codes})
            needs_attention[username] = ", ".join(problems)
    return account_ids, needs_attention
