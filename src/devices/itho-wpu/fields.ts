/**
 * Field metadata of the Itho WPU driver (docs/fields.md). Every field's key comes from the
 * parameter map (datalog labels, counter names), so none is known in advance: each is
 * described by its name like any other field. The map's `unit` column is not used yet (units
 * there are words such as `uur` or `°C`, and announcing one would change what Home Assistant
 * shows for these entities).
 */
import { byName } from '../fields.js';
import type { DriverFields } from '../types.js';

export const ithoWpuFields: DriverFields = {
  manufacturer: 'Itho Daalderop',
  measurements: {
    itho_wpu: { fields: {}, patterns: [[/./, byName]] },
    itho_wpu_counters: { fields: {}, patterns: [[/./, byName]] },
  },
};
