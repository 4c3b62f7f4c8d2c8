// The admin proof of every REST admin call (src/server/adminProof.ts, used by rest.ts and restAudit.ts):
// each way a URL can fail to prove the administrator has its own code and says what was wrong.
import { describe, expect, it } from 'vitest';
import { ErrorCode, StatusError } from '../../src/index';
import { WireCode } from '../../src/protocol/codes';
import { adminProofFailure } from '../../src/server/adminProof';
import { ADMIN_IDENTIFIER } from '../../src/server/usersig';

const o = {
  sdkAppId: 1400000123,
  verifyUserSig(userID: string, userSig: unknown) {
    if (userSig !== `good:${userID}`) throw new StatusError(ErrorCode.USERSIG_INVALID, `bad UserSig for '${userID}'`);
    return userID;
  },
};
const proof = { sdkappid: '1400000123', identifier: ADMIN_IDENTIFIER, usersig: `good:${ADMIN_IDENTIFIER}` };

describe('admin proof', () => {
  it("this server's sdkappid, the administrator and the administrator's UserSig prove it", () => {
    expect(adminProofFailure(proof, o)).toBeNull();
  });

  it('a missing or foreign sdkappid, another identifier, a bad UserSig: each refused with its code and why', () => {
    expect(adminProofFailure({ ...proof, sdkappid: undefined }, o)).toEqual({ code: WireCode.SDKAPPID_NOT_FOUND, info: 'sdkappid is missing from the URL (this server is 1400000123)' });
    expect(adminProofFailure({ ...proof, sdkappid: '5' }, o)).toEqual({ code: WireCode.SDKAPPID_NOT_FOUND, info: "sdkappid '5' is not this server's (this server is 1400000123)" });
    expect(adminProofFailure({ ...proof, identifier: 'alice', usersig: 'good:alice' }, o)).toEqual({ code: WireCode.NOT_ADMIN, info: "identifier 'alice' is not the app administrator ('administrator')" });
    expect(adminProofFailure({ ...proof, usersig: 'forged' }, o)).toEqual({ code: ErrorCode.USERSIG_INVALID, info: "bad UserSig for 'administrator'" });
  });

  it('a verifier that fails otherwise than with a StatusError is not taken for a refusal', () => {
    const broken = { ...o, verifyUserSig: () => { throw new TypeError('bug'); } };
    expect(() => adminProofFailure(proof, broken)).toThrow(TypeError);
  });
});
