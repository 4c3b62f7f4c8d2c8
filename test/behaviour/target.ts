// The suite's Target interface and helpers now live in the package (status-engine/conformance); this
// re-export keeps the test helpers that import them from here working.
export { engineAdmin, record, tracked, capabilitiesOf, type AdminOps, type Capabilities, type Device, type Target, type TargetFactory, type TargetTraits } from '../../src/conformance/target';
