export * from './load-config.js';
export { z } from 'zod';
