# kscand-sim: compiled in a build stage with the dev dependencies, run with the production
# dependencies only. test/image/dockerfile.test.ts checks these rules and test/image/image.test.ts
# reproduces the final stage outside Docker; scripts/image-smoke.sh checks a built image.
# No `# syntax=` line: BuildKit's built-in frontend reads this file, so a build needs nothing
# from a registry but the base image (and the npm registry and Debian's archive for its RUNs).
# NODE_VERSION: the LTS the image ships; .ci/run also runs the tests on its major.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY routes ./routes
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
# VERSION follows package.json (a test keeps them equal); SOURCE is the repository's URL,
# given at build time: --build-arg SOURCE="$(git remote get-url origin)".
ARG VERSION=0.1.0
ARG SOURCE=
LABEL org.opencontainers.image.title="kscand-sim" \
      org.opencontainers.image.description="A faithful simulation of the kscand/kmigrated kernel threads (Linux RFC V3 'slowtier page promotion based on PTE A bit') on a simulated tiered-memory machine, served like sysfs over HTTP." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STATE_FILE=/var/lib/kscand-sim/state.json
# The state directory belongs to group 0 as well, so that an arbitrary UID in group 0
# (`--user 12345:0`, OpenShift) can write it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/kscand-sim \
 && chown node:0 /var/lib/kscand-sim \
 && chmod g+rwX /var/lib/kscand-sim
WORKDIR /app
COPY package.json package-lock.json ./
# The base image's own npm (no upgrade); its cache and logs (/root/.npm) and compile cache
# go in the same layer.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf /root/.npm /tmp/node-compile-cache
# Code and dependencies stay root's: the node user can read them, not change them.
COPY --from=build /app/dist ./dist
COPY public ./public
# bin/kscand-sim.js: `kscand-sim run`/`merge` on the built tree (deploy/kubernetes/ runs sweeps).
COPY bin ./bin
USER node
VOLUME ["/var/lib/kscand-sim"]
EXPOSE 8080
# Probes the address the server listens on: loopback for a wildcard HOST (0.0.0.0, ::).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const h=process.env.HOST||'127.0.0.1',a=h==='0.0.0.0'||h==='::'?'127.0.0.1':h;fetch('http://'+(a.includes(':')?'['+a+']':a)+':'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini is PID 1: it forwards SIGTERM to node and reaps zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/src/server.js"]
