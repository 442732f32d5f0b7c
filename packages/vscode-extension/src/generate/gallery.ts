import { z } from 'zod';

/**
 * One finished run of a workflow file, as the gallery keeps it: what made the image (the form's values, the seed,
 * the server) and where its images are. Kept in `gallery.json` beside the images (see docs in the README).
 */
export const GalleryEntry = z.object({
  /** Unique in the file: the run's time and generation. */
  id: z.string(),
  /** The workflow file, relative to the workspace folder (two files of one name share an output folder). */
  workflow: z.string(),
  /** ISO time the images were saved. */
  time: z.string(),
  server: z.object({ name: z.string(), id: z.number().int(), apiUrl: z.string() }),
  generationId: z.number().int(),
  seed: z.number().optional(),
  prompt: z.string(),
  negativePrompt: z.string().optional(),
  /** The other parameters the generation was asked for (steps, cfg, sampler…). */
  parameters: z.record(z.string(), z.union([z.string(), z.number()])),
  /** Image file names, in the gallery file's folder: a name never leads out of it. */
  images: z.array(z.string().regex(/^(?!\.\.?$)[^\\/]+$/)).min(1),
  /** Dollars of GPU time, when the API knew it. */
  cost: z.number().optional(),
});
export type GalleryEntry = z.infer<typeof GalleryEntry>;

export const GalleryFile = z.object({ version: z.literal(1), entries: z.array(GalleryEntry) });
export type GalleryFile = z.infer<typeof GalleryFile>;

/** The entries a file's text holds; entries that no longer read are dropped, not the whole gallery. */
export function readGallery(text: string | undefined): GalleryEntry[] {
  if (!text) return [];
  try {
    const raw = JSON.parse(text) as { entries?: unknown };
    return Array.isArray(raw.entries) ? raw.entries.flatMap((e) => (GalleryEntry.safeParse(e).success ? [GalleryEntry.parse(e)] : [])) : [];
  } catch {
    return [];
  }
}

export function writeGallery(entries: GalleryEntry[]): string {
  return `${JSON.stringify({ version: 1, entries } satisfies GalleryFile, null, 2)}\n`;
}
