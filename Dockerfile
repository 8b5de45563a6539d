# syntax=docker/dockerfile:1
# Renke: the installed package (its wheel, not the source tree) in a slim Python 3.11 image; the
# production server.
#   docker build -t renke .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://renke:…@db/renke -e RENKE_SECRET=… renke
# Several uvicorn worker processes (WEB_CONCURRENCY, default 4); the schema is migrated once
# by the parent process before the workers start (under a PostgreSQL advisory lock, so
# several containers started together migrate one after the other). See docs/deployment.md.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8000 WEB_CONCURRENCY=4
WORKDIR /app
# WeasyPrint's Pango and the CJK fonts of the PDF reports. Not pinned: the slim image's Debian
# release fixes their versions, and its security updates should come in with a rebuild.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
# The install of tests/system/test_installed_package.py (one script): the wheel built from the
# sources, mounted for this step only, so /app holds no source tree that `python -m service`
# could import in place of the installed package.
RUN --mount=type=bind,target=/src sh /src/scripts/install-package.sh python \
 && useradd --create-home --uid 10001 renke \
 && mkdir -p /app/var && chown renke /app/var
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# exec: the server is PID 1 and gets SIGTERM (uvicorn then finishes the requests in flight).
CMD ["sh", "-c", "exec python -m service --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
