// The page's Content-Security-Policy forbids eval: zod must not even probe for it (a caught probe is
// still reported as a violation), so it validates without compiled fast paths. Imported first by
// main.ts, so the setting is in place before any module builds a schema.
import { z } from 'zod';

z.config({ jitless: true });
