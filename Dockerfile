# syntax=docker/dockerfile:1
# campaign-ims-proxy: build with the dev dependencies, run with the
# production ones only, as a non-root user, on a read-only root filesystem.
#   docker build -t campaign-ims-proxy .
#   docker run --read-only -p 8080:8080 -p 9464:9464 \
#     -e CAMPAIGN_URL=https://<instance>.campaign.adobe.com -e IMS_CLIENT_ID=... \
#     -v ./secrets:/run/secrets:ro campaign-ims-proxy
# Configuration: config/default.yaml (environment variables and secret
# files, see docs/configuration.md#container-default), or mount your own
# file and pass `serve --config /path/to/it`.

ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="campaign-ims-proxy" \
      org.opencontainers.image.description="Authenticating reverse proxy that keeps legacy Adobe Campaign SOAP integrations working after their technical operators moved to Adobe IMS technical accounts" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="node:${NODE_VERSION}-bookworm-slim"
ENV NODE_ENV=production
# A fixed mmap threshold: request buffers of 128 KiB and more are mapped and
# given back when freed, instead of glibc raising the threshold and keeping
# them in its heap (RSS that never comes down after a burst of large bodies).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; no install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY config ./config
# The image's own non-root user (uid 1000). Nothing is written at run time:
# logs go to stdout, secrets are read from mounted files.
USER node
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
# No curl in the image: Node's fetch asks the admin listener for liveness.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ADMIN_PORT||9464)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve", "--config", "/app/config/default.yaml"]
