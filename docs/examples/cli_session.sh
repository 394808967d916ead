export FLASK_APP=portal:create_app
flask kapu db upgrade
flask kapu register KisAnna anna@example.hu --family-name Kis --given-name Anna
flask kapu resend-activation KisAnna
flask kapu unlock KisAnna
flask kapu reset-factors KisAnna
flask kapu rotate-keys
flask kapu purge
