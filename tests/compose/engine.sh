#!/usr/bin/env bash
# Run a command (the compose tests) with DROPLETBOOK_COMPOSE set to a `docker compose` that
# reaches a real container engine:
#   - the machine's own Docker, when `docker info` and `docker compose version` answer;
#   - otherwise the private engine of docker-local.sh ($DOCKER_LOCAL; our build machines have
#     it beside the project, at ../shared/tools/docker-local.sh), started here with stand-ins
#     for the images compose.yaml pulls (no registry is reachable there); the tests must then
#     run (DROPLETBOOK_REQUIRE_COMPOSE=1), and the engine we started is stopped at the end.
# With neither, the command runs all the same and the compose tests report that they could not
# run, and why (DROPLETBOOK_COMPOSE_MISSING).
set -euo pipefail

if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  export DROPLETBOOK_COMPOSE="docker compose"
elif [ -n "${DOCKER_LOCAL:-}" ] && [ -f "$DOCKER_LOCAL" ]; then
  # an engine already running is left running; one started here is stopped at the end
  case $(bash "$DOCKER_LOCAL" status 2>/dev/null || true) in
    "dockerd running"*) started=0 ;;
    *) started=1 ;;
  esac
  bash "$DOCKER_LOCAL" start >/dev/null
  [ "$started" = 1 ] && trap 'bash "$DOCKER_LOCAL" stop >/dev/null 2>&1 || true' EXIT
  eval "$(bash "$DOCKER_LOCAL" env)"
  have() { /usr/local/bin/docker image inspect "$1" >/dev/null 2>&1 || docker image inspect "$1" >/dev/null 2>&1; }
  have python:3.11-slim || bash "$DOCKER_LOCAL" base --alias python:3.11-slim
  have postgres:16-alpine || bash "$DOCKER_LOCAL" postgres --alias postgres:16-alpine
  have redis:7-alpine || bash "$DOCKER_LOCAL" redis --alias redis:7-alpine
  have axllent/mailpit || bash "$DOCKER_LOCAL" mailpit --alias axllent/mailpit
  export DROPLETBOOK_COMPOSE="bash $DOCKER_LOCAL compose" DROPLETBOOK_REQUIRE_COMPOSE=1
else
  export DROPLETBOOK_COMPOSE_MISSING="no container engine here: 'docker info' failed and \
docker-local.sh was not found at '${DOCKER_LOCAL:-}' (set DOCKER_LOCAL)"
fi
"$@"
