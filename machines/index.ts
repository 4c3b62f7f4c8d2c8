// The machines of status-engine: pure XState v5 definitions, one per file.
export * from './spec';
export * from './userStatus';
export * from './subscriptions';
export * from './rateWindow';
export * from './access';
export * from './deviceLink';
export * from './flap';
