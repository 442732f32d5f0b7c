export { WorkflowLibrary, DEFAULT_BUILTIN_ID } from './workflow-library.js';
export { AnalysisLog } from './analysis-log.js';
export { WorkflowRecord, WorkflowInput, workflowsCollection, AnalysisRecord, analysesCollection } from './records.js';
