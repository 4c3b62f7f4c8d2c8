// Both Web SDK packages against one gateway: tim-js-sdk 2.x and @tencentcloud/chat 3.x boot and then stop
// asking (counted on the server), refuse what this server does not serve with a clear error they do not
// retry, and a 2.x user and a 3.x user hear each other. One server and one set of SDKs for the whole file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, TYPES } from '../../src/index';
import { BOOT_ANSWERS } from '../../src/protocol/tim/boot';
import { LAST_BOOT_REQUEST, SDKS, recordingLogger, rejection, sdkWorld, settledUplink, type SdkDevice, type SdkName, type SdkWorld } from './harness';

let world: SdkWorld;
const log = recordingLogger();
beforeAll(async () => {
  world = await sdkWorld({ simulated: false, gateway: { logger: log.logger } });
});
afterAll(async () => {
  await world?.close();
});

const uplinkOf = (d: SdkDevice) => () => {
  const ws = d.socket && world.server.serverSideOf(d.socket);
  return ws ? world.server.uplink.get(ws) : undefined;
};
const refusals = () => log.lines.filter((l) => l.msg === 'tim gateway: refused');

const cases: Array<[SdkName, string]> = [
  ['tim2', 'alice'],
  ['chat3', 'bob'],
];

describe.each(cases)('%s boots against status-engine', (sdk, user) => {
  let d: SdkDevice;

  it(`${SDKS[sdk].label}: after login the SDK asks each boot command about once, then nothing more (boot settles after one round)`, async () => {
    d = world.device(sdk);
    const refusedBefore = refusals().length;
    await d.tim.login({ userID: user, userSig: `sig:${user}` });
    await d.waitFor('sdkStateReady');
    expect(d.socket!.url).toContain(`sdkversion=${SDKS[sdk].version}`); // this SDK, not the other one
    const { total, inWindow } = await settledUplink(uplinkOf(d));
    expect(inWindow).toEqual([]);
    expect(total.length).toBeLessThanOrEqual(25);
    const counts = new Map<string, number>();
    for (const c of total) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const [cmd, n] of counts) expect({ cmd, n: Math.min(n, 3) }).toEqual({ cmd, n: Math.min(n, 2) });
    expect(total[0]).toBe('im_open_status.wslogin');
    expect(total).toContain(LAST_BOOT_REQUEST);
    // Every boot command was one the gateway answers: none of them was refused.
    expect(refusals().slice(refusedBefore)).toEqual([]);
    for (const cmd of counts.keys()) {
      if (!cmd.startsWith('im_open_status.') && cmd !== 'heartbeat.alive' && cmd !== 'openim.ws_msg_push_ack') expect(Object.keys(BOOT_ANSWERS)).toContain(cmd);
    }
  });

  it(`${SDKS[sdk].label}: a call this server does not serve rejects with 60009, asked once and not retried`, async () => {
    const e = await rejection(d.tim.addToBlacklist({ userIDList: ['carol'] }));
    expect(e.code).toBe(ErrorCode.UNKNOWN_COMMAND);
    expect(e.message).toContain("'sns.black_list_add' is not a command");
    await d.ping(); // anything the SDK sent after the rejection has reached the server by now
    const { inWindow } = await settledUplink(uplinkOf(d), { windowMs: 200 });
    expect(uplinkOf(d)()!.filter((c) => c === 'sns.black_list_add')).toHaveLength(1);
    expect(inWindow).toEqual([]);
    // The SDK goes on working.
    expect((await d.tim.setSelfStatus({ customStatus: `${sdk} still here` })).data.customStatus).toBe(`${sdk} still here`);
  });
});

describe('a 2.x user and a 3.x user in one cluster', () => {
  it('SUB-1/NTF-1 each subscribes to the other and hears the other change; GET-1 each reads the other', async () => {
    const carol = await world.online('carol', 'tim2');
    const dave = await world.online('dave', 'chat3');
    expect((await carol.tim.subscribeUserStatus({ userIDList: ['dave'] })).data.failureUserList).toEqual([]);
    expect((await dave.tim.subscribeUserStatus({ userIDList: ['carol'] })).data.failureUserList).toEqual([]);

    await dave.tim.setSelfStatus({ customStatus: 'from 3.x ✓' });
    await carol.waitFor('onUserStatusUpdated', (data) => data.some((s: any) => s.userID === 'dave' && s.customStatus === 'from 3.x ✓'));
    await carol.tim.setSelfStatus({ customStatus: 'from 2.x ✓' });
    await dave.waitFor('onUserStatusUpdated', (data) => data.some((s: any) => s.userID === 'carol' && s.customStatus === 'from 2.x ✓'));

    const seenByDave = (await dave.tim.getUserStatus({ userIDList: ['carol'] })).data.successUserList;
    expect(seenByDave).toEqual([{ userID: 'carol', statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'from 2.x ✓' }]);
    const seenByCarol = (await carol.tim.getUserStatus({ userIDList: ['dave'] })).data.successUserList;
    expect(seenByCarol).toEqual([{ userID: 'dave', statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'from 3.x ✓' }]);

    // ST-6 the 3.x user logs out: the 2.x subscriber hears UNLOGINED.
    await dave.tim.logout();
    await carol.waitFor('onUserStatusUpdated', (data) => data.some((s: any) => s.userID === 'dave' && s.statusType === TYPES.USER_STATUS_UNLOGINED));
  });
});
