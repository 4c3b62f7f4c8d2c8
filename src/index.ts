// The public API of status-engine: this list, and nothing else (shared/spec/API.md).
export { createEngine, replay } from './engine/engine';
export { createClient } from './client/index';
export { TYPES, PLATFORMS, DEFAULT_LIMITS, REASONS } from '../machines/spec';
export { EVENT } from './events';
export { ErrorCode, StatusError } from './errors';
export { MemoryStore } from './store/memory';
export { StoreUnavailableError } from './store/types';
export { MemoryBroker } from './broker/memory';
export {
  userStatusMachine,
  subscriptionsMachine,
  accessMachine,
  rateWindowMachine,
  deviceLinkMachine,
} from '../machines/index';

export type { Client, ClientEventHandler, ClientOptions } from './client/types';
export type { RemoteClientOptions, ConnectionState } from './client/remote';
export type { ClientEvent, EventName } from './events';
export type { Clock } from './clock';
export type { InspectionEventLike, InspectUsers } from './engine/inspect';
export type { Store, StatusRecord, SubscriptionsRecord, PendingTimer, Notice } from './store/types';
export type { Broker, LocalDelivery } from './broker/types';
export type {
  AdminStatus,
  Command,
  ConfigChange,
  Edition,
  Engine,
  EngineOptions,
  EngineState,
  Failure,
  JournalEntry,
  JournalInfo,
  ReplayOptions,
  Snapshot,
  StatusTransition,
  MachineOverrides,
  Limits,
  LimitsChange,
  Platform,
  Reason,
  StatusType,
  Switches,
  UserStatus,
  Visibility,
} from './types';
