// The server's Prometheus metrics (GET /metrics), with prom-client and a registry per server. Nothing in the
// engine is edited for them: engine numbers come from its transition listener, from decorators of the two
// seams the engine is given (the broker, for deliveries; the store, for commit latency) and of the port the
// front-ends call (for refusals), and connection counts from the hub's and gateway's existing stats.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker, LocalDelivery } from '../broker/types';
import { StatusError } from '../errors';
import { EVENT, type ClientEvent } from '../events';
import type { Store } from '../store/types';
import type { Command, StatusTransition } from '../types';

export const PREFIX = 'status_engine_';
export type Protocol = 'client' | 'sdk' | 'rest';

export interface MetricSources {
  /** Open sockets per protocol, read at each scrape. */
  connections(): { client: number; sdk: number };
  users(): number;
  webhook(): { queued: number; failedAttempts: number; dropped: number; delivered: number } | null;
  /** The engine's store (its journal, its files), or null (cluster mode: the shards' state is in Redis). */
  store?(): Store | null;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly loop: IntervalHistogram;
  private readonly opened: Counter<'protocol'>;
  private readonly logins: Counter<'platform'>;
  private readonly changes: Counter<'reason'>;
  private readonly notifications: Counter;
  private readonly fanout: Histogram;
  private readonly refusals: Counter<'protocol' | 'code'>;
  private readonly commit: Histogram;

  constructor(sources: MetricSources, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const name = (n: string) => `${PREFIX}${n}`;
    new Gauge({
      name: name('connections'),
      help: 'Open WebSocket connections, by protocol (client: createClient({url}); sdk: the Web SDK at /binfo, /info)',
      labelNames: ['protocol'],
      registers,
      collect() {
        const c = sources.connections();
        this.set({ protocol: 'client' }, c.client);
        this.set({ protocol: 'sdk' }, c.sdk);
      },
    });
    this.opened = new Counter({ name: name('connections_opened_total'), help: 'WebSocket connections accepted, by protocol', labelNames: ['protocol'], registers });
    new Gauge({ name: name('users_registered'), help: 'Registered users', registers, collect() { this.set(sources.users()); } });
    this.logins = new Counter({ name: name('logins_total'), help: 'Device logins (a user status machine step on DEVICE.LOGIN), by platform', labelNames: ['platform'], registers });
    this.changes = new Counter({ name: name('status_changes_total'), help: 'User status machine steps, by reason (login, logout, custom_status_set, heartbeat_timeout, ...)', labelNames: ['reason'], registers });
    this.notifications = new Counter({ name: name('notifications_sent_total'), help: 'Status notifications handed to the broker, one per recipient user', registers });
    this.fanout = new Histogram({
      name: name('fanout_recipients'),
      help: 'Recipient users of one status change (its fan-out)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 20000],
      registers,
    });
    this.refusals = new Counter({ name: name('refusals_total'), help: 'Calls refused with an error code, by protocol and code', labelNames: ['protocol', 'code'], registers });
    this.commit = new Histogram({
      name: name('store_commit_seconds'),
      help: 'Time of one command in its store transaction (apply and commit; with SQLite, durable when it returns)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    new Gauge({ name: name('webhook_queue'), help: 'Webhook callbacks waiting to be posted', registers, collect() { this.set(sources.webhook()?.queued ?? 0); } });
    // The webhook keeps its own totals; these counters follow them by the difference at each scrape.
    const follow = (n: string, help: string, pick: (s: NonNullable<ReturnType<MetricSources['webhook']>>) => number) => {
      let seen = 0;
      new Counter({
        name: name(n),
        help,
        registers,
        collect() {
          const s = sources.webhook();
          const now = s ? pick(s) : 0;
          if (now > seen) this.inc(now - seen);
          seen = Math.max(seen, now);
        },
      });
    };
    follow('webhook_failures_total', 'Webhook posts that failed (refused or unreachable; each is retried)', (s) => s.failedAttempts);
    follow('webhook_dropped_total', 'Webhook callbacks given up (queue full or attempts exhausted)', (s) => s.dropped);
    follow('webhook_delivered_total', 'Webhook callbacks delivered', (s) => s.delivered);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    this.loop = loop;
    // Each scrape reads the delays since the previous one (the histogram is reset after reading).
    let last = { mean: 0, p99: 0, max: 0 };
    const read = () => {
      if (loop.count > 0) last = { mean: loop.mean / 1e9, p99: loop.percentile(99) / 1e9, max: loop.max / 1e9 };
      loop.reset();
      return last;
    };
    new Gauge({
      name: name('event_loop_lag_seconds'),
      help: 'Event loop delay since the previous scrape: mean, 99th percentile and max',
      labelNames: ['stat'],
      registers,
      collect() {
        const v = read();
        this.set({ stat: 'mean' }, v.mean);
        this.set({ stat: 'p99' }, v.p99);
        this.set({ stat: 'max' }, v.max);
      },
    });
    this.journalGauges(sources, registers, name);
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /**
   * The journal and the files it grows (EXT-3 keeps every entry unless a retention is set): how many entries are
   * kept, the store's files, and the last retention pass. Each is left out where the store has none of it.
   */
  private journalGauges(sources: MetricSources, registers: Registry[], name: (n: string) => string): void {
    const store = () => sources.store?.() ?? null;
    // A store that throws (closed by an embedder before the server, a failing disk) leaves its gauges as they
    // were: one collect that throws would fail the whole scrape.
    const read = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: name('journal_entries'),
      help: 'Journal entries kept (EXT-3), the oldest kept to the newest',
      registers,
      collect() {
        const s = store();
        const n = s ? read(() => s.lastSeq() - s.firstSeq() + 1) : undefined;
        if (n !== undefined) this.set(Math.max(0, n));
      },
    });
    new Gauge({
      name: name('store_file_bytes'),
      help: 'The store on disk, bytes (SQLite: the database file and its write-ahead log)',
      registers,
      collect() {
        const s = store();
        const bytes = s?.fileBytes ? read(() => s.fileBytes!()) : undefined;
        if (bytes !== undefined) this.set(bytes);
      },
    });
    const pass = () => store()?.lastCompaction ?? null;
    new Gauge({
      name: name('journal_compaction_seconds'),
      help: 'The time the last journal retention pass held the event loop, its steps in all (SQLite with --journal-keep or --journal-keep-ms)',
      registers,
      collect() {
        const p = pass();
        if (p && 'ms' in p) this.set(p.ms / 1000);
      },
    });
    new Gauge({
      name: name('journal_compaction_step_seconds'),
      help: 'The longest step of the last journal retention pass (a pass runs in steps of 1,000 rows or more, one after each command): the longest the event loop waited for it',
      registers,
      collect() {
        const p = pass();
        if (p && 'longestStepMs' in p) this.set(p.longestStepMs / 1000);
      },
    });
    new Gauge({
      name: name('journal_compaction_dropped'),
      help: 'Journal entries the last retention pass deleted',
      registers,
      collect() {
        const p = pass();
        if (p && 'dropped' in p) this.set(p.dropped);
      },
    });
    new Gauge({
      name: name('journal_compaction_failed'),
      help: '1 while the last journal retention pass failed (it is tried again later: the journal and the file keep growing), else 0',
      registers,
      collect() {
        const p = pass();
        if (p) this.set('error' in p ? 1 : 0);
      },
    });
  }

  /** The engine's transition listener: logins and status changes. */
  readonly onTransition = (entry: StatusTransition, command: Command | undefined): void => {
    this.changes.inc({ reason: entry.reason });
    if (entry.event === 'DEVICE.LOGIN') this.logins.inc({ platform: command?.type === 'device.login' ? command.platform : 'unknown' });
  };

  connectionOpened(protocol: 'client' | 'sdk'): void {
    this.opened.inc({ protocol });
  }

  refused(protocol: Protocol, code: number): void {
    this.refusals.inc({ protocol, code: String(code) });
  }

  /** The broker, counting what it carries: each status event's recipients are its fan-out. */
  broker(inner: Broker): Broker {
    const count = (event: ClientEvent, recipients: number) => {
      if (event.name !== EVENT.USER_STATUS_UPDATED) return;
      this.notifications.inc(recipients);
      this.fanout.observe(recipients);
    };
    return {
      get kind() {
        return inner.kind;
      },
      publish(userID, event, seq, deviceId) {
        count(event, 1);
        inner.publish(userID, event, seq, deviceId);
      },
      publishMany(userIDs, event, seq) {
        count(event, userIDs.length);
        inner.publishMany(userIDs, event, seq);
      },
      attach: (local: LocalDelivery) => inner.attach(local),
      close: () => inner.close(),
    };
  }

  /** Times each outermost store transaction (the engine runs one per command). */
  store<S extends Store>(store: S): S {
    const inner = store.transaction.bind(store);
    let depth = 0;
    store.transaction = <T>(fn: () => T): T => {
      if (depth > 0) return inner(fn);
      depth++;
      const start = process.hrtime.bigint();
      try {
        return inner(fn);
      } finally {
        depth--;
        this.commit.observe(Number(process.hrtime.bigint() - start) / 1e9);
      }
    };
    return store;
  }

  /** The engine port as one front-end sees it: every StatusError a call throws is counted, by code. */
  port<P extends object>(port: P, protocol: Protocol): P {
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(port, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        let w = wrapped.get(prop);
        if (!w) {
          const fn = value as (...args: unknown[]) => unknown;
          w = (...args: unknown[]) => {
            try {
              return fn.apply(target, args);
            } catch (e) {
              if (e instanceof StatusError) this.refused(protocol, e.code);
              throw e;
            }
          };
          wrapped.set(prop, w);
        }
        return w;
      },
    });
  }

  /** A function that throws StatusError (the UserSig check), counted the same way. */
  counted<A extends unknown[], R>(protocol: Protocol, fn: (...args: A) => R): (...args: A) => R {
    return (...args: A) => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof StatusError) this.refused(protocol, e.code);
        throw e;
      }
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.loop.disable();
    this.registry.clear();
  }
}
