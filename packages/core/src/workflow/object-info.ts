import { z } from 'zod';
import bundled from './data/core-object-info.json' with { type: 'json' };
import type { UiInput } from './ui-schema.js';

/** One input spec of object_info: `[type, options?]`, where type is a string or a legacy combo list. */
export const inputSpecSchema = z.array(z.unknown()).min(1);

export const nodeInfoSchema = z.looseObject({
  input: z.looseObject({
    required: z.record(z.string(), inputSpecSchema).optional(),
    optional: z.record(z.string(), inputSpecSchema).optional(),
    hidden: z.unknown().optional(),
  }),
  input_order: z
    .looseObject({ required: z.array(z.string()).optional(), optional: z.array(z.string()).optional() })
    .optional(),
  output: z.array(z.unknown()).optional(),
  output_name: z.array(z.unknown()).optional(),
  output_node: z.boolean().optional(),
  display_name: z.string().nullish(),
  category: z.string().nullish(),
});

/** `GET /object_info`: node class name → definition. */
export const nodeDefinitionsSchema = z.record(z.string(), nodeInfoSchema);

export type NodeInfo = z.infer<typeof nodeInfoSchema>;
export type ObjectInfo = z.infer<typeof nodeDefinitionsSchema>;

/** The core node definitions bundled with the library (trimmed from a real server's object_info, 501 classes). */
export const CORE_OBJECT_INFO: ObjectInfo = bundled as unknown as ObjectInfo;

/** Validates an object_info answer (for example from a server) before it is used for conversion. */
export function parseObjectInfo(json: unknown): ObjectInfo {
  return nodeDefinitionsSchema.parse(json);
}

const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);
const UPLOAD_OPTIONS = ['image_upload', 'video_upload', 'audio_upload', 'file_upload'] as const;

export interface InputDefinition {
  name: string;
  section: 'required' | 'optional';
  /** `COMBO` for list combos; otherwise the declared type (possibly a comma union or `*`). */
  type: string;
  options: Record<string, unknown>;
  /** Allowed values of a combo, when the definition lists them. */
  choices: readonly unknown[] | undefined;
  /** A widget-making input consumes one `widgets_values` entry. */
  widget: boolean;
  /** A `fixed|increment|…` value follows this widget's value in `widgets_values`. */
  control: boolean;
  /** An upload button (never sent) is added for this input. */
  upload: boolean;
}

function specParts(spec: readonly unknown[]): { type: string; choices: readonly unknown[] | undefined; options: Record<string, unknown> } {
  const [head, second] = spec;
  const options = second && typeof second === 'object' && !Array.isArray(second) ? (second as Record<string, unknown>) : {};
  if (Array.isArray(head)) return { type: 'COMBO', choices: head, options };
  const type = typeof head === 'string' ? head : String(head);
  const listed = options['options'];
  return { type, choices: type === 'COMBO' && Array.isArray(listed) ? listed : undefined, options };
}

/**
 * Decides which inputs are widgets, the way the frontend does (section 3.3 of the protocol reference).
 * `declaredWidgets` are names the saved node itself marks as widgets (`inputs[].widget.name`): that is how
 * extension widget types, unknown to object_info, are recognised.
 */
export function describeInputs(info: NodeInfo, declaredWidgets: ReadonlySet<string> = new Set()): InputDefinition[] {
  const result: InputDefinition[] = [];
  for (const section of ['required', 'optional'] as const) {
    const specs = info.input[section] ?? {};
    const order = info.input_order?.[section] ?? Object.keys(specs);
    for (const name of order) {
      const spec = specs[name];
      if (!spec) continue;
      const { type, choices, options } = specParts(spec);
      const widget =
        options['forceInput'] !== true &&
        (WIDGET_TYPES.has(type) || typeof options['widgetType'] === 'string' || declaredWidgets.has(name));
      const control =
        widget &&
        (Boolean(options['control_after_generate']) ||
          (type === 'INT' && (name === 'seed' || name === 'noise_seed')));
      const upload = UPLOAD_OPTIONS.some((key) => Boolean(options[key]));
      result.push({ name, section, type, options, choices, widget, control, upload });
    }
  }
  return result;
}

/** Output types of a node class, as strings (`*` for anything else). */
export function outputTypes(info: NodeInfo): string[] {
  return (info.output ?? []).map((t) => (typeof t === 'string' ? t : Array.isArray(t) ? 'COMBO' : '*'));
}

/**
 * Node definitions for one operation: the caller's object_info, else the bundled core definitions, with the
 * per-class input descriptions computed once.
 */
export class NodeCatalog {
  readonly source: 'caller' | 'bundled';
  private readonly info: ObjectInfo;
  private readonly described = new Map<string, InputDefinition[]>();
  /** Per class, the inputs that are not widgets but that a saved node may declare as one. */
  private readonly promotable = new Map<string, Set<string>>();
  private readonly found = new Map<string, NodeInfo | null>();

  constructor(objectInfo?: ObjectInfo) {
    this.info = objectInfo ?? CORE_OBJECT_INFO;
    this.source = objectInfo ? 'caller' : 'bundled';
  }

  get(type: string): NodeInfo | undefined {
    // Remembered per type: a property lookup on the 500-key object costs more than a map's, once per node.
    let info = this.found.get(type);
    if (info === undefined) {
      info = Object.hasOwn(this.info, type) ? (this.info[type] ?? null) : null;
      this.found.set(type, info);
    }
    return info ?? undefined;
  }

  has(type: string): boolean {
    return this.get(type) !== undefined;
  }

  /**
   * Input definitions of a class. A saved node (its `inputs`) that marks as a widget an input the definitions do
   * not make one (an extension widget) gets its own description.
   */
  inputs(type: string, saved?: readonly UiInput[]): InputDefinition[] | undefined {
    const info = this.get(type);
    if (!info) return undefined;
    let cached = this.described.get(type);
    if (!cached) {
      cached = describeInputs(info);
      this.described.set(type, cached);
      this.promotable.set(type, new Set(cached.filter((d) => !d.widget && d.options['forceInput'] !== true).map((d) => d.name)));
    }
    if (!saved) return cached;
    // Checked without a set per node: newer frontends mark every widget input so, on every node.
    const promotable = this.promotable.get(type)!;
    let declared: Set<string> | undefined;
    for (const input of saved) if (input.widget && promotable.has(input.widget.name)) declared = new Set();
    if (!declared) return cached;
    for (const input of saved) if (input.widget) declared.add(input.widget.name);
    return describeInputs(info, declared);
  }
}
