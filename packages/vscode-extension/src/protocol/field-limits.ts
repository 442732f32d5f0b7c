import type { ParameterField } from './messages.js';

/**
 * Why a form value cannot be written, or undefined when it can: the type the field takes and the node
 * definition's min and max. Shared by the page (which refuses at once) and the extension (which trusts no page).
 */
export function fieldValueProblem(field: ParameterField, value: string | number): string | undefined {
  if (field.kind === 'text') return typeof value === 'string' ? undefined : `${field.label} takes text.`;
  if (field.kind === 'choice') {
    return typeof value === 'string' && (!field.options || field.options.includes(value)) ? undefined : `${field.label} must be one of the listed values.`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${field.label} takes a number.`;
  if (field.kind === 'integer' && !Number.isInteger(value)) return `${field.label} takes a whole number.`;
  if (field.min !== undefined && value < field.min) return `${field.label} must be at least ${field.min}.`;
  if (field.max !== undefined && value > field.max) return `${field.label} must be at most ${field.max}.`;
  return undefined;
}
