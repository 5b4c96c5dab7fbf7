/**
 * Options of the nut-ups driver (the device entry's `options:`): one strict schema, the
 * defaults and their units here and nowhere else. Secrets come from the
 * environment through the config's `${VAR}` references (README "Configuration").
 */
import { z } from 'zod';

/** upsd's IANA-registered port (nut-names / upsd.conf(5)). */
export const DEFAULT_NUT_PORT = 3493;

export const nutUpsOptionsSchema = z
  .strictObject({
    host: z.string().trim().min(1).max(253).default('127.0.0.1').describe('Host name or address of upsd'),
    port: z.int().min(1).max(65535).default(DEFAULT_NUT_PORT).describe('TCP port of upsd'),
    ups: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .regex(/^[^\s"\\]+$/, 'a UPS name has no spaces, quotes or backslashes (as in ups.conf)')
      .describe('Name of the UPS as upsd knows it (the [section] of ups.conf; `upsc -l` lists them)'),
    username: z.string().min(1).max(256).optional().describe('upsd.users user to log in as (e.g. ${NUT_USERNAME}); reading needs no login on most installs'),
    password: z.string().min(1).max(256).optional().describe('Password of that user (e.g. ${NUT_PASSWORD}); never logged'),
    timeoutMs: z.int().min(50).max(60_000).default(3000).describe('How long to wait for each upsd reply (login, LIST VAR), ms'),
    commands: z
      .strictObject({
        allow: z
          .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'an instant command name as NUT lists it (e.g. test.battery.start)'))
          .max(64)
          .default([])
          .describe('Instant commands `wattline ups <device> cmd` may send (e.g. [test.battery.start, beeper.disable]); none by default'),
      })
      .default({ allow: [] })
      .describe('Instant commands (INSTCMD); upsd also needs username/password of an upsd.users user with instcmds'),
    tls: z
      .strictObject({
        mode: z
          .enum(['off', 'starttls'])
          .default('off')
          .describe('off: plain TCP; starttls: send STARTTLS right after connecting and talk TLS from then on (upsd needs CERTFILE in upsd.conf); never falls back to plaintext'),
        ca: z.string().trim().min(1).max(4096).optional().describe('Path to a PEM file with the CA (or the self-signed upsd certificate) to trust; default the system CAs'),
        rejectUnauthorized: z.boolean().default(true).describe('Refuse a upsd certificate that is not trusted or does not match the name (false only for testing)'),
        servername: z.string().trim().min(1).max(253).optional().describe("Name upsd's certificate must carry (and SNI); default the host, unless host is an IP address"),
      })
      .default({ mode: 'off', rejectUnauthorized: true })
      .describe('TLS to upsd (STARTTLS, NUT 2.8)'),
    info: z.enum(['tags', 'none']).default('tags').describe('tags: maker, model and serial (read once per connection) become the tags mfr, model, serial; none: they are only logged'),
  })
  .superRefine((o, ctx) => {
    if (o.password !== undefined && o.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
  })
  .describe('A UPS served by Network UPS Tools (upsd text protocol over TCP)');

export type NutUpsOptions = z.output<typeof nutUpsOptionsSchema>;
