# krakked run in a container: one account, the database and the plan inbox on a volume.
#
#   docker build -t krakked .
#   docker run -d --name krakked -v krakked-data:/data \
#     -e KRAKEN_API_KEY -e KRAKEN_API_SECRET krakked
#
# /data holds config.yaml (optional: the defaults are paper mode), the SQLite database, its
# heartbeat, and plans/ (drop plan files there; they move to plans/done or plans/failed).
# `docker stop` sends SIGTERM: the plan in progress finishes, then it exits 0.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KRAKKED_STATE_DIR=/data/state

WORKDIR /opt/krakked
COPY pyproject.toml README.md ./
COPY src ./src
COPY sim ./sim
COPY fixtures ./fixtures
RUN python -m pip install ".[metrics]" \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin krakked \
    && mkdir -p /data/plans /data/state \
    && chown -R krakked:krakked /data

USER krakked
WORKDIR /data
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["krakked", "status"]

STOPSIGNAL SIGTERM
CMD ["krakked", "--log-format", "json", "run", "--plans", "/data/plans"]
