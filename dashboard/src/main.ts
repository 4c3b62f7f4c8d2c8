// The admin dashboard: sign in with the administrator's UserSig (typed in, or taken once from the URL
// fragment #usersig=... and then removed from the address bar), then counts, one user's view with its
// machines drawn live, its journal, a live stream of watched users' transitions, and the console settings.
import './style.css';
import { ApiError, get, live, rest, type Session } from './api';
import { drawMachine, type MachineGraph } from './graph';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const STATUS = ['UNKNOWN', 'ONLINE', 'OFFLINE', 'UNLOGINED'];

interface UserView {
  userID: string;
  status: { statusType: number; customStatus: string; version: number; reason: string; visibility: string };
  devices: Array<{ deviceId: string; platform: string; connected: boolean; pushOnline: boolean; link: string | null }>;
  subscriptions: { total: number; items: string[] };
  subscribers: { total: number; items: string[] };
  friends: { total: number; items: string[] };
  machines: { userStatus: string; subscriptions: string | null; deviceLink: Record<string, string> };
}
interface Transition { seq: number; at: number; userID: string; event: string; from: string; to: string; reason: string; version: number; after: { statusType: number; customStatus: string } }

let session: Session | null = null;
let graphs: Record<string, MachineGraph> = {};
let selected: string | null = null;
const watched = new Set<string>();
let stream: AbortController | null = null;

function text(tag: string, content: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = content;
  if (cls) e.className = cls;
  return e;
}

/** A UserSig in the fragment is taken once and removed, so that it is not kept in history or bookmarks. */
function takeFragmentSig(): string | null {
  const m = /(?:^#|&)usersig=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(m[1]!);
}

async function signIn(userSig: string): Promise<void> {
  $('signin-error').textContent = '';
  try {
    const s = await get<{ sdkAppId: number; identifier: string }>({ userSig }, 'session');
    session = { userSig, sdkAppId: s.sdkAppId };
    graphs = await get<Record<string, MachineGraph>>(session, 'machines');
  } catch (e) {
    $('signin-error').textContent = e instanceof ApiError ? `refused (${e.code ?? e.status}): ${e.message}` : String(e);
    return;
  }
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').replaceChildren(text('span', 'signed in as administrator'), signOutButton());
  restartStream();
  await loadSettings();
}

function signOutButton(): HTMLElement {
  const b = text('button', 'Sign out');
  b.addEventListener('click', () => {
    stream?.abort();
    session = null;
    $('app').hidden = true;
    $('signin').hidden = false;
    $('who').replaceChildren();
    $<HTMLInputElement>('usersig').value = '';
  });
  return b;
}

// ---- counts and the live stream
interface NodePanel { node: string; shards: number[]; shardCount: number; live: string[]; redis: string; lastError: string | null; advertise: string }
interface ClusterNote { node: string; pollMs: number }
let clusterNote: ClusterNote | null = null;

/** Cluster mode: this node (what /healthz says of it) and how live the stream is. */
function showNode(n: NodePanel, missing: number[]): void {
  const dl = document.createElement('dl');
  dl.className = 'status';
  for (const [k, v] of [
    ['node', n.node],
    ['shards owned', `${n.shards.length} of ${n.shardCount}: ${n.shards.join(', ') || '—'}`],
    ['live nodes', n.live.join(', ')],
    ['Redis', n.redis + (n.lastError ? ` (${n.lastError})` : '')],
    ['advertised at', n.advertise],
    ['shards with no owner now', missing.length ? missing.join(', ') : '—'],
  ] as const) {
    const dd = text('dd', v);
    dd.dataset.node = k;
    dl.append(text('dt', k), dd);
  }
  const note = clusterNote
    ? `Counts and users are the whole cluster's. Live transitions: users of this node's shards as they happen; users other nodes own are read every ${clusterNote.pollMs / 1000} s.`
    : '';
  $('node').replaceChildren(text('h2', `Cluster node ${n.node}`), dl, text('p', note, 'note'));
  $('node').hidden = false;
}

function showCounts(c: { registeredUsers: number; onlineUsers: number; connections: Record<string, number>; changesPerSecond: number; seq: number; node?: NodePanel; missingShards?: number[] }): void {
  if (c.node) showNode(c.node, c.missingShards ?? []);
  const item = (label: string, value: string | number, key: string) => {
    const d = document.createElement('div');
    d.className = 'count';
    d.dataset.count = key;
    d.append(text('strong', String(value)), text('span', label));
    return d;
  };
  $('counts').replaceChildren(
    item('registered users', c.registeredUsers, 'registered'),
    item('online users', c.onlineUsers, 'online'),
    ...Object.entries(c.connections).map(([p, n]) => item(`${p} connections${c.node ? ' (this node)' : ''}`, n, `conn-${p}`)),
    item(c.node ? 'changes / s (this node)' : 'changes / s', c.changesPerSecond, 'changes'),
    item(c.node ? 'journal seq (highest shard here)' : 'journal seq', c.seq, 'seq'),
  );
}

function restartStream(): void {
  stream?.abort();
  if (!session) return;
  stream = new AbortController();
  $('watching').textContent = watched.size ? `watching ${[...watched].join(', ')}` : '(watch a user to see its steps)';
  void live(session, [...watched], onLive, stream.signal);
}

function onLive(event: string, data: unknown): void {
  if (event === 'hello') clusterNote = (data as { cluster?: ClusterNote }).cluster ?? null;
  else if (event === 'counts') showCounts(data as Parameters<typeof showCounts>[0]);
  else if (event === 'settings') showSettings(data as Settings);
  else if (event === 'transition') {
    const t = data as Transition;
    const li = text('li', `${new Date(t.at).toISOString().slice(11, 23)} ${t.userID} ${t.event}: ${t.from} → ${t.to} (${t.reason}) v${t.version} ${STATUS[t.after.statusType]} "${t.after.customStatus}"`);
    li.dataset.user = t.userID;
    li.dataset.event = t.event;
    $('stream').prepend(li);
    while ($('stream').children.length > 200) $('stream').lastElementChild?.remove();
    if (t.userID === selected) void showUser(t.userID);
  }
}

// ---- one user
function list(title: string, l: { total: number; items: string[] }, key: string): HTMLElement {
  const d = document.createElement('div');
  d.dataset.list = key;
  d.append(text('h3', `${title} (${l.total})`), text('p', l.items.length ? l.items.join(', ') + (l.total > l.items.length ? ' …' : '') : '—'));
  return d;
}

async function showUser(userID: string): Promise<void> {
  if (!session) return;
  $('user-error').textContent = '';
  let u: UserView;
  try {
    u = await get<UserView>(session, `users/${encodeURIComponent(userID)}`);
  } catch (e) {
    $('user-error').textContent = e instanceof ApiError ? `${e.code ?? e.status}: ${e.message}` : String(e);
    $('user').replaceChildren();
    $('machines').replaceChildren();
    return;
  }
  if (selected !== userID) return;
  const s = u.status;
  const head = document.createElement('dl');
  head.className = 'status';
  for (const [k, v] of [
    ['status', STATUS[s.statusType] ?? String(s.statusType)],
    ['custom status', s.customStatus || '—'],
    ['version', String(s.version)],
    ['reason', s.reason],
    ['visibility', s.visibility],
  ] as const) {
    const dd = text('dd', v);
    dd.dataset.field = k.replace(' ', '-');
    head.append(text('dt', k), dd);
  }
  const table = document.createElement('table');
  table.id = 'devices';
  table.append(text('caption', `devices (${u.devices.length})`));
  for (const d of u.devices) {
    const tr = document.createElement('tr');
    tr.append(text('td', d.deviceId, 'mono'), text('td', d.platform), text('td', d.connected ? 'connected' : d.pushOnline ? 'push online' : 'disconnected'), text('td', d.link ?? '—'));
    table.append(tr);
  }
  $('user').replaceChildren(head, table, list('subscriptions', u.subscriptions, 'subscriptions'), list('subscribers', u.subscribers, 'subscribers'), list('friends', u.friends, 'friends'));
  const drawings: Node[] = [];
  if (graphs.userStatus) drawings.push(drawMachine(graphs.userStatus, u.machines.userStatus, `userStatus · ${u.userID}`));
  if (graphs.subscriptions) drawings.push(drawMachine(graphs.subscriptions, u.machines.subscriptions, `subscriptions · ${u.userID}`));
  for (const [id, value] of Object.entries(u.machines.deviceLink)) if (graphs.deviceLink) drawings.push(drawMachine(graphs.deviceLink, value, `deviceLink · ${id}`));
  $('machines').replaceChildren(...drawings);
  await showJournal(userID);
}

async function showJournal(userID: string): Promise<void> {
  if (!session) return;
  const body = $('journal').querySelector('tbody')!;
  try {
    const r = await rest<{ Transitions: Array<Record<string, any>> }>(session, 'im_open_status/explain', { UserID: userID, Limit: 100 });
    body.replaceChildren(
      ...r.Transitions.reverse().map((t) => {
        const tr = document.createElement('tr');
        tr.append(text('td', String(t.Seq)), text('td', t.Event), text('td', `${t.From} → ${t.To}`), text('td', t.Reason), text('td', String(t.Version)), text('td', `${STATUS[t.After.StatusType]} ${t.After.CustomStatus ? `"${t.After.CustomStatus}"` : ''}`));
        return tr;
      }),
    );
  } catch (e) {
    body.replaceChildren(text('tr', String((e as Error).message)));
  }
}

// ---- settings (through the REST config command: the same validation)
type Settings = { edition: string; switches: Record<string, boolean>; limits: Record<string, unknown> };
function showSettings(s: Settings): void {
  $<HTMLSelectElement>('edition').value = s.edition;
  $<HTMLInputElement>('sw-userStatus').checked = s.switches.userStatus === true;
  $<HTMLInputElement>('sw-friendStatusNotify').checked = s.switches.friendStatusNotify === true;
  $('settings').textContent = JSON.stringify(s, null, 1);
}
async function loadSettings(): Promise<void> {
  if (!session) return;
  const r = await rest<{ Edition: string; Switches: Record<string, string>; Limits: Record<string, unknown> }>(session, 'im_open_status/config', {});
  showSettings({ edition: r.Edition, switches: { userStatus: r.Switches.UserStatus === 'on', friendStatusNotify: r.Switches.FriendStatusNotify === 'on' }, limits: r.Limits });
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void signIn($<HTMLInputElement>('usersig').value.trim());
});
$('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $<HTMLInputElement>('search').value.trim();
  if (!id) return;
  selected = id;
  $<HTMLInputElement>('watch').checked = watched.has(id);
  void showUser(id);
});
$('watch').addEventListener('change', () => {
  if (!selected) return;
  if ($<HTMLInputElement>('watch').checked) watched.add(selected);
  else watched.delete(selected);
  restartStream();
});
$('settings-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!session) return;
  const out = $('settings-result');
  let limits: unknown;
  try {
    limits = JSON.parse($<HTMLTextAreaElement>('limits').value || '{}');
  } catch {
    out.textContent = 'Limits: not valid JSON';
    out.className = 'error';
    return;
  }
  const body: Record<string, unknown> = {
    Edition: $<HTMLSelectElement>('edition').value,
    Switches: { UserStatus: $<HTMLInputElement>('sw-userStatus').checked ? 'on' : 'off', FriendStatusNotify: $<HTMLInputElement>('sw-friendStatusNotify').checked ? 'on' : 'off' },
  };
  if (limits && typeof limits === 'object' && Object.keys(limits).length > 0) body.Limits = limits;
  try {
    await rest(session, 'im_open_status/config', body);
    out.textContent = 'applied';
    out.className = 'ok';
    await loadSettings();
  } catch (err) {
    out.textContent = err instanceof ApiError ? `refused (${err.code}): ${err.message}` : String(err);
    out.className = 'error';
  }
});
// Keep the selected user's view fresh for what the stream does not carry (subscriptions, links).
setInterval(() => {
  if (selected && session && !document.hidden) void showUser(selected);
}, 5000);

const fromFragment = takeFragmentSig();
if (fromFragment) void signIn(fromFragment);
