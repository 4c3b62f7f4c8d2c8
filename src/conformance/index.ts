// `status-engine/conformance`: the behavioural suite of docs/spec.md, its runner and Target interface, and
// the ready targets. Test your own implementation with a Target of yours, or one of these.
export { conformanceTests, SUITE, type TestGroup } from './suite/index';
export { test, clauseIds, createContext, type ConformanceTest, type TestContext, type World } from './define';
export { expect, failure, AssertionError, type Expectation } from './expect';
export { runSuite, runTest, skipReason, matchesOnly, type RunOptions, type SuiteReport, type TestOutcome, type Verdict } from './runner';
export { outcomeLine, summaryText, totalsLine, clauseSummary, markdownReport, jsonReport, junitReport, type ClauseSummary } from './report';
export { specPath, specClauses, parseSpec, type Clause } from './spec';
export {
  capabilitiesOf,
  record,
  tracked,
  engineAdmin,
  CAPABILITY_NAMES,
  type AdminOps,
  type Capabilities,
  type Capability,
  type Device,
  type Target,
  type TargetFactory,
  type TargetTraits,
} from './target';
export { localTarget } from './targets/local';
export { networkTarget, probeServer, type NetworkTargetOptions, type ServerSide } from './targets/network';
export { restAdmin, probeHooks, type RestAdmin, type RestOptions } from './targets/rest';
export { DEFAULT_SETTINGS } from './targets/settings';
export { webSdkTarget, type WebSdkTargetOptions } from './websdk/target';
