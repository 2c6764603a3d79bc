# syntax=docker/dockerfile:1
# kscand-sim: compiled in a build stage with the dev dependencies, run with the production
# dependencies only. test/image/dockerfile.test.ts checks these rules and reproduces the final
# stage outside Docker (there is no Docker engine on the build machines).
ARG NODE_VERSION=20.20.2
ARG NPM_VERSION=11.19.1

FROM node:${NODE_VERSION}-bookworm-slim AS build
ARG NPM_VERSION
WORKDIR /app
# The lockfile is written by npm 11; the image bundles npm 10.
RUN npm install -g npm@${NPM_VERSION}
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
ARG NPM_VERSION
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STATE_FILE=/var/lib/kscand-sim/state.json
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/kscand-sim \
 && chown node:node /var/lib/kscand-sim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install -g npm@${NPM_VERSION} \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force
# Code and dependencies stay root's: the node user can read them, not change them.
COPY --from=build /app/dist ./dist
COPY public ./public
USER node
VOLUME ["/var/lib/kscand-sim"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini is PID 1: it forwards SIGTERM to node and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/src/server.js"]
