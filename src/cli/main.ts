#!/usr/bin/env node
/**
 * Entry point. Only young-generation.js and daemon-v8.js are imported statically: they must
 * take effect before the CLI's modules are loaded and compiled, which is where the young
 * generation used to grow (README, run-memory) and where V8 starts compiling. The CLI itself
 * is program.ts.
 */
import './young-generation.js';
import './daemon-v8.js';

await import('./program.js');
