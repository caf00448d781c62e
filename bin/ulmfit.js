#!/usr/bin/env node
// The `ulmfit` command. The CLI itself is TypeScript compiled to dist/.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
