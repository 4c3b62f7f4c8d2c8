// What the dashboard shows, as plain data: a machine definition as a graph (states, initial states and
// transitions, for the page to lay out with dagre), one user as an operator sees it, and the online count.
// Read-only views over the engine; nothing here decides anything.
import type { AnyStateMachine } from 'xstate';
import { deviceLinkMachine, subscriptionsMachine, userStatusMachine } from '../../machines/index';
import { TYPES, isNativePlatform } from '../../machines/spec';
import type { EngineInspection, EnginePort } from '../engine/port';
import { ErrorCode, StatusError } from '../errors';
import type { UserFacts } from '../cluster/service';

export interface MachineGraph {
  id: string;
  nodes: Array<{ id: string; key: string; parent: string | null; initial: boolean; leaf: boolean; description?: string }>;
  edges: Array<{ source: string; target: string; label: string }>;
}

interface NodeLike {
  id: string;
  key: string;
  description?: string;
  parent?: NodeLike;
  states: Record<string, NodeLike>;
  initial?: { target: NodeLike[] };
  transitions: Map<string, Array<{ target?: NodeLike[]; eventType: string }>>;
  always?: Array<{ target?: NodeLike[] }>;
}

/** States and transitions of a machine, from its definition (targetless transitions are actions only: left out). */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const g: MachineGraph = { id: machine.id, nodes: [], edges: [] };
  const walk = (n: NodeLike) => {
    const kids = Object.values(n.states);
    if (n.parent) {
      const node: MachineGraph['nodes'][number] = {
        id: n.id,
        key: n.key,
        parent: n.parent.parent ? n.parent.id : null,
        initial: n.parent.initial?.target.some((t) => t.id === n.id) === true,
        leaf: kids.length === 0,
      };
      if (n.description) node.description = n.description;
      g.nodes.push(node);
    }
    const seen = new Set<string>();
    const edge = (target: string, label: string) => {
      const k = `${target}\u0000${label}`;
      if (seen.has(k)) return;
      seen.add(k);
      g.edges.push({ source: n.id, target, label });
    };
    for (const [type, list] of n.transitions) {
      const label = type.startsWith('xstate.after.') ? `after ${type.split('.')[2]}` : type;
      for (const t of list) for (const target of t.target ?? []) if (n.parent) edge(target.id, label);
    }
    for (const t of n.always ?? []) for (const target of t.target ?? []) edge(target.id, 'always');
    for (const k of kids) walk(k);
  };
  walk(machine.root as unknown as NodeLike);
  return g;
}

/** The machines a user has, drawn once per page load. */
export const MACHINE_GRAPHS = (): Record<string, MachineGraph> => ({
  userStatus: machineGraph(userStatusMachine),
  subscriptions: machineGraph(subscriptionsMachine),
  deviceLink: machineGraph(deviceLinkMachine),
});

/** Long lists are cut for the page (with their full size): a popular user can have many subscribers. */
const LIST_MAX = 200;
const list = (s: Iterable<string> | undefined) => {
  const all = [...(s ?? [])].sort();
  return { total: all.length, items: all.slice(0, LIST_MAX) };
};

/** One user as the dashboard shows it. Unknown users are a 70107 like everywhere else. */
export function describeUser(core: EnginePort & EngineInspection, userID: string) {
  const [status] = core.queryStatus([userID], { detail: true });
  if (!status || status.error) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
  const links = Object.fromEntries((status.devices ?? []).map((d) => [d.deviceId, core.linkStateOf(d.deviceId)]));
  return describeFacts(userID, { status, detail: core.userDetail(userID), links });
}

/** The same view from facts read elsewhere (cluster mode: at the user's owner node, ClusterAdmin.userFacts). */
export function describeFacts(userID: string, facts: UserFacts) {
  const { status, detail } = facts;
  const devices = (status.devices ?? []).map((d) => {
    const state = facts.links[d.deviceId] ?? null;
    const link = state === null ? null : `deviceLink.${state}`;
    return { ...d, native: isNativePlatform(d.platform), link };
  });
  return {
    userID,
    status: {
      statusType: status.statusType,
      customStatus: status.customStatus,
      version: status.version,
      reason: status.reason,
      visibility: detail.visibility,
    },
    devices,
    subscriptions: list(detail.subscriptions),
    subscribers: list(detail.subscribers),
    friends: list(detail.friends),
    machines: {
      userStatus: detail.statusState,
      subscriptions: detail.subscriptionsState,
      deviceLink: Object.fromEntries(devices.map((d) => [d.deviceId, d.link ? d.link : d.connected ? 'deviceLink.live' : 'deviceLink.closed'])),
    },
  };
}

/** Users online now, kept from the transitions once counted (a scan, only while a dashboard is open). */
export class OnlineCount {
  private readonly online = new Set<string>();
  constructor(core: Pick<EnginePort, 'onlineUserIDs'>) {
    for (const id of core.onlineUserIDs()) this.online.add(id);
  }
  seen(userID: string, statusType: number): void {
    if (statusType === TYPES.USER_STATUS_ONLINE) this.online.add(userID);
    else this.online.delete(userID);
  }
  get size(): number {
    return this.online.size;
  }
}
