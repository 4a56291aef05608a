"""Benchmarks of the real stack (gunicorn, PostgreSQL, the queue worker, a fake Graph API): `make bench`."""
