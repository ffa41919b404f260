# The poolpilot worker / API image (docker-compose.yml). Built in two stages so the runtime image holds what the worker
# and the API run: production dependencies and the compiled src/ — no TypeScript, jest, benchmarks or the demo's
# charting libraries (the demo and the lab are for a developer's machine).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY test/replay/record.ts ./test/replay/record.ts
RUN npm ci --ignore-scripts && npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production POOLPILOT_LOG_LEVEL=info
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY bin ./bin
USER node
CMD ["node", "dist/src/worker/main.js"]
