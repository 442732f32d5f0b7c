/**
 * Builds the bundled core node definitions (src/workflow/data/core-object-info.json) from a real server's
 * `GET /object_info` answer, keeping only what conversion, injection and analysis read: input specs with the
 * options that decide widgets and validation, input order, outputs and the output-node flag.
 *
 * Usage: npx tsx packages/core/scripts/trim-object-info.ts <object_info.json> [out.json]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const KEPT_OPTIONS = [
  'default', 'min', 'max', 'options', 'multiselect', 'forceInput', 'control_after_generate',
  'image_upload', 'video_upload', 'audio_upload', 'file_upload', 'widgetType', 'rawLink',
];
/** ComfyUI's execution test pack and a preview probe were installed on the recording server: not core nodes. */
const isTestNode = (name: string): boolean => name.startsWith('Test') || name === 'ProbePreviewProgress';

type Spec = [unknown, Record<string, unknown>?];
type Info = Record<string, unknown> & { input: Record<string, Record<string, Spec>> };

function trimSpec(spec: Spec): Spec {
  const [type, options] = spec;
  if (!options || typeof options !== 'object') return [type];
  const kept = Object.fromEntries(Object.entries(options).filter(([k]) => KEPT_OPTIONS.includes(k)));
  return Object.keys(kept).length > 0 ? [type, kept] : [type];
}

function trimSection(section: Record<string, Spec> | undefined): Record<string, Spec> | undefined {
  if (!section) return undefined;
  return Object.fromEntries(Object.entries(section).map(([name, spec]) => [name, trimSpec(spec)]));
}

const source = process.argv[2];
if (!source) throw new Error('usage: trim-object-info.ts <object_info.json> [out.json]');
const out = process.argv[3] ?? fileURLToPath(new URL('../src/workflow/data/core-object-info.json', import.meta.url));
const all = JSON.parse(readFileSync(source, 'utf8')) as Record<string, Info>;
const trimmed: Record<string, unknown> = {};
for (const name of Object.keys(all).sort()) {
  const info = all[name]!;
  if (isTestNode(name)) continue;
  trimmed[name] = {
    input: { required: trimSection(info.input.required), optional: trimSection(info.input.optional) },
    input_order: info.input_order,
    output: info.output,
    output_name: info.output_name,
    output_is_list: info.output_is_list,
    output_node: info.output_node,
    display_name: info.display_name,
    category: info.category,
  };
}
writeFileSync(out, JSON.stringify(trimmed));
console.log(`${Object.keys(trimmed).length} node classes written to ${out}`);
