"""Hand flask_kapu's mail to a queue that your mail workers send from."""

import queue

from flask_kapu.errors import MailDeliveryError


class QueueMailer:
    """flask_kapu's Mailer protocol: ``send(message)`` with an EmailMessage."""

    def __init__(self, outgoing):
        self.outgoing = outgoing

    def send(self, message):
        try:
            self.outgoing.put(message.as_bytes(), timeout=5)
        except queue.Full as exc:
            # flask_kapu catches this one: the registration is kept and the user is told
            # to ask for a new code later. Any other exception would end in a 500.
            raise MailDeliveryError("the mail queue is full") from exc
