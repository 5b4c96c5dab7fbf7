/** The wattline CLI: every verb on one commander program (main.ts loads this). */
import { youngGenerationMayGrow } from './young-generation.js';
import { compilersBack, heapGrowsFreely } from './daemon-v8.js';
import { Command, Option } from 'commander';
import { packageVersion } from '../core/package.js';
import { registerBufferVerbs } from './buffer.js';
import { registerConfigVerbs } from './config.js';
import { registerControlVerbs } from './control.js';
import { registerDecodeVerb } from './decode.js';
import { registerDemoVerb } from './demo.js';
import { registerDeviceVerbs } from './devices.js';
import { registerDriverVerbs } from './drivers.js';
import { registerConvertPar } from './itho-convert-par.js';
import { registerRunVerbs } from './run.js';
import { registerReloadVerb } from './reload.js';
import { registerUpsVerbs } from './ups.js';
import { registerBackfillVerb } from './backfill.js';
import { registerCaptureVerbs } from './captures.js';
import { registerStatusVerb } from './status.js';

const program = new Command()
  .name('wattline')
  .description('Durable ingest worker for energy equipment: devices on cron schedules → SQLite outbox → InfluxDB')
  .version(packageVersion())
  .option('-c, --config <file>', 'config file (default: $WATTLINE_CONFIG, else ./wattline.yaml, else /etc/wattline/wattline.yaml)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
  .addOption(new Option('--log-format <format>', 'log format (default: pretty on a terminal, JSON otherwise)').choices(['pretty', 'json']))
  .option('-q, --quiet', 'only warnings and errors')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride((err) => {
    // Bad command-line input is exit 2, like a bad config; --help and --version are 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  })
  .addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 a device or InfluxDB failed, 2 bad configuration or command line.
Configuration: wattline.example.yaml; secrets as \${VAR} from the environment or .env beside it.
Without a config: \`wattline demo\` runs the built-in simulated devices.`,
  );

// Every verb but the daemons (`run`, `demo`) lets the young generation grow from here
// (young-generation.ts), compiles hot code to machine code again and lets the old generation
// grow as V8 decides (daemon-v8.ts).
program.hook('preAction', (_program, verb) => {
  if (verb.name() === 'run' || verb.name() === 'demo') return;
  youngGenerationMayGrow();
  compilersBack();
  heapGrowsFreely();
});

registerRunVerbs(program);
registerReloadVerb(program);
registerDemoVerb(program);
registerConfigVerbs(program);
registerDeviceVerbs(program);
registerDriverVerbs(program);
registerBufferVerbs(program);
registerDecodeVerb(program);
registerUpsVerbs(program);
const controlCommands = registerControlVerbs(program);
// `wattline itho convert-par` sits beside `wattline itho <device> <verb>` on the same command.
registerConvertPar(controlCommands.get('itho') ?? program.command('itho').description('Itho WPU heat pump tools'));
registerBackfillVerb(program);
registerCaptureVerbs(program);
registerStatusVerb(program);

await program.parseAsync(process.argv);
