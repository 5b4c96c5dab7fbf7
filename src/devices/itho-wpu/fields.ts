/**
 * Field metadata of the Itho WPU driver (docs/fields.md). Every field's key comes from the
 * parameter map (datalog labels, counter names), so none is known in advance: each is
 * described by its name like any other field, except the datalog's `t_…` labels: temperatures
 * and set-points in °C (docs/protocols/itho-wpu.md §4; `t_source_s` is the source supply, not seconds, which
 * the unit-suffix convention would make of it). The map's `unit` column is not used yet (units
 * there are words such as `uur` or `°C`).
 */
import { byName } from '../fields.js';
import type { DriverFields, FieldSpec } from '../types.js';

const TEMPERATURE: FieldSpec = { quantity: 'temperature', unit: '°C', kind: 'gauge' };

export const ithoWpuFields: DriverFields = {
  manufacturer: 'Itho Daalderop',
  measurements: {
    itho_wpu: {
      fields: {},
      patterns: [
        [/^t_/, TEMPERATURE],
        [/./, byName],
      ],
    },
    itho_wpu_counters: { fields: {}, patterns: [[/./, byName]] },
  },
};
