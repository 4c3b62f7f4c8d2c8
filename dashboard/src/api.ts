// The page's side of the server: the dashboard API (UserSig in the Authorization header), the admin REST
// API (Tencent style, the UserSig in its query as every REST client sends it) and the live stream (SSE read
// with fetch, so the UserSig never sits in a URL the browser keeps).
export interface Session {
  userSig: string;
  sdkAppId: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export async function get<T>(s: Pick<Session, 'userSig'>, path: string): Promise<T> {
  const res = await fetch(`/dashboard/api/${path}`, { headers: { authorization: `UserSig ${s.userSig}` } });
  const body = (await res.json().catch(() => ({}))) as { ErrorCode?: number; ErrorInfo?: string };
  if (!res.ok) throw new ApiError(res.status, body.ErrorCode, body.ErrorInfo ?? `HTTP ${res.status}`);
  return body as T;
}

/** POST /v4/<command> as the administrator; a FAIL reply throws with its code and message. */
export async function rest<T = Record<string, unknown>>(s: Session, command: string, body: unknown): Promise<T> {
  const q = new URLSearchParams({
    sdkappid: String(s.sdkAppId),
    identifier: 'administrator',
    usersig: s.userSig,
    random: String(Math.floor(Math.random() * 2 ** 32)),
    contenttype: 'json',
  });
  const res = await fetch(`/v4/${command}?${q}`, { method: 'POST', body: JSON.stringify(body) });
  const r = (await res.json()) as { ActionStatus: string; ErrorCode: number; ErrorInfo: string };
  if (r.ActionStatus !== 'OK') throw new ApiError(res.status, r.ErrorCode, r.ErrorInfo);
  return r as T;
}

/** Reads the live stream until `signal` aborts; reconnects after a drop. */
export async function live(s: Session, watch: string[], on: (event: string, data: unknown) => void, signal: AbortSignal): Promise<void> {
  let wait = 500;
  while (!signal.aborted) {
    try {
      const res = await fetch(`/dashboard/api/live?watch=${encodeURIComponent(watch.join(','))}`, {
        headers: { authorization: `UserSig ${s.userSig}` },
        signal,
      });
      if (!res.ok || !res.body) throw new Error(`live stream: HTTP ${res.status}`);
      wait = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of chunk.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) on(event, JSON.parse(data));
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(10_000, wait * 2);
  }
}
