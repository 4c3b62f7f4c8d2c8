// TLS for `serve --tls-cert --tls-key`: the PEM files are read once at start, so that a missing or unreadable
// one is a clear message before anything listens. HTTPS and WSS then share the one port.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  cert: string;
  key: string;
}

export function readTls(certFile: string, keyFile: string): TlsFiles {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${flag} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  const files = { cert: read(certFile, '--tls-cert'), key: read(keyFile, '--tls-key') };
  try {
    // Checks that the two are PEM and belong together, now rather than at the first handshake.
    createSecureContext(files);
  } catch (e) {
    throw new Error(`--tls-cert ${certFile} and --tls-key ${keyFile} do not make a usable certificate and key: ${(e as Error).message}`);
  }
  return files;
}
