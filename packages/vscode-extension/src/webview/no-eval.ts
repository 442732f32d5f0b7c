import { z } from 'zod';

// The page's policy forbids eval; zod probes for it while building schemas unless told not to. Imported first
// by main.ts so that this runs before any schema is built.
z.config({ jitless: true });
