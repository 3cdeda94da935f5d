"""The WSGI entry point for a WSGI server of your choosing: ``tracker.wsgi:app``.

``tracker serve`` runs the app itself (gunicorn with several workers, or waitress); this
module is for running it under another server, e.g.
``gunicorn --workers 4 --worker-class gthread --threads 4 'tracker.wsgi:app'``. The
configuration comes from the environment (``TRACKER_*``), as for ``tracker serve``.
"""

from __future__ import annotations

from tracker import create_app, logs
from tracker.serving import read_plan_ahead

app = create_app()
logs.configure(app)  # once per worker process; gunicorn's own access log stays off
read_plan_ahead(app)  # before the first request, not during it
