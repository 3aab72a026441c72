# Easel: self-hosted image bot. Data (SQLite database and images) lives in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EASEL__DATABASE_URL=sqlite+aiosqlite:////data/easel.db \
    EASEL__MEDIA_DIR=/data/media

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

HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["easel", "db", "current"]

CMD ["easel", "run"]
