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

export interface WorkflowWarning {
  code: WorkflowWarningCode;
  message: string;
  /** The node at fault: API id (`"12"`, `"12:5"` inside a subgraph) or UI id. */
  nodeId?: string;
  /** The input, widget or parameter at fault. */
  field?: string;
}

export function warning(code: WorkflowWarningCode, message: string, nodeId?: string, field?: string): WorkflowWarning {
  return { code, message, ...(nodeId === undefined ? {} : { nodeId }), ...(field === undefined ? {} : { field }) };
}
