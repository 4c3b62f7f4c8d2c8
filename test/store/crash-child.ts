// The child of crash.test.ts: an engine on SqliteStore applying commands as fast as it can, printing one line
// per acknowledged command ("ack <kind> <i>"), until the parent kills it with SIGKILL. Not a test file.
import { createClient, createEngine } from '../../src/index';
import { SqliteStore } from '../../src/store/sqlite';

const file = process.argv[2];
if (!file) throw new Error('usage: crash-child.ts <store file>');
const ack = (line: string) => process.stdout.write(`${line}\n`); // a pipe on Linux: written synchronously

const store = new SqliteStore(file);
const engine = createEngine({ store });
await engine.registerUsers(['hub']);
const hub = createClient({ engine, platform: 'web' });
await hub.login({ userID: 'hub' });
// A second life of the same file continues where the first one stopped: from the first user that is not yet
// a friend of hub (registering it again, if it was, changes nothing).
let i = store.friendsOf('hub')?.size ?? 0;
ack(`ready ${i}`);
for (;; i++) {
  await engine.registerUsers([`u${i}`]);
  ack(`ack register ${i}`);
  await engine.addFriends('hub', [`u${i}`]);
  ack(`ack friend ${i}`);
  await hub.setSelfStatus({ customStatus: `s${i}` });
  ack(`ack status ${i}`);
}
