// Shared by every project: see vitest.shared.ts at the repository root.
export { default } from '../../vitest.shared.js';
