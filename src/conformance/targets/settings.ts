// The settings every test starts from: the engine's defaults (docs/spec.md "Defaults") with userStatus on.
import { DEFAULT_LIMITS } from '../../../machines/spec';
import type { ConfigChange } from '../../types';

export const DEFAULT_SETTINGS: ConfigChange = Object.freeze({
  edition: 'ultimate',
  switches: { userStatus: true, friendStatusNotify: false },
  limits: { ...DEFAULT_LIMITS, rateLimit: { ...DEFAULT_LIMITS.rateLimit } },
});
