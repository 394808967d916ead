"""Before: a Flask-Login app with users of its own."""

from flask import Flask, request
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from werkzeug.security import check_password_hash, generate_password_hash


class User(UserMixin):
    def __init__(self, id, username, email, password):
        self.id, self.username, self.email = id, username, email
        self.password_hash = generate_password_hash(password)


USERS = {"1": User("1", "KisAnna", "anna@example.hu", "Tavaszi-Szel-42")}

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"
login_manager = LoginManager(app)
login_manager.login_view = "login"


@login_manager.user_loader
def load_user(user_id):
    return USERS.get(user_id)


@app.post("/login")
def login():
    user = next((u for u in USERS.values() if u.username == request.form["username"]), None)
    if user is None or not check_password_hash(user.password_hash, request.form["password"]):
        return "Wrong username or password", 401
    login_user(user)
    return "Logged in"


@app.get("/my-data")
@login_required
def my_data():
    return f"Hello, {current_user.username}"
