# syntax=docker/dockerfile:1
# seqlab API and job worker, one image (see apps/api/README.md, "Many machines").
#
#   docker build -t seqlab .
#   docker run -p 3000:3000 -e HOST=0.0.0.0 seqlab                                   # the API
#   docker run seqlab node apps/cli/dist/main.js worker --redis-url redis://redis:6379  # a worker
#
# docker-compose.yml runs Redis, HAProxy, three API replicas and two workers from it.

ARG NODE_IMAGE=node:20-bookworm-slim

# Only the package manifests, in their folders: the dependency layers below are rebuilt when a
# manifest or the lock file changes, not on every source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o -name package.json -print \
    | xargs -I{} sh -c 'mkdir -p "/manifests/$(dirname {})" && cp {} "/manifests/{}"'

# Compiles every workspace package to dist/ (TypeScript -> JavaScript) with the dev tools.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /manifests/ ./
COPY package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir /out \
 && for d in packages/* apps/api apps/cli; do mkdir -p "/out/$d" && cp -r "$d/dist" "/out/$d/dist"; done \
 && cp -r apps/api/public /out/apps/api/public

# Production dependencies only, installed for the two programs the image runs.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --workspace=@seqlab/api --workspace=@seqlab/cli --include-workspace-root=false \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# jemalloc instead of glibc's malloc: each model worker replaced after a fault or a stuck task
# left fragmented malloc memory behind, and a replica's RSS grew by 150-170 MB over an hour of
# bench:abuse; on jemalloc it stayed within 36 MB (apps/api/README.md, Deployment notes). The
# link gives the library one path on every architecture.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "$(find /usr/lib -name libjemalloc.so.2 | head -n 1)" /usr/local/lib/libjemalloc.so.2
# MALLOC_ARENA_MAX applies where glibc's malloc is used anyway (LD_PRELOAD unset).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SEQLAB_MODELS=/app/models \
    SEQLAB_DATA=/app/data \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_ARENA_MAX=2
# Code and dependencies stay owned by root: the service's user can read them, not change them.
COPY --from=deps /app/ ./
# Only the compiled output (dist/ of every package, the demo page): the build stage's
# node_modules hold the dev tools and stay behind.
COPY --from=build /out/ ./
# The shipped default models and the sample data: named volumes start as copies of these, so a
# fresh deployment serves at once and publishes new versions into the volume.
COPY --chown=node:node models/ ./models/
COPY --chown=node:node data/ ./data/
RUN mkdir -p /app/models /app/data/uploads && chown -R node:node /app/models /app/data
USER node
VOLUME ["/app/models", "/app/data"]
EXPOSE 3000
# /readyz answers 503 while models load, while a replica drains on SIGTERM, and when it cannot serve.
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains (DRAIN_MS, readiness 503 first) and finishes in-flight requests before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "apps/api/dist/main.js"]
