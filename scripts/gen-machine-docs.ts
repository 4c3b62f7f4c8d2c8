// Writes docs/machines.md (see scripts/machine-docs.ts).
import { writeFileSync } from 'node:fs';
import { machineDocs } from './machine-docs';

writeFileSync(new URL('../docs/machines.md', import.meta.url), machineDocs());
console.log('wrote docs/machines.md');
