#!/usr/bin/env node
/** The one entry point of every role: see src/cli/dispatch.ts. */
import { main } from '../src/cli/dispatch';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`gobearmon: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
