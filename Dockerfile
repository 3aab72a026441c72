# Easel: self-hosted image bot. Data (SQLite database and images) lives in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EASEL__DATABASE_URL=sqlite+aiosqlite:////data/easel.db \
    EASEL__MEDIA_DIR=/data/media \
    EASEL__WEB__SECRET_FILE=/data/web_secret

RUN useradd --create-home --uid 10001 easel \
    && mkdir -p /data /app \
    && chown easel:easel /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY migrations ./migrations
# Editable, so the migrations/ folder next to bot/ is found at start.
RUN pip install -e .

USER easel
VOLUME ["/data"]
WORKDIR /data

# 8080: the web chat, /healthz and /metrics; 8443: the Telegram webhook (telegram.mode: webhook).
EXPOSE 8080 8443
# /healthz: the database answers and the scheduler runs (served by the web chat on port 8080).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=8)"]

# SIGTERM (docker stop) lets running jobs finish within shutdown_grace_s (8 s) of Docker's 10 s.
STOPSIGNAL SIGTERM
CMD ["easel", "run"]
