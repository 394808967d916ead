"""Answer refused requests your own way; each handler is optional."""

from flask import redirect, render_template_string, request, url_for

from flask_kapu.decorators import refuse_enrollment, refuse_login

ENROL_PAGE = """<!doctype html>
<title>Ügyfélkapu+ needed</title>
<h1>This service needs Ügyfélkapu+</h1>
<p>Set up one of these second factors first: {{ methods|join(", ") }}.</p>
<p><a href="{{ url_for('kapu.security', next=next) }}">Set it up now</a></p>
"""


def wants_json():
    return request.accept_mimetypes.best == "application/json"


def install(kapu):
    @kapu.unauthorized_handler
    def to_start_page():
        if wants_json():
            return refuse_login()  # the default: 401 problem document
        # Our start page explains the ways to log in before sending people to the form.
        return redirect(url_for("portal.home", login="required"))

    @kapu.enrollment_required_handler
    def explain_enrolment(error):
        if wants_json():
            return refuse_enrollment(error)  # the default: 403 problem document
        page = render_template_string(ENROL_PAGE, methods=error.enroll_methods, next=request.path)
        return page, 403
