// Draws one machine from its definition: dagre lays the states and transitions out, this file only turns
// the layout into SVG. A state of a compound state hangs off it by a dashed "initial"/"child" edge, and the
// active states (the leaf and its ancestors) are highlighted.
import dagre from '@dagrejs/dagre';

export interface MachineGraph {
  id: string;
  nodes: Array<{ id: string; key: string; parent: string | null; initial: boolean; leaf: boolean; description?: string }>;
  edges: Array<{ source: string; target: string; label: string }>;
}

const SVG = 'http://www.w3.org/2000/svg';
const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number> = {}, text?: string) => {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

/** The laid-out drawing of `g`; `current` is the id of the active leaf state (e.g. 'userStatus.online'). */
export function drawMachine(g: MachineGraph, current: string | null, title: string): SVGSVGElement {
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  // Small machines read left to right; a bigger one top to bottom, so that it keeps a readable size in its column.
  layout.setGraph({ rankdir: g.nodes.length > 4 ? 'TB' : 'LR', nodesep: 30, ranksep: 56, edgesep: 14, marginx: 12, marginy: 12 });
  for (const n of g.nodes) layout.setNode(n.id, { width: Math.max(70, n.key.length * 8 + 24), height: 34 });
  // One edge per pair of states, labelled with every event that takes it (one line each).
  const pairs = new Map<string, { source: string; target: string; labels: string[] }>();
  for (const e of g.edges) {
    if (e.source === e.target) continue;
    const k = `${e.source}\u0000${e.target}`;
    const p = pairs.get(k) ?? { source: e.source, target: e.target, labels: [] };
    p.labels.push(e.label);
    pairs.set(k, p);
  }
  [...pairs.values()].forEach((p, i) => {
    const width = Math.max(...p.labels.map((l) => l.length)) * 6.2 + 6;
    layout.setEdge(p.source, p.target, { label: p.labels.join('\n'), width, height: 13 * p.labels.length, labelpos: 'c' }, `e${i}`);
  });
  for (const n of g.nodes) {
    if (n.parent) layout.setEdge(n.parent, n.id, { label: n.initial ? 'initial' : '', width: n.initial ? 40 : 0, height: 12, child: true }, `c-${n.id}`);
  }
  dagre.layout(layout);
  const size = layout.graph();
  const w = size.width ?? 100;
  const h = (size.height ?? 60) + 18;
  // Scales down to its column, never up.
  const svg = el('svg', { viewBox: `0 0 ${w} ${h}`, width: w, style: `max-width: 100%; height: auto`, class: 'machine', 'data-machine': g.id, role: 'img', 'aria-label': `${title}: ${current ?? 'not started'}` });
  const defs = el('defs');
  const marker = el('marker', { id: `arrow-${g.id}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs, el('text', { x: 12, y: 14, class: 'machine-title' }, title));
  const body = el('g', { transform: 'translate(0,18)' });
  svg.append(body);
  const active = new Set<string>();
  for (let id = current; id; ) {
    active.add(id);
    id = g.nodes.find((n) => n.id === id)?.parent ?? null;
  }
  for (const id of layout.edges()) {
    const e = layout.edge(id) as { points: Array<{ x: number; y: number }>; label: string; x?: number; y?: number; child?: boolean };
    const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    body.append(el('path', { d, class: e.child ? 'edge child' : 'edge', 'marker-end': `url(#arrow-${g.id})` }));
    if (e.label && e.x !== undefined && e.y !== undefined) {
      const lines = e.label.split('\n');
      const label = el('text', { x: e.x, y: e.y + 4 - ((lines.length - 1) * 13) / 2, class: 'edge-label', 'text-anchor': 'middle' });
      lines.forEach((line, i) => label.append(el('tspan', { x: e.x ?? 0, dy: i === 0 ? 0 : 13 }, line)));
      body.append(label);
    }
  }
  for (const n of g.nodes) {
    const box = layout.node(n.id) as { x: number; y: number; width: number; height: number };
    const cls = ['state', n.leaf ? 'leaf' : 'compound', active.has(n.id) ? 'active' : '', n.id === current ? 'current' : ''].filter(Boolean).join(' ');
    const group = el('g', { class: cls, 'data-state': n.id });
    if (n.description) group.append(el('title', {}, n.description));
    group.append(el('rect', { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 9 }));
    group.append(el('text', { x: box.x, y: box.y + 4, 'text-anchor': 'middle' }, n.key));
    if (n.initial && !n.parent) group.append(el('circle', { cx: box.x - box.width / 2 - 8, cy: box.y, r: 4, class: 'initial-dot' }));
    body.append(group);
  }
  return svg;
}
