"""The reference for bench/page.py: a bare Django app (3 middleware) serving fixed bytes from memory.

It answers each path with the very bytes the status page answered, raw or gzip as the request asks,
so the difference in requests per second is what our cache layer costs on a hit.

    BARE_DIR=/tmp/x gunicorn bench.bare_app:application
"""

import json
import os
from pathlib import Path

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402

BARE_DIR = Path(os.environ["BARE_DIR"])
# path -> (content type, raw bytes, gzip bytes)
RESPONSES = {
    path: (entry["content_type"], (BARE_DIR / entry["raw"]).read_bytes(), (BARE_DIR / entry["gzip"]).read_bytes())
    for path, entry in json.loads((BARE_DIR / "manifest.json").read_text()).items()
}


def serve(request):
    content_type, raw, gzipped = RESPONSES[request.path]
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(gzipped, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(raw, content_type=content_type)
    response["Vary"] = "Accept-Encoding"
    return response


urlpatterns = [re_path(r"", serve)]
application = get_wsgi_application()
