#!/usr/bin/env node
// The `poolpilot` command: the compiled CLI (npm ci builds it; after editing the sources, npm run build).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain CommonJS launcher for the built code
require('../dist/src/cli/index.js').runCli(process.argv.slice(2));
