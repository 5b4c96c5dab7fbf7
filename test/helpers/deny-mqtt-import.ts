/**
 * For `node --import <this file>` (through NODE_OPTIONS): registers module hooks under which
 * importing the `mqtt` package fails, so a test can prove a command never loads it.
 */
import { register } from 'node:module';

register(new URL('./deny-mqtt-hooks.js', import.meta.url));
