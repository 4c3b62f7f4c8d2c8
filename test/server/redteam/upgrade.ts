// Helpers of the red-team tests: an upgrade's outcome as a client sees it, and `serve`'s refusal of a bad flag.
import { CommanderError } from 'commander';
import WebSocket from 'ws';
import { buildProgram } from '../../../src/server/program';

/** An upgrade with these headers: 101 and the socket, or the refusal's status, Retry-After and body. */
export const upgrade = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: any; retryAfter?: string; ws?: WebSocket }>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, retryAfter: res.headers['retry-after'] as string | undefined }));
    });
    ws.on('open', () => resolve({ status: 101, body: null, ws }));
    ws.on('error', () => undefined);
  });

/** `status-engine ARGS` parsed as the CLI does (nothing starts on a refusal): its exit code and what it wrote to stderr. */
export async function cliRefusal(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const program = buildProgram({ out: () => {}, err: (t) => (err += t), exitOverride: true });
  const code = await program.parseAsync(args, { from: 'user' }).then(
    () => 0,
    (e: unknown) => (e instanceof CommanderError ? e.exitCode : -1),
  );
  return { code, err };
}
