import { type Log } from '../../application/ports/system.port.js';
import { type RequestLimits } from './schemas/common.schema.js';

export const HTTP_SETTINGS = Symbol('HTTP_SETTINGS');

export interface HttpSettings {
  readonly bodyLimitBytes: number;
  readonly limits: RequestLimits;
  readonly log: Log;
}
