// createClient of shared/spec/API.md: in-process with `{engine}`, over the network with `{url}`.
import { portOf } from '../engine/engine';
import { invalidParameter } from '../errors';
import * as check from '../engine/validate';
import { LocalClient } from './local';
import { RemoteClient, type RemoteClientOptions } from './remote';
import type { Client, ClientOptions } from './types';

export function createClient(options: ClientOptions): Client {
  if (options === null || typeof options !== 'object') throw invalidParameter('options', 'createClient expects {engine} or {url}');
  const platform = check.platform((options as { platform?: unknown }).platform);
  if ('engine' in options && options.engine !== undefined) return new LocalClient(portOf(options.engine), platform);
  if ('url' in options && (typeof options.url === 'string' || Array.isArray(options.url))) return new RemoteClient({ ...(options as RemoteClientOptions), platform });
  throw invalidParameter('options', 'createClient expects {engine} or {url}');
}
