// The project's own spec, docs/spec.md, as it ships in the package: where it is and its clauses. Every
// conformance tool (the command, scripts/conformance.ts, the suite's docs) reads it from here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Clause {
  id: string;
  section: number | null;
  sectionTitle: string;
  text: string;
}

declare const __dirname: string | undefined;

/** The directory of this module, in the ESM and the CommonJS build alike. */
function here(): string {
  return typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
}

/** docs/spec.md of the status-engine package this module belongs to (found by walking up from here). */
export function specPath(): string {
  let dir = here();
  for (;;) {
    const candidate = join(dir, 'docs', 'spec.md');
    if (existsSync(candidate) && existsSync(join(dir, 'package.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`docs/spec.md not found above ${here()}: the status-engine package ships it`);
    dir = up;
  }
}

/** The clauses of a spec in this format: every line `- ID text`, in its numbered section (`## N. Title`). */
export function parseSpec(markdown: string): Clause[] {
  const clauses: Clause[] = [];
  let section: number | null = null;
  let sectionTitle = '';
  for (const line of markdown.split('\n')) {
    const heading = /^##\s+(?:(\d+)\.\s+)?(.*)$/.exec(line);
    if (heading) {
      section = heading[1] ? Number(heading[1]) : null;
      sectionTitle = heading[2]!.trim();
      continue;
    }
    const m = /^- ([A-Z]+-\d+) (.*)$/.exec(line);
    if (m) clauses.push({ id: m[1]!, section, sectionTitle, text: m[2]!.trim() });
    else if (clauses.length > 0 && /^ {2,}\S/.test(line) && clauses.at(-1)!.section === section) {
      clauses.at(-1)!.text += ` ${line.trim()}`;
    }
  }
  return clauses;
}

let cached: Clause[] | undefined;

/** The clauses of the shipped docs/spec.md. */
export function specClauses(): Clause[] {
  cached ??= parseSpec(readFileSync(specPath(), 'utf8'));
  return cached;
}
