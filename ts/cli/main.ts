#!/usr/bin/env node
/**
 * The netflowgen command line: one subcommand per pipeline stage. Each command is a thin shell over
 * library functions that are importable as `import { ... } from 'netflowgen'`.
 */
import { hideBin } from 'yargs/helpers';
import { netflowgenCli } from './app.js';

await netflowgenCli(hideBin(process.argv)).parseAsync();
