// `status-engine/inspect`: the engine's machines to a @statelyai/inspect WebSocket relay, for an embedded
// engine as `serve --inspect` does it (viewers that join late are sent the current actors). ESM only, as
// @statelyai/inspect is.
export { createInspectLink, type InspectLink, type InspectLinkOptions } from './server/inspect';
