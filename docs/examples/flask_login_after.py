"""After: the same app with flask_kapu, which brings Flask-Login along."""

from flask import Flask

from flask_kapu import Kapu, current_account, login_required

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"
app.config["KAPU_WEBAUTHN_RP_ID"] = "portal.example.hu"  # the domain passkeys are bound to
app.config["KAPU_WEBAUTHN_ORIGINS"] = "https://portal.example.hu"
kapu = Kapu(app)  # its own LoginManager, user loader and login pages under /kapu/


@app.get("/my-data")
@login_required
def my_data():
    return f"Hello, {current_account.username}"  # current_user works too: the same object
