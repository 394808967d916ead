from flask import Flask

from flask_kapu import Kapu, requires_plusz

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"  # your app has one; flask_kapu keys its code hashes from it
app.config["KAPU_WEBAUTHN_RP_ID"] = "localhost"  # passkeys are bound to your domain...
app.config["KAPU_WEBAUTHN_ORIGINS"] = "http://localhost:5000"  # ...and to your pages' origin
kapu = Kapu(app)


@app.get("/")
def home():
    return '<a href="/tax-return">My tax return</a>'


@app.get("/tax-return")
@requires_plusz  # a second factor proven in this session
def tax_return():
    return "Your tax return"
