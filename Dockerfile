# audit-router container image.
#
#   docker build -t audit-router .
#   redisctl-mcp ... 2>&1 >/dev/null | docker run -i --rm \
#     -v "$PWD/audit-router.toml:/etc/audit-router/audit-router.toml:ro" \
#     -v audit-log:/var/log/audit-router -v audit-buffers:/var/lib/audit-router audit-router
#
# Three stages: `build` compiles TypeScript with the dev dependencies, `prod-deps` installs the
# production dependencies alone, `runtime` takes the compiled code from the first and
# node_modules from the second. No compiler, test runner or type package reaches the image.
# docker-compose.yml runs the whole stack (router, Fluentd); test/deploy.test.ts checks this file.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: npm ci (all dependencies), then the build into dist/ --------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (the build) needs the sources, which are copied after this layer so
# that editing them does not invalidate the dependency layer. No dependency has install scripts.
RUN npm ci --ignore-scripts --no-audit --no-fund
# What `npm run build` reads: tsc compiles src/ and sinks/ (tsconfig.json); then
# scripts/build-validators.js compiles schemas/audit-event.schema.json into dist/validators/.
COPY tsconfig.json ./
COPY src ./src
COPY sources ./sources
COPY sinks ./sinks
COPY scripts ./scripts
COPY schemas ./schemas
RUN npm run build

# --- prod-deps: production dependencies only, from the same lock file ---------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=dev leaves out typescript and vitest; --ignore-scripts because `prepare` would
# run tsc, which is a dev dependency and is not installed here (dist/ comes from `build`).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The code stays owned by root: the process (user node) can read it, not change it.
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
# Where the file sink, the dead letter (/var/log/audit-router) and the disk buffers of the
# network sinks (/var/lib/audit-router) write. A named volume mounted there starts with this
# ownership; a bind mount must be writable by uid 1000 (node). The config is mounted read-only
# into /etc/audit-router.
RUN mkdir -p /etc/audit-router /var/log/audit-router /var/lib/audit-router \
 && chown node:node /var/log/audit-router /var/lib/audit-router \
 && chmod 0750 /var/log/audit-router /var/lib/audit-router
USER node
VOLUME ["/var/log/audit-router", "/var/lib/audit-router"]
# Liveness through the API server's GET /healthz (the event loop answers), which CMD turns on at
# 127.0.0.1:8686 inside the container. A node one-liner: the image has no curl or wget.
# AUDIT_ROUTER_HEALTH_URL points it elsewhere when the address is changed. Readiness (GET /readyz:
# every sink open and delivering) is for orchestrators that route traffic; see README "Monitor it".
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get(process.env.AUDIT_ROUTER_HEALTH_URL||'http://127.0.0.1:8686/healthz',{timeout:3000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
# audit-router reads the audit stream on stdin (`docker run -i`). The API listens on the loopback
# only: to scrape /metrics from outside, pass `--api-address 0.0.0.0:8686` and publish the port.
# The launcher itself, not `node <launcher>`: it starts node with the V8 flags that bound memory.
ENTRYPOINT ["/app/bin/audit-router"]
CMD ["-c", "/etc/audit-router/audit-router.toml", "--api-address", "127.0.0.1:8686"]
