# One image for all four services; docker-compose.yml picks the service with `command`.
#   docker build -t brain-mission-system .
#   docker run --rm -e REDIS_URL=redis://host:6379 -e API_KEYS=... -e DATA_KEY_SECRET=... -p 3000:3000 brain-mission-system
# NODE_ENV=production: a service without DATA_KEY_SECRET or DATA_KEY_FILE (the guest-data master key) exits 78.
# Health checks are defined in docker-compose.yml (they need no curl: see there).

# --- build: all dependencies, compile to dist/ (tsc + tsc-alias + scripts/copy-assets.js) ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script reports usage; keep builds quiet.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies, compiled code (with its Lua scripts and prompts), fixtures ---
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/ holds the Lua scripts and prompt templates that copy-assets.js put beside the compiled code.
COPY --from=build /app/dist ./dist
# The orchestrator seeds an empty agent registry from fixtures/agents.json (found from package.json's directory).
COPY --from=build /app/fixtures ./fixtures
# Code stays root-owned and read-only to the service user. Only .data/ is writable: the intake keeps
# a generated local operator key there when API_KEYS is empty (compose requires API_KEYS instead).
RUN mkdir -p .data && chown node:node .data && chmod 700 .data
ENV NODE_ENV=production
USER node
EXPOSE 3000 3001 3002 3003
# The services stop gracefully on SIGTERM (Nest shutdown hooks).
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/intake/src/main.js"]
