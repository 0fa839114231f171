# One image for the three services; compose.yaml chooses each container's command.

# --- build: resolve the locked dependencies and install the project into a venv ------------
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv==0.13.9"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3.11
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY shared ./shared
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable

# --- runtime: the venv only; no uv, no compiler, not root ---------------------------------
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin dropletbook
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /home/dropletbook
USER dropletbook
EXPOSE 8000 8001 8080
# The authorization server, in production posture: it refuses to start without real secrets
# (AS_SECRET_KEY, AS_KEY_ENCRYPTION_KEYS, ...). compose.yaml runs the development demo instead.
# Forwarded headers are read by the app from the proxies AS_FORWARDED_ALLOW_IPS names, never by
# uvicorn (which would trust loopback); h11 bounds the request head (docs/security.md).
CMD ["uvicorn", "services.authorization_server.main:app", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--http", "h11"]
