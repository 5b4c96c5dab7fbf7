/** Field metadata of the blueprint driver (docs/fields.md): every field its points can carry. */
import { named } from '../fields.js';
import type { DriverFields } from '../types.js';
import { MEASUREMENT } from './points.js';
import { REPLY_KEYS } from './tables.js';

export const blueprintFields: DriverFields = {
  manufacturer: 'Blueprint',
  measurements: {
    [MEASUREMENT]: { series: [], fields: named(Object.values(REPLY_KEYS)) },
  },
};
