"""System tests: the example app under gunicorn, twice, on PostgreSQL, Redis and real SMTP."""
