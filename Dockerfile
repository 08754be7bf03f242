# syntax=docker/dockerfile:1
# edgeward in a container: a slim Python 3.11 image (amd64 and arm64), the package installed
# with pip into /opt/edgeward, run as an unprivileged user.
#
#   docker build -t edgeward .
#   docker run -d --name edgeward \
#     -v edgeward-state:/var/lib/edgeward \
#     -v /etc/edgeward/edgeward.toml:/etc/edgeward/edgeward.toml:ro \
#     edgeward
#
# Without a mounted config file the settings come from EDGEWARD_* environment variables alone
# (docker run -e EDGEWARD_MQTT__HOST=broker.lan ...). Secrets: Docker/Compose secrets named
# mqtt_password and upstream_api_key appear in /run/secrets, which the daemon reads as its
# credentials directory (the same names systemd's LoadCredential= uses).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY daemon/ daemon/
COPY runtime/ runtime/
COPY adapters/ adapters/
COPY policies/ policies/
# The run-time dependencies only: no [tools] or [test] extras, no torch.
RUN python -m venv /opt/edgeward \
    && /opt/edgeward/bin/pip install . \
    && /opt/edgeward/bin/edgeward --version

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 edgeward \
    && useradd --system --uid 10001 --gid edgeward --no-create-home \
       --home-dir /var/lib/edgeward --shell /usr/sbin/nologin edgeward \
    && install -d -o edgeward -g edgeward -m 0700 /var/lib/edgeward \
    && install -d -m 0755 /etc/edgeward
COPY --from=build /opt/edgeward /opt/edgeward
COPY systemd/edgeward.toml.example /etc/edgeward/edgeward.toml.example
ENV PATH=/opt/edgeward/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EDGEWARD_STATE_DIR=/var/lib/edgeward \
    EDGEWARD_LOG_FORMAT=json \
    CREDENTIALS_DIRECTORY=/run/secrets
VOLUME ["/var/lib/edgeward"]
USER 10001:10001
# Healthy: config valid, broker reachable, daemon alive (see `edgeward doctor --help`).
HEALTHCHECK --interval=60s --timeout=15s --start-period=120s --retries=3 \
    CMD ["edgeward", "doctor", "--quick"]
ENTRYPOINT ["edgeward", "run"]
