import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * Runtime code validates with `zod/mini`, whose functions tree-shake (the classic
 * API bundles ~450 KB per function, every locale included). mini ships no messages;
 * this loads the English ones for the rare errors our schemas do not word
 * themselves. Import it (for its effect) wherever values are parsed.
 */
z.config(en());
