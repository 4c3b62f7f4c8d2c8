# status-engine as a container image. Not built on the project's development machines (they reach no
# container registry); docs/operations.md ("A container") explains each step.

# 1. Build: every dependency (tsup builds the package; better-sqlite3 builds its native module here, where
#    the compilers are), then only what the server needs at run time.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsup.config.ts ./
COPY src ./src
COPY machines ./machines
# The admin dashboard's page (Vite builds it into dist/dashboard, which serve's /dashboard serves).
COPY dashboard ./dashboard
RUN npm run build && npm prune --omit=dev

# 2. Run: the same Debian and Node as the build (the native module matches), no build tools, not root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    STATUS_ENGINE_HOST=0.0.0.0 \
    STATUS_ENGINE_PORT=8080 \
    STATUS_ENGINE_DATA=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.STATUS_ENGINE_PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself receives docker stop's SIGTERM: it drains (STATUS_ENGINE_DRAIN_MS), closes and exits 0.
# --max-semi-space-size: a larger young generation, fewer scavenge pauses at thousands of sockets (V8 reads
# it at start-up only; docs/performance.md section 3; bench/net/fleet.ts SERVE_NODE_FLAGS, kept in step by a test).
ENTRYPOINT ["node", "--max-semi-space-size=64", "dist/cli.js"]
CMD ["serve"]
