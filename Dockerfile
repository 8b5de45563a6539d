# Renke: the same install as `make`, in a slim Python 3.11 image; the production server.
#   docker build -t renke .
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://renke:…@db/renke -e RENKE_SECRET=… renke
# Several uvicorn worker processes (WEB_CONCURRENCY, default 4); the schema is migrated once
# by the parent process before the workers start (under a PostgreSQL advisory lock, so
# several containers started together migrate one after the other). See docs/deployment.md.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8000 WEB_CONCURRENCY=4
WORKDIR /app
# WeasyPrint's Pango and the CJK fonts of the PDF reports.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY scoring ./scoring
COPY service ./service
COPY survey_templates ./survey_templates
RUN pip install --no-cache-dir . \
 && useradd --create-home --uid 10001 renke \
 && mkdir -p /app/var && chown renke /app/var
USER renke
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=40s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"
# exec: the server is PID 1 and gets SIGTERM (uvicorn then finishes the requests in flight).
CMD ["sh", "-c", "exec python -m service --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
