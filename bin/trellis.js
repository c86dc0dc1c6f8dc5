#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (prepare) or `npm run build`.
import('../dist/src/cli/main.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      console.error(
        'trellis: not built yet — run `npm install` (or `npm run build`) in the trellis checkout',
      );
      process.exit(1);
    }
    throw err;
  });
