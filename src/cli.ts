// The `status-engine` executable (package.json bin, built to dist/cli.js): runs the command line of API.md.
import { buildProgram } from './server/program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`status-engine: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
