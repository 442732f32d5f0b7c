import { z } from 'zod';

/** A numeric resource id, written as a number or as the digits of one (path parameters arrive as text). */
export const Id = z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d{0,14}$/, 'expected a positive whole number').transform(Number)]);

export const IsoDate = z.string().describe('ISO 8601 date and time');

export const SuccessMessage = z.object({ success: z.literal(true), message: z.string() });

/** A whole number written as a number or as text (query strings are text). */
export const WholeNumber = z.union([z.number().int(), z.string().regex(/^-?\d{1,15}$/, 'expected a whole number').transform(Number)]);

export const PageQuery = z.object({
  limit: WholeNumber.pipe(z.number().min(1).max(200)).optional(),
  cursor: WholeNumber.pipe(z.number().min(1)).optional(),
});
