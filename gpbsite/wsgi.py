"""WSGI entry point (gunicorn gpbsite.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gpbsite.settings")
application = get_wsgi_application()
