/**
 * The simulated WPU's tables, from the recorded frames of pommi/python-itho-wpu#2
 * (docs/protocols/itho-wpu.md §4.3) and made-up but plausible values for the rest. Nothing here comes
 * from src/devices/: widths and checksums are this file's own.
 */

/** Recorded node-id reply: HCCP, WPU (13), product version 58, list version 31. */
export const NODEID_REPLY = hexBytes('82 90 E0 01 07 00 01 00 0D 3A 1F 00 1F');
/** Recorded 92-code datatype reply. */
export const DATATYPE_REPLY = hexBytes(
  '82 A4 00 01 5C 92 92 92 92 92 92 92 92 92 92 92 92 92 92 0C 0C 0C 10 10 0C 00 00 00 10 10 0C 0C 0C 0C 0C 10 92 92 00 00 00 00 92 92 00 00 10 0C 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 00 20 00 00 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 00 00 79',
);
/** The recorded start of a datalog payload (the first 13 fields; the issue cut the rest). */
export const DATALOG_RECORDED_START = hexBytes('FC 18 06 A4 11 5D 05 95 04 66 0F A8 0A 3B 04 45 03 50 09 A9 0B A8 00 96 00 00');

/** Width of each code the recorded datatype list uses (the simulator's own table). */
export const SIM_WIDTHS: Record<number, number> = { 0x00: 1, 0x0c: 1, 0x10: 2, 0x20: 4, 0x92: 2 };

export const LIST_VERSION = 31;
export const SERIAL = 1234567;

/**
 * The demo's 92 labels, one per datatype code, in order: [name, title, unit]. The first
 * twelve are the temperatures and pressure whose recorded values docs/protocols/itho-wpu.md §4.3 decodes.
 */
export const DEMO_LABELS: readonly [string, string, string | null][] = [
  ['T_OUT', 'buitentemperatuur', '°C'],
  ['T_BOILDWN', 'boilertemp onder', '°C'],
  ['T_BOILTOP', 'boilertemp boven', '°C'],
  ['T_EVAP', 'verdampertemp', '°C'],
  ['T_SUCT', 'zuiggastemp', '°C'],
  ['T_DISC', 'persgastemp', '°C'],
  ['T_COND', 'vloeistoftemp', '°C'],
  ['T_SOURCE_R', 'brontemp uit', '°C'],
  ['T_SOURCE_S', 'brontemp in', '°C'],
  ['T_CH_SUPP', 'cv aanvoertemp', '°C'],
  ['T_CH_RET', 'cv retourtemp', '°C'],
  ['P_SENS', 'druk sensor', 'bar'],
  ['OT_ROOM', 'ruimtetemp opentherm', '°C'],
  ['OT_ROOM_SP', 'ruimte setpoint opentherm', '°C'],
  ['OUT_CH', 'cv pomp', null],
  ['OUT_SRC', 'bron pomp', null],
  ['OUT_DHW', 'boilerpomp', null],
  ['COMP_FREQ', 'compressor frequentie', 'Hz'],
  ['FLOW', 'debiet', 'l/h'],
  ['OUT_ELEMENT', 'elektrisch element', null],
  ['STATE', 'status', null],
  ['SUBSTATE', 'substatus', null],
  ['ERROR', 'foutcode', null],
  ['PWM_CH', 'cv pomp sturing', '%'],
  ['PWM_SRC', 'bronpomp sturing', '%'],
  ['IN_FLOWSW', 'stromingsschakelaar', null],
  ['IN_PRESSW', 'drukschakelaar', null],
  ['IN_TARIFF', 'laag tarief', null],
  ['IN_DHW', 'warmwatervraag', null],
  ['IN_CH', 'cv vraag', null],
  ['COMP_STARTS_DAY', 'compressorstarts vandaag', null],
  ['T_CH_SP', 'cv setpoint', '°C'],
  ['T_DHW_SP', 'boiler setpoint', '°C'],
  ['MODE', 'bedrijfsmodus', null],
  ['COOLING', 'koeling', null],
  ['DHW_MODE', 'boilermodus', null],
  ['MANUAL', 'handbediening', null],
  ['T_DEW', 'dauwpunt', '°C'],
  ['T_ROOM_SP', 'ruimte setpoint', '°C'],
  ['ECO', 'eco stand', null],
  ['HOLIDAY', 'vakantie', null],
  ['COMP_POWER', 'compressor vermogen', 'W'],
  ['OUT_3WAY', 'driewegklep', null],
  ...Array.from({ length: 17 }, (_, i) => [`AN_${i + 1}`, `analoge waarde ${i + 1}`, null] as [string, string, null]),
  ['BLOCK', 'blokkering', null],
  ['RUNTIME_S', 'looptijd', 's'],
  ['DEFROST', 'ontdooien', null],
  ['ALARM', 'alarm', null],
  ...Array.from({ length: 26 }, (_, i) => [`FLAG_${i + 1}`, `vlag ${i + 1}`, null] as [string, string, null]),
  ['SPARE_1', 'reserve 1', null],
  ['SPARE_2', 'reserve 2', null],
];

/** Raw values of fields beyond the recorded start, by name (else 0, flags 0/1 alternating). */
export const DEMO_RAW: Record<string, number> = {
  OT_ROOM_SP: 2050,
  OUT_CH: 1,
  OUT_SRC: 1,
  OUT_DHW: 0,
  COMP_FREQ: 48,
  FLOW: 1150,
  STATE: 3,
  SUBSTATE: 2,
  PWM_CH: 65,
  PWM_SRC: 80,
  IN_FLOWSW: 1,
  COMP_STARTS_DAY: 4,
  T_CH_SP: 3000,
  T_DHW_SP: 5000,
  MODE: 1,
  T_DEW: 1120,
  T_ROOM_SP: 2000,
  COMP_POWER: 1420,
  RUNTIME_S: 123456,
};

/** Counters: operating hours and starts (counters_vN of the demo map). */
export const DEMO_COUNTERS: readonly [string, string, string, number][] = [
  ['CNT_COMP_HOURS', 'draaiuren compressor', 'uur', 12873],
  ['CNT_COMP_STARTS', 'compressorstarts', null as unknown as string, 5321],
  ['CNT_ELEMENT_HOURS', 'draaiuren element', 'uur', 37],
  ['CNT_CH_PUMP_HOURS', 'draaiuren cv pomp', 'uur', 20551],
  ['CNT_SRC_PUMP_HOURS', 'draaiuren bronpomp', 'uur', 13002],
  ['CNT_DHW_HOURS', 'uren warm water', 'uur', 2210],
];

/** Settings (parameterlijst): datatype, raw value and step (device units), min and max (scaled, as the map has them). */
export const DEMO_SETTINGS: readonly { id: number; name: string; title: string; unit: string | null; datatype: number; raw: number; min: number; max: number; step: number }[] = [
  { id: 1, name: 'CV_SP_MAX', title: 'maximale cv aanvoertemp', unit: '°C', datatype: 0x10, raw: 45, min: 20, max: 60, step: 1 },
  { id: 2, name: 'HYST_CH', title: 'hysterese cv', unit: 'K', datatype: 0x11, raw: 25, min: 0.5, max: 10, step: 5 },
  { id: 139, name: 'DHW_SP', title: 'boiler setpoint', unit: '°C', datatype: 0x10, raw: 48, min: 30, max: 60, step: 1 },
];

/** Manual operations (handbed): id → name, title, datatype, raw. */
export const DEMO_MANUAL: readonly { id: number; name: string; title: string; unit: string | null; datatype: number; raw: number }[] = [
  { id: 0, name: 'HAND_COMP', title: 'compressor handbediening', unit: null, datatype: 0x00, raw: 0 },
  { id: 37, name: 'HAND_CH_PUMP', title: 'cv pomp handbediening', unit: '%', datatype: 0x00, raw: 0 },
];

export function hexBytes(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
