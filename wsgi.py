"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi run`."""

import gc

from checkout import create_app

app = create_app()
# What is loaded by now lives as long as the process: the cyclic garbage collector need not look at it again
# (a receipt's full collection stays cheap), and under `gunicorn --preload` it stays in the pages workers share.
gc.collect()
gc.freeze()
