// A Web SDK app that loops over its request budget (the gateway refuses 2996, then cuts the socket 1008):
// the real tim-js-sdk and @tencentcloud/chat ignore the close code and reconnect at once (any socket that was
// open a second or more), relogin with their session keys and go on looping, so a cut alone only restarts the
// loop, with a relogin, a status flap and a device reconnect in the journal each time. What they do honour is
// being kicked out: after `BUDGET_CUTS.maxCuts` cuts in `windowMs` the device is kicked out (the SDK's REST
// API kick), logged out in the engine, and its session key revoked: the SDK stops and the app is told.
import { describe, expect, it } from 'vitest';
import { TYPES } from '../../src/index';
import { BUDGET_CUTS } from '../../src/server/tim/overBudget';
import { sdkWorld, type SdkDevice, type SdkWorld } from './harness';


/** The app's bug: status calls one after the other, forever (each command within the SDK's own 20 per 5 s). */
function flood(d: SdkDevice, stop: () => boolean): Promise<void> {
  const calls = [
    () => d.tim.getUserStatus({ userIDList: ['bob'] }),
    () => d.tim.subscribeUserStatus({ userIDList: ['bob'] }),
    () => d.tim.unsubscribeUserStatus({ userIDList: ['bob'] }),
    () => d.tim.setSelfStatus({ customStatus: 'x' }),
  ];
  return (async () => {
    for (let i = 0; !stop(); i++) {
      // Not waiting past a second for an answer: a call in flight when the SDK was kicked out never settles.
      await Promise.race([calls[i % calls.length]!().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
}

const logins = (s: SdkWorld['server']) => [...s.uplink.values()].filter((frames) => frames.includes('im_open_status.wslogin')).length;

describe.concurrent('a Web SDK that loops over its request budget', () => {
  for (const sdk of ['tim2', 'chat3'] as const) {
    it(`${sdk}: is cut (1008) and comes back, then kicked out after ${BUDGET_CUTS.maxCuts} cuts; it stops reconnecting and the engine has it logged out`, async () => {
      // The engine's clock stands still (simulated): no refill, so each socket's budget lasts the app a second or
      // two (the SDKs reconnect at once only after a socket that was open a second or more).
      const w = await sdkWorld({ sdk, gateway: { requestBudget: { burst: 60, ratePerSec: 1, closeAfterRefusals: 5 } } });
      const d = await w.online('alice');
      let stop = false;
      const looping = flood(d, () => stop);
      try {
        const kicked = await d.waitFor('kickedOut', undefined, 30_000);
        expect(kicked.data).toEqual({ type: d.TIM.TYPES.KICKED_OUT_REST_API });
        const cuts = logins(w.server);
        expect(cuts).toBe(BUDGET_CUTS.maxCuts); // the first login and a relogin after each cut but the last
        // The app goes on calling: the SDK, logged out, sends no login of its own again.
        await new Promise((r) => setTimeout(r, 1500));
        expect(logins(w.server)).toBe(cuts);
        expect((await w.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
      } finally {
        stop = true;
        await looping;
        await w.close();
      }
    }, 60_000);
  }
});
