import { z } from 'zod';
import { vscpSchema } from '../vscp/config.js';
import { checkOrder, DAY_MS, durationMs } from './bounds.js';

/** One MQTT topic level (no wildcards, no separators): prefixes and client ids are built from these. */
const TOPIC_PATH = /^[^#+\s]+$/;

export const mqttTlsSchema = z
  .strictObject({
    ca: z.string().min(1).optional().describe('CA certificate (PEM file, relative to the config file) to trust instead of the system CAs'),
    cert: z.string().min(1).optional().describe('Client certificate (PEM file) for brokers that authenticate clients by certificate'),
    key: z.string().min(1).optional().describe('Private key of the client certificate (PEM file)'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the broker certificate (turn off only for a self-signed test broker)'),
  })
  .describe('TLS settings for mqtts:// URLs');

export const mqttCompatibilitySchema = z
  .strictObject({
    mode: z.enum(['off', 'powerwalker']).default('off').describe('powerwalker: also publish the original PowerWalker mqtt.py topics and accept its outlet commands'),
    prefix: z.string().regex(TOPIC_PATH, 'no spaces, # or +').default('powerwalker').describe("The original script's cfg.mqtt['prefix']"),
    pdu: z.string().min(1).optional().describe('Device whose points fill <prefix>/pdu/...; default the one powerwalker-pdu device'),
    ats: z.string().min(1).optional().describe('Device whose points fill <prefix>/ats/...; default the one powerwalker-ats device'),
  })
  .default({ mode: 'off', prefix: 'powerwalker' });

export const mqttSchema = z
  .strictObject({
    url: z.url({ protocol: /^mqtts?$/ }).describe('Broker URL: mqtt://host:1883 or mqtts://host:8883'),
    username: z.string().optional().describe('Use ${VAR} from the environment'),
    password: z.string().optional().describe('Use ${VAR} from the environment'),
    clientId: z.string().regex(TOPIC_PATH, 'no spaces, # or +').optional().describe('MQTT client id (default wattline-<site or host name>); also names the compatibility availability topic'),
    topicPrefix: z.string().regex(TOPIC_PATH, 'no spaces, # or +').default('wattline').describe('State topics are <topicPrefix>/<device>/<series>'),
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(0)
      .describe('QoS of published messages (commands are subscribed with QoS 1)'),
    retain: z.boolean().default(true).describe('Retain state messages, so a subscriber sees the last value at once'),
    keepaliveS: z.int().min(5).max(65_535).default(60).describe('MQTT keepalive, in s'),
    reconnectMinMs: durationMs(100, DAY_MS).default(1000).describe('First wait before reconnecting, in ms (doubles up to reconnectMaxMs)'),
    reconnectMaxMs: durationMs(100, DAY_MS).default(60_000).describe('Longest wait between reconnects, in ms'),
    batchWindowMs: z
      .int()
      .min(0)
      .max(60_000)
      .default(2000)
      .describe(
        'Readings are published in batches: the first of a batch waits this long (ms) for the others, then all go out in one pass and one socket write (fewer, larger batches cost less CPU). Every reading is still published, in order; command results go out at once',
      ),
    queueSize: z.int().min(10).max(1_000_000).default(10_000).describe('Most messages waiting for the broker (latest per topic); beyond it the oldest are dropped and counted'),
    commands: z.boolean().default(true).describe('Accept control commands (outlets, set-points) over MQTT; each device still allows only what its control config allows'),
    discovery: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Publish Home Assistant MQTT discovery configs'),
        prefix: z.string().regex(TOPIC_PATH, 'no spaces, # or +').default('homeassistant').describe("Home Assistant's discovery prefix"),
      })
      .default({ enabled: true, prefix: 'homeassistant' }),
    tls: mqttTlsSchema.optional(),
    compatibility: mqttCompatibilitySchema,
    vscp: vscpSchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.tls && !m.url.startsWith('mqtts:')) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls settings need an mqtts:// url' });
    checkOrder(m, ctx, 'reconnectMinMs', 'reconnectMaxMs');
  })
  .describe('MQTT output (live state, Home Assistant discovery, commands); best effort beside InfluxDB');

export type MqttConfig = z.infer<typeof mqttSchema>;
