import { z } from 'zod';
import { modelFileNameSchema, modelFolderSchema, modelUrlSchema } from '../remote/inputs.js';
import type { MissingModel } from '../workflow/analyze.js';
import type { DownloadView } from './model-downloads.js';

export interface MissingDownloadPlan {
  /** Missing models with everything a download needs. */
  downloads: Array<{ name: string; request: { url: string; folder: string; filename: string; sha256?: string } }>;
  /** Missing models that cannot be downloaded for the user, and why. */
  notPlaced: Array<{ name: string; reason: string }>;
}

/** Which of a workflow's missing models can be downloaded onto its server: those with a URL, a folder and a plain name. */
export function planMissingDownloads(missing: readonly MissingModel[]): MissingDownloadPlan {
  const plan: MissingDownloadPlan = { downloads: [], notPlaced: [] };
  for (const model of missing) {
    const reason = whyNot(model);
    if (reason) plan.notPlaced.push({ name: model.name, reason });
    else
      plan.downloads.push({
        name: model.name,
        request: { url: model.downloadUrl!, folder: model.folder!, filename: model.name, ...(model.sha256 ? { sha256: model.sha256 } : {}) },
      });
  }
  return plan;
}

function whyNot(model: MissingModel): string | null {
  if (!model.downloadUrl) return 'no download URL is known for it (neither the workflow nor the model catalogue gives one)';
  if (!modelUrlSchema.safeParse(model.downloadUrl).success) return 'its download URL is not an http(s) URL without credentials';
  if (!model.folder) return 'its model folder is unknown';
  if (!modelFolderSchema.safeParse(model.folder).success) return `folder "${model.folder}" is not one downloads may write to`;
  if (/[\\/]/.test(model.name)) return 'the workflow names it inside a subfolder, which downloads do not create';
  if (!modelFileNameSchema.safeParse(model.name).success) return 'its file name is not a plain model file name';
  return null;
}

/** Which workflow's missing models to download: one sent with the request, or one of the user's saved workflows. */
export const downloadMissingRequestSchema = z.union([
  z.object({ workflow: z.record(z.string(), z.unknown()) }),
  z.object({ workflowId: z.number().int().positive() }),
]);

/** What `downloadMissing` did: the downloads it queued (or found pending), and the models it could not place. */
export interface MissingDownloadsResult {
  queued: Array<{ name: string; download: DownloadView }>;
  notPlaced: MissingDownloadPlan['notPlaced'];
}
