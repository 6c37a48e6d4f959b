import path from 'node:path';
import { REPO_ROOT } from '@seqlab/tools';

/**
 * The sentence vectors of SST-2's rows (`embeddingCache`), shared by every recipe that fits a
 * use or hybrid kind on them, so the hour of USE-lite embedding is paid once. Under runs/ (git-ignored).
 */
export const SST2_USE_CACHE = path.join(REPO_ROOT, 'runs', 'cache', 'use');
