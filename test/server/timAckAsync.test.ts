// EXT-2 in cluster mode (the gateway's asynchronous path, src/server/tim/commands.ts dispatchAsync): a push ack
// changes nothing durable, so it waits for no acknowledgement from the store; a command that does still does.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { answers, dispatchAsync } from '../../src/server/tim/commands';
import type { DeviceSocket, GatewayContext } from '../../src/server/tim/device';

function fakes(acknowledge: (v: unknown) => Promise<unknown>) {
  const state = { ackedSeq: 0, pushedSeq: 5 };
  const gw = { core: { clock: new SimulatedClock(), acknowledgesLater: true, acknowledge }, callDeadlineMs: 10_000 } as unknown as GatewayContext;
  const conn = { device: { data: state } } as unknown as DeviceSocket;
  return { gw, conn, state };
}

describe('dispatchAsync and push acks', () => {
  it('an ack is applied at once and answers nothing, even when the store never acknowledges', async () => {
    let asked = 0;
    const { gw, conn, state } = fakes(() => {
      asked++;
      return new Promise(() => {}); // a shard whose durability never comes
    });
    const frame = { head: { servcmd: 'openim.ws_msg_push_ack', seq: 7 }, body: { SessionData: '4' } };
    await expect(dispatchAsync(gw, conn, frame as never)).resolves.toBeUndefined();
    expect(state.ackedSeq).toBe(4);
    expect(asked).toBe(0);
    expect(answers('openim.ws_msg_push_ack')).toBe(false);
  });

  it('a command with an answer still waits for its acknowledgement', async () => {
    let asked = 0;
    const { gw, conn } = fakes(async (v) => {
      asked++;
      return v;
    });
    const frame = { head: { servcmd: 'heartbeat.alive', seq: 8 }, body: {} };
    await expect(dispatchAsync(gw, conn, frame as never)).resolves.toEqual({});
    expect(asked).toBe(1);
    expect(answers('heartbeat.alive')).toBe(true);
  });
});
