// The kind of frame that killed the server (issue 9, finding 1): JSON.parse takes a value nested thousands
// deep, and a reply or message that echoes it (JSON.stringify, String()) overflows the stack. 51 pinned
// frames: deep arrays and objects in head.seq and in every other head and body field the gateway reads,
// plain text on /info and COMP-gzip on /binfo, and three on /ws. Shared by the fuzz test and the process test.
import { gzipSync } from 'node:zlib';

export interface PinnedFrame {
  name: string;
  path: '/info' | '/binfo' | '/ws';
  data: string | Buffer;
  binary: boolean;
}

/** `depth` levels of `[` or `{"a":`, as text (building the value itself would be the recursion we avoid). */
export const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
export const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const DEPTH = 5000;

/** The head and body fields the gateway reads, with the command that reads each. */
const FIELDS: Array<{ where: 'head' | 'body'; key: string; servcmd: string }> = [
  { where: 'head', key: 'seq', servcmd: 'heartbeat.alive' },
  { where: 'head', key: 'identifier', servcmd: 'im_open_status.wslogin' },
  { where: 'head', key: 'usersig', servcmd: 'im_open_status.wslogin' },
  { where: 'head', key: 'a2', servcmd: 'im_open_status.wslogin' },
  { where: 'head', key: 'tinyid', servcmd: 'im_open_status.wslogin' },
  { where: 'head', key: 'sdkappid', servcmd: 'im_open_status.wslogin' },
  { where: 'head', key: 'platform', servcmd: 'im_open_status.wslogin' },
  { where: 'body', key: 'To_Account', servcmd: 'im_open_status.ws_get_user_status' },
  { where: 'body', key: 'CustomStatus', servcmd: 'im_open_status.ws_set_custom_status' },
  { where: 'body', key: 'SessionData', servcmd: 'openim.ws_msg_push_ack' },
  { where: 'body', key: 'Cookie', servcmd: 'openim.getmsg' },
  { where: 'body', key: 'InstType', servcmd: 'im_open_status.wslogin' },
];

function timFrame(field: (typeof FIELDS)[number], deep: string): string {
  const head: string[] = [`"ver":"v4"`, `"servcmd":"${field.servcmd}"`];
  if (field.key !== 'seq') head.push('"seq":7');
  if (field.where === 'head') head.push(`"${field.key}":${deep}`);
  const body = field.where === 'body' ? `{"${field.key}":${deep}}` : '{}';
  return `{"head":{${head.join(',')}},"body":${body}}`;
}

export function pinnedFrames(): PinnedFrame[] {
  const out: PinnedFrame[] = [];
  for (const field of FIELDS) {
    for (const [kind, deep] of [
      ['array', deepArray(DEPTH)],
      ['object', deepObject(DEPTH)],
    ] as const) {
      const text = timFrame(field, deep);
      out.push({ name: `/info plain ${field.where}.${field.key} deep ${kind}`, path: '/info', data: text, binary: false });
      out.push({ name: `/binfo gzip ${field.where}.${field.key} deep ${kind}`, path: '/binfo', data: Buffer.concat([Buffer.from('COMP'), gzipSync(text)]), binary: true });
    }
  }
  out.push({ name: '/ws params deep array', path: '/ws', data: `{"id":1,"op":"login","params":${deepArray(DEPTH)}}`, binary: false });
  out.push({ name: '/ws params.userID deep object', path: '/ws', data: `{"id":2,"op":"login","params":{"userID":${deepObject(DEPTH)}}}`, binary: false });
  out.push({ name: '/ws id deep array', path: '/ws', data: `{"id":${deepArray(DEPTH)},"op":"ping"}`, binary: false });
  return out;
}
