"""Benchmarks of the real stack (gunicorn, PostgreSQL, the queue workers, a fake Graph API): `make bench`."""
