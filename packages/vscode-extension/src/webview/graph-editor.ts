import { LGraph, LGraphCanvas, LGraphEventMode, LGraphNode, LiteGraph, SubgraphNode, type ExportedSubgraphInstance, type ISerialisedGraph, type Subgraph } from '@comfyorg/litegraph';
import '@comfyorg/litegraph/style.css';
import type { GraphChange, LiteGraphData, NodeDefinitionView, WidgetDefinition } from '../protocol/messages.js';

/** What the page keeps of the view across reloads (a hidden tab is dropped by VS Code). */
export interface GraphViewState {
  scale: number;
  offset: [number, number];
}

export interface GraphEditorOptions {
  /** Changes the user made, to be written into the file. */
  onChanges: (changes: GraphChange[]) => void;
  /** The node whose widgets the inspector shows; undefined when nothing or several are selected. */
  onSelect: (node: LGraphNode | undefined) => void;
  onView: (view: GraphViewState) => void;
}

type WidgetValue = string | number | boolean;
const MODES = new Set([LGraphEventMode.ALWAYS, LGraphEventMode.NEVER, LGraphEventMode.BYPASS]);

/** The node a generation runs: its class, its id in the prompt when known, and the run's progress. */
interface Running {
  type: string;
  id?: string;
  percent: number;
}

/** A node as ComfyUI draws it: bypassed nodes purple, muted ones dim. */
class WorkflowNode extends LGraphNode {
  override get renderingBgColor(): string {
    if (this.mode === LGraphEventMode.BYPASS) return '#6a2c70';
    return this.mode === LGraphEventMode.NEVER ? '#2a2a2a' : super.renderingBgColor;
  }

  override get renderingColor(): string {
    if (this.mode === LGraphEventMode.BYPASS) return '#9b3fa5';
    return this.mode === LGraphEventMode.NEVER ? '#444' : super.renderingColor;
  }
}

/**
 * ComfyUI's graph engine (litegraph) over the workflow file. The file stays the model: every message from the
 * extension reloads the graph, and what the user changes (widget values, positions, modes, groups) is found by
 * comparing the graph with what was loaded and sent as changes; structural edits (links, nodes) are undone.
 */
export class GraphEditor {
  readonly #root = new LGraph();
  readonly #canvas: LGraphCanvas;
  readonly #element: HTMLCanvasElement;
  readonly #registered = new Set<string>();
  #data: LiteGraphData | undefined;
  #baseline = new Map<string, string>();
  #structure = '';
  #running: Running | undefined;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: HTMLElement,
    private readonly options: GraphEditorOptions,
  ) {
    this.#element = document.createElement('canvas');
    this.#element.tabIndex = 0;
    this.#element.setAttribute('aria-label', 'Workflow graph');
    host.replaceChildren(this.#element);
    this.#canvas = new LGraphCanvas(this.#element, this.#root);
    this.#canvas.show_info = false;
    // A whole workflow fitted into an editor tab is drawn below litegraph's default 0.6: titles and values stay drawn.
    this.#canvas.low_quality_zoom_threshold = 0.35;
    this.#canvas.allow_searchbox = false;
    this.#canvas.allow_reconnect_links = false;
    this.#canvas.onDrawForeground = (ctx) => this.#drawRunning(ctx);
    this.#canvas.onNodeMoved = () => this.#scheduleSync();
    this.#canvas.onSelectionChange = () => this.#publishSelection();
    // Called when a frame is drawn with another pan or zoom.
    this.#canvas.ds.onChanged = () => this.#publishView();
    // A node whose type is a subgraph's id is an instance of it; its title button opens it, as in ComfyUI.
    const root = this.#root;
    root.events.addEventListener('subgraph-created', (e) => {
      const { subgraph, data } = e.detail;
      class SubgraphInstance extends SubgraphNode {
        static override title = subgraph.name;
        constructor() {
          // ComfyUI passes the definition as the first instance data too; the node's own data follows in configure.
          super(root, subgraph, data as unknown as ExportedSubgraphInstance);
        }
      }
      LiteGraph.registerNodeType(subgraph.id, SubgraphInstance as unknown as typeof LGraphNode);
    });
    for (const type of ['pointerup', 'keyup']) this.#element.addEventListener(type, () => this.#scheduleSync());
    // Keys reach litegraph only while the canvas has the focus.
    this.#element.addEventListener('pointerdown', () => this.#element.focus());
    this.#element.addEventListener('keydown', (e) => this.#modeKeys(e));
    this.#element.addEventListener('subgraph-opened', () => this.#showPath());
    new ResizeObserver(() => this.#fit()).observe(host);
    this.#fit();
  }

  /** Loads the file's graph; the view (pan, zoom, open subgraph, selection) stays where the user left it. */
  load(data: LiteGraphData, definitions: Record<string, NodeDefinitionView>): void {
    for (const [type, definition] of Object.entries(definitions)) this.#register(type, definition);
    const subgraphIds = new Set(subgraphsOf(data).map((s) => s.id));
    // A node whose type is a subgraph's id is that subgraph's instance: litegraph makes those.
    for (const node of allNodes(data)) if (!subgraphIds.has(node.type) && !this.#registered.has(node.type) && !LiteGraph.registered_node_types[node.type]) this.#registerUnknown(node.type);
    const open = this.#canvas.graph === this.#root ? undefined : (this.#canvas.graph as Subgraph | null)?.id;
    const selected = Object.values(this.#canvas.selected_nodes).map((n) => String(n.id));
    const view = { scale: this.#canvas.ds.scale, offset: [...this.#canvas.ds.offset] as [number, number] };
    const first = this.#data === undefined;
    this.#data = data;
    this.#root.configure(structuredClone(data) as unknown as ISerialisedGraph);
    const subgraph = open ? this.#root.subgraphs.get(open) : undefined;
    if (subgraph) this.#canvas.openSubgraph(subgraph);
    else if (this.#canvas.graph !== this.#root) this.#canvas.setGraph(this.#root);
    for (const id of selected) {
      const node = this.#canvas.graph?.getNodeById(id);
      if (node) this.#canvas.selectNode(node, true);
    }
    // The inspector shows the reloaded node (its values may be the ones just changed), or nothing.
    this.#publishSelection();
    if (first) this.#zoomToFit();
    else Object.assign(this.#canvas.ds, { scale: view.scale, offset: view.offset });
    this.#baseline = snapshot(this.#root);
    this.#structure = structure(this.#root);
    this.host.dataset['nodes'] = String(this.#root.nodes.length);
    this.host.dataset['links'] = String(this.#root.links.size);
    this.#applyRunning();
    this.#showPath();
    this.#canvas.setDirty(true, true);
    this.#publishView();
  }

  /** Restores a saved view (pan and zoom). */
  setView(view: GraphViewState): void {
    Object.assign(this.#canvas.ds, { scale: view.scale, offset: [...view.offset] });
    this.#canvas.setDirty(true, true);
    this.#publishView();
  }

  /** Centres the node and selects it (a problem clicked in the list). */
  reveal(nodeId: string): void {
    if (this.#canvas.graph !== this.#root) this.#canvas.setGraph(this.#root);
    const node = this.#root.getNodeById(nodeId);
    if (!node) return;
    this.#canvas.deselectAll();
    this.#canvas.selectNode(node);
    this.#canvas.centerOnNode(node);
    this.#publishView();
  }

  /** Sets a widget of a node (from the inspector) as a click on the canvas would. */
  setWidget(node: LGraphNode, index: number, value: WidgetValue): void {
    const widget = node.widgets?.[index];
    if (!widget) return;
    widget.value = value as never;
    this.#canvas.setDirty(true, true);
    this.#sync();
  }

  /** Shows a subgraph's inside (its instance selected in the inspector). */
  openSubgraph(node: LGraphNode): void {
    if (node instanceof SubgraphNode) this.#canvas.openSubgraph(node.subgraph);
  }

  /** ComfyUI's keys: Ctrl+B bypasses the selected nodes, Ctrl+M mutes them; again puts them back. */
  #modeKeys(e: KeyboardEvent): void {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return;
    const mode = e.key === 'b' ? LGraphEventMode.BYPASS : e.key === 'm' ? LGraphEventMode.NEVER : undefined;
    const nodes = Object.values(this.#canvas.selected_nodes);
    if (mode === undefined || nodes.length === 0) return;
    e.preventDefault();
    e.stopPropagation();
    const all = nodes.every((n) => n.mode === mode);
    for (const node of nodes) node.mode = all ? LGraphEventMode.ALWAYS : mode;
    this.#canvas.setDirty(true, true);
    this.#scheduleSync();
  }

  /** Highlights the node being run, with its progress; undefined clears it. */
  setRunning(running: Running | undefined): void {
    this.#running = running;
    this.#applyRunning();
    this.host.dataset['running'] = running?.type ?? '';
    this.#canvas.setDirty(true, false);
  }

  #applyRunning(): void {
    for (const node of this.#root.nodes) node.progress = this.#isRunning(node) ? Math.max(0.01, this.#running!.percent / 100) : undefined;
    this.host.dataset['runningNodes'] = this.#root.nodes.filter((n) => this.#isRunning(n)).map((n) => String(n.id)).join(',');
  }

  /**
   * The running node by its prompt id when that is a node of the main graph of the running class; else (a node
   * inside a subgraph or group node, whose prompt id is not a UI id) every node of the class.
   */
  #isRunning(node: LGraphNode): boolean {
    const running = this.#running;
    if (!running || node.type !== running.type) return false;
    const byId = running.id !== undefined && this.#root.nodes.some((n) => String(n.id) === running.id && n.type === running.type);
    return byId ? node.graph === this.#root && String(node.id) === running.id : true;
  }

  #drawRunning(ctx: CanvasRenderingContext2D): void {
    if (!this.#running) return;
    ctx.save();
    ctx.strokeStyle = '#3ad36b';
    ctx.lineWidth = 4;
    for (const node of this.#canvas.graph?.nodes ?? []) {
      if (!this.#isRunning(node)) continue;
      const title = LiteGraph.NODE_TITLE_HEIGHT;
      ctx.strokeRect(node.pos[0] - 4, node.pos[1] - title - 4, node.size[0] + 8, node.size[1] + title + 8);
    }
    ctx.restore();
  }

  #register(type: string, definition: NodeDefinitionView): void {
    if (this.#registered.has(type)) return;
    this.#registered.add(type);
    const sync = () => this.#scheduleSync();
    class DefinedNode extends WorkflowNode {
      static override title = definition.title;
      constructor(title?: string) {
        super(title ?? definition.title, type);
        for (const input of definition.inputs) this.addInput(input.name, input.type);
        for (const output of definition.outputs) this.addOutput(output.name, output.type);
        for (const widget of definition.widgets) addWidget(this, widget, sync);
        this.serialize_widgets = true;
      }
    }
    LiteGraph.registerNodeType(type, DefinedNode);
  }

  /** A node class the definitions do not know (a custom node): its widgets are made from the values the file holds. */
  #registerUnknown(type: string): void {
    this.#registered.add(type);
    const sync = () => this.#scheduleSync();
    class UnknownNode extends WorkflowNode {
      static override title = type;
      constructor(title?: string) {
        super(title ?? type, type);
        this.serialize_widgets = true;
      }

      override onConfigure(info: { widgets_values?: unknown }): void {
        if (this.widgets?.length || !Array.isArray(info.widgets_values)) return;
        for (const [i, value] of info.widgets_values.entries()) {
          const kind = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'toggle' : typeof value === 'string' ? 'text' : undefined;
          if (kind) addWidget(this, { name: `value ${i + 1}`, kind }, sync, value as WidgetValue);
          else addWidget(this, { name: `value ${i + 1}`, kind: 'text' }, sync, JSON.stringify(value));
        }
      }
    }
    LiteGraph.registerNodeType(type, UnknownNode);
  }

  #scheduleSync(): void {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = setTimeout(() => this.#sync(), 0);
  }

  /** Sends what changed since the file was loaded; a change of links or nodes is undone (the file is edited as text for those). */
  #sync(): void {
    clearTimeout(this.#syncTimer);
    if (!this.#data) return;
    if (structure(this.#root) !== this.#structure) {
      this.load(this.#data, {});
      return;
    }
    const now = snapshot(this.#root);
    const changes: GraphChange[] = [];
    for (const [key, value] of now) {
      if (this.#baseline.get(key) === value) continue;
      const change = changeOf(key, JSON.parse(value) as unknown);
      if (change) changes.push(change);
    }
    this.#baseline = now;
    if (changes.length > 0) this.options.onChanges(changes);
  }

  #publishSelection(): void {
    const selected = Object.values(this.#canvas.selected_nodes);
    this.options.onSelect(selected.length === 1 ? selected[0] : undefined);
  }

  #zoomToFit(): void {
    const nodes = this.#root.nodes;
    if (nodes.length === 0) return;
    const left = Math.min(...nodes.map((n) => n.pos[0]));
    const top = Math.min(...nodes.map((n) => n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT));
    const right = Math.max(...nodes.map((n) => n.pos[0] + n.size[0]));
    const bottom = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
    const { width, height } = this.host.getBoundingClientRect();
    // 40 screen pixels of margin on each side.
    const scale = Math.min(1, Math.max(0.3, Math.min((width - 80) / (right - left), (height - 80) / (bottom - top))));
    Object.assign(this.#canvas.ds, { scale, offset: [-left + 40 / scale, -top + 40 / scale] });
  }

  #fit(): void {
    const { width, height } = this.host.getBoundingClientRect();
    this.#canvas.resize(Math.max(200, Math.floor(width)), Math.max(200, Math.floor(height)));
    this.#canvas.setDirty(true, true);
  }

  #publishView(): void {
    const { scale, offset } = this.#canvas.ds;
    this.host.dataset['scale'] = String(Math.round(scale * 1000) / 1000);
    this.host.dataset['offset'] = `${Math.round(offset[0])},${Math.round(offset[1])}`;
    this.options.onView({ scale, offset: [offset[0], offset[1]] });
  }

  /** The subgraph being shown, with a way back to the main graph. */
  #showPath(): void {
    const inside = this.#canvas.graph !== this.#root;
    this.host.dataset['subgraph'] = inside ? String((this.#canvas.graph as Subgraph).id) : '';
    const back = this.host.ownerDocument.getElementById('graph-back');
    if (!back) return;
    back.hidden = !inside;
    back.onclick = () => {
      this.#canvas.setGraph(this.#root);
      this.#showPath();
    };
  }
}

function addWidget(node: LGraphNode, widget: WidgetDefinition, sync: () => void, value?: WidgetValue): void {
  const callback = () => sync();
  switch (widget.kind) {
    case 'number': {
      // litegraph's legacy `step` is ten times the step; `step2` is the step itself.
      const step = widget.step ?? (widget.integer ? 1 : 0.01);
      const precision = widget.integer ? 0 : Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
      node.addWidget('number', widget.name, (value as number) ?? widget.min ?? 0, callback, {
        ...(widget.min !== undefined ? { min: widget.min } : {}),
        ...(widget.max !== undefined ? { max: widget.max } : {}),
        step: step * 10,
        step2: step,
        precision,
      });
      return;
    }
    case 'combo':
    case 'control':
      node.addWidget('combo', widget.name, (value as string) ?? widget.options?.[0] ?? '', callback, { values: widget.options ?? [] });
      return;
    case 'toggle':
      node.addWidget('toggle', widget.name, (value as boolean) ?? false, callback, {});
      return;
    case 'upload':
      // The upload button keeps a fixed value in the file; uploading is ComfyUI's, not the editor's.
      node.addWidget('button', 'upload', (value as string) ?? 'image', null, {});
      return;
    case 'text':
      node.addWidget('text', widget.name, (value as string) ?? '', callback, { multiline: true });
  }
}

function subgraphsOf(data: LiteGraphData): { id?: unknown; nodes?: { type: string }[] }[] {
  const subgraphs = (data['definitions'] as { subgraphs?: unknown } | undefined)?.subgraphs;
  return Array.isArray(subgraphs) ? subgraphs : [];
}

function* allNodes(data: LiteGraphData): Generator<{ type: string }> {
  yield* data.nodes;
  for (const subgraph of subgraphsOf(data)) yield* subgraph.nodes ?? [];
}

function graphs(root: LGraph): [string | undefined, LGraph][] {
  return [[undefined, root], ...[...root.subgraphs.values()].map((s): [string, LGraph] => [s.id, s])];
}

/** Every value the editor can write back, by a key naming its place. */
function snapshot(root: LGraph): Map<string, string> {
  const out = new Map<string, string>();
  for (const [graph, g] of graphs(root)) {
    const prefix = JSON.stringify(graph ?? null);
    for (const node of g.nodes) {
      const id = JSON.stringify(String(node.id));
      out.set(`${prefix}|position|${id}`, JSON.stringify([node.pos[0], node.pos[1]]));
      if (MODES.has(node.mode)) out.set(`${prefix}|mode|${id}`, JSON.stringify(node.mode));
      for (const [index, widget] of (node.widgets ?? []).entries()) {
        if (widget.type !== 'button') out.set(`${prefix}|widget|${id}|${index}`, JSON.stringify(widget.value));
      }
    }
    for (const [index, group] of g.groups.entries()) out.set(`${prefix}|group|${index}`, JSON.stringify([...group._bounding]));
  }
  return out;
}

function changeOf(key: string, value: unknown): GraphChange | undefined {
  const [graphJson, kind, a, b] = key.split('|') as [string, string, string, string | undefined];
  const graph = JSON.parse(graphJson) as string | null;
  const where = graph === null ? {} : { graph };
  if (kind === 'group') return { kind, ...where, index: Number(a), value: value as [number, number, number, number] };
  const nodeId = JSON.parse(a) as string;
  if (kind === 'position') return { kind, ...where, nodeId, value: value as [number, number] };
  if (kind === 'mode') return { kind, ...where, nodeId, value: value as 0 | 2 | 4 };
  if (kind === 'widget' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) return { kind, ...where, nodeId, index: Number(b), value };
  return undefined;
}

/** Nodes, links and how many groups: what the editor does not add or remove in the file. */
function structure(root: LGraph): string {
  return graphs(root)
    .map(([id, g]) => `${id}:${g.nodes.map((n) => n.id).sort().join(',')}:${[...g.links.keys()].sort().join(',')}:${g.groups.length}`)
    .join(';');
}
