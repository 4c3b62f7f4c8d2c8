// The rule modules, gathered as one object the engine calls through. Tests swap one function for a broken
// one (test/properties/variants.ts) to prove the property suite catches a bug in a rule, as it does for a
// machine; `createEngine` always runs `RULES`.
import * as audience from './audience';
import * as coupling from './coupling';
import * as resume from './resume';
import * as views from './views';

export const RULES = {
  sees: views.sees,
  classOf: views.classOf,
  statusShown: views.statusShown,
  visibilityChanged: views.visibilityChanged,
  audience: audience.audience,
  mayHear: audience.mayHear,
  resumeScope: resume.resumeScope,
  resumeBatch: resume.resumeBatch,
  resumeByVersions: resume.resumeByVersions,
  ownerEvent: coupling.ownerEvent,
  endingOf: coupling.endingOf,
};
export type Rules = typeof RULES;
