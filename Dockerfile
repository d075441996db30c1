# The image docker-compose.yml runs as `api` and `worker` (see docs/OPERATIONS.md). One image, two commands.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The server (dist/) and the admin console (dist/console, served by the API at /console).
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATA_DIR=/var/lib/plexus
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/bin ./bin
RUN mkdir -p /var/lib/plexus && chown node:node /var/lib/plexus
USER node
EXPOSE 3000
CMD ["node", "--max-semi-space-size=64", "--import", "./scripts/register.mjs", "dist/apps/api/src/main.js"]
