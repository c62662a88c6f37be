import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * The zod every Lambda validates with: `zod/mini`, whose functions tree-shake
 * (the classic API bundles ~450 KB, every locale included), with the English
 * messages for the rare errors our schemas do not word themselves.
 */
z.config(en());

export { z };
