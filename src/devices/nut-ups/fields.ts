/**
 * Field metadata of the nut-ups driver (docs/fields.md), from its variable table (tables.ts):
 * each standard variable by its unit suffix, settings and ratings as `info`, every `ups.status`
 * word as a flag. Other numeric variables a UPS reports (names made from NUT's) are not known
 * in advance and fall to the naming convention.
 */
import { byName, flag, info, text } from '../fields.js';
import type { DriverFields, FieldSpec, FlagMeaning } from '../types.js';
import { STATUS_FLAGS, VARIABLES } from './tables.js';

const MEANINGS: Readonly<Record<string, FlagMeaning>> = {
  on_line: 'power',
  low_battery: 'battery_low',
  charging: 'battery_charging',
  replace_battery: 'problem',
  overload: 'problem',
  forced_shutdown: 'problem',
  alarm_active: 'problem',
};

function variable(field: string, type: string): FieldSpec {
  if (type === 'string') return text();
  if (field === 'battery_charge_pct') return byName(field, { quantity: 'battery', min: 0, max: 100 });
  const spec = byName(field, field.endsWith('_pct') && field !== 'ups_load_pct' ? { min: 0, max: 100 } : {});
  // Thresholds, transfer points, delays, timers and ratings are the UPS's settings.
  if (/_(low|warning)_(pct|s)$|^input_transfer_|^ups_(delay|timer)_|_nominal/.test(field)) return info(spec);
  return spec;
}

export const nutUpsFields: DriverFields = {
  measurements: {
    ups: {
      series: [],
      fields: {
        ...Object.fromEntries(VARIABLES.map((v) => [v.field, variable(v.field, v.type)])),
        // ups.status as sent (`OL CHRG`), and one flag per word.
        status: text('state'),
        ...Object.fromEntries(STATUS_FLAGS.map((f) => [f.field, flag(MEANINGS[f.field])])),
      },
    },
  },
};
