/** Why a conversion, an injection or an analysis has something to say about a workflow. */
export type WorkflowWarningCode =
  | 'unknown_node_type'
  | 'unknown_subgraph'
  | 'dangling_link'
  | 'input_dropped'
  | 'link_cycle'
  | 'widget_values_mismatch'
  | 'parameter_no_target'
  | 'parameter_ambiguous'
  | 'required_input_missing'
  | 'value_not_in_list'
  | 'no_output_node'
  | 'muted_output'
  | 'path_separator';

/** Something done to a workflow that the frontend does too, worth knowing but not wrong: an info-level note. */
export type WorkflowNoteCode = 'widget_default_used';

interface WorkflowFinding<Code extends string> {
  code: Code;
  message: string;
  /** The node concerned: API id (`"12"`, `"12:5"` inside a subgraph) or UI id. */
  nodeId?: string;
  /** The input, widget or parameter concerned. */
  field?: string;
}

export type WorkflowWarning = WorkflowFinding<WorkflowWarningCode>;
export type WorkflowNote = WorkflowFinding<WorkflowNoteCode>;

function finding<Code extends string>(code: Code, message: string, nodeId?: string, field?: string): WorkflowFinding<Code> {
  return { code, message, ...(nodeId === undefined ? {} : { nodeId }), ...(field === undefined ? {} : { field }) };
}

export const warning: (code: WorkflowWarningCode, message: string, nodeId?: string, field?: string) => WorkflowWarning = finding;
export const note: (code: WorkflowNoteCode, message: string, nodeId?: string, field?: string) => WorkflowNote = finding;
