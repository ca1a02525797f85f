# The bot in a slim image: non-root, knowledge and config baked in (override with mounts).
# Installed in editable mode so the package finds config/ and knowledge/ beside it in /app.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && useradd --create-home --uid 10001 bot

COPY knowledge ./knowledge
COPY config ./config
RUN mkdir -p /app/state /app/knowledge/backups && chown -R bot:bot /app/state /app/knowledge

USER bot
VOLUME ["/app/state"]
CMD ["python", "-m", "bot", "run"]
