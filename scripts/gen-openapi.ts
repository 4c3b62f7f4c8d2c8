// Writes docs/openapi.json from the admin REST API's zod schemas (src/server/openapi.ts); a test keeps it current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApi } from '../src/server/openapi';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/openapi.json');
writeFileSync(file, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
