import { z } from 'zod';

// zod probes for eval (and reads `navigator`, which VS Code's extension host reports as an error) while building
// schemas unless told not to. Imported first so that this runs before any schema is built.
z.config({ jitless: true });
