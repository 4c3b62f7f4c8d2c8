// Loads @xstate/machine-extractor, the parser behind the Stately editor and its VS Code extension, and
// turns one machine file into the config the editor would show.
import { createRequire } from 'node:module';

type Extractor = typeof import('@xstate/machine-extractor');
const require = createRequire(import.meta.url);

/**
 * The extractor still requires xstate 4's `xstate/lib/actions` and `xstate/lib/types` (to build the
 * objects of built-in actions), paths that xstate 5 does not have. Those two requests, and only while the
 * extractor loads, are resolved in xstate 4 (the dev dependency `xstate-v4`); the machines keep xstate 5.
 */
function loadExtractor(): Extractor {
  const Module = require('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    const v4 = request.startsWith('xstate/lib/') ? `xstate-v4/lib/${request.slice('xstate/lib/'.length)}` : request;
    return resolve.call(this, v4, ...rest);
  };
  try {
    return require('@xstate/machine-extractor') as Extractor;
  } finally {
    Module._resolveFilename = resolve;
  }
}

export const extractor = loadExtractor();
