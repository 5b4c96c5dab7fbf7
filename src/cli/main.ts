#!/usr/bin/env node
/**
 * Entry point. Only young-generation.js is imported statically: it must take effect before
 * the CLI's modules are loaded and compiled, which is where the young generation used to
 * grow (README, run-memory). The CLI itself is program.ts.
 */
import './young-generation.js';

await import('./program.js');
