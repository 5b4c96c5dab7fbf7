// ESLint (flat config) for src/, scripts/ and test/: the recommended rules of ESLint and
// typescript-eslint, without type information (npm test runs this before every build: kept
// cheap). Formatting is Prettier's (.prettierrc.json), so no stylistic rules here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig({ ignores: ['dist/', 'node_modules/'] }, js.configs.recommended, tseslint.configs.recommended, {
  rules: {
    // A leading _ marks a parameter or binding kept for its position or to leave it out of a rest (`{ lines: _, ...r }`).
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    // The few `any`s sit at untyped edges (zod's internals, a driver's options parameter, the fuzz harness); `unknown` is the habit elsewhere.
    '@typescript-eslint/no-explicit-any': 'off',
    // Device data and MQTT topics are matched for NUL and control bytes on purpose.
    'no-control-regex': 'off',
    // Errors re-word their cause in one clear line (errorMessage(err) in the message); a `cause` would print it twice.
    'preserve-caught-error': 'off',
  },
});
