// docs/machines.md is generated from the machine definitions and must be current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { machineDocs } from '../../scripts/machine-docs';

describe('docs/machines.md', () => {
  it('is the output of npm run docs:machines for the current machines', () => {
    const committed = readFileSync(new URL('../../docs/machines.md', import.meta.url), 'utf8');
    expect(committed).toBe(machineDocs());
  });

  it('shows every state and event of the user status machine', () => {
    const doc = machineDocs();
    for (const s of ['registered', 'online', 'offline', 'unlogined', 'clearPending', 'settled']) expect(doc).toContain(`"${s}"`);
    for (const e of ['DEVICE.LOGIN', 'DEVICE.LOGOUT', 'DEVICE.DISCONNECT', 'DEVICE.BACKGROUND', 'DEVICE.FOREGROUND', 'DEVICE.RECONNECT', 'STATUS.SET', 'after customStatusClearAfterLogout']) {
      expect(doc).toContain(e);
    }
    expect(doc).toContain('nativeDeviceAndOtherConnected');
  });
});
