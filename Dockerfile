# The poolpilot worker image (used by docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY test/replay/record.ts ./test/replay/record.ts
RUN npm ci && npm prune --omit=dev
USER node
ENV POOLPILOT_LOG_LEVEL=info
CMD ["node", "dist/src/worker/main.js"]
