#!/usr/bin/env node
import { register } from 'node:module';

register('../scripts/alias-hooks.mjs', import.meta.url);
await import('../dist/apps/cli/src/main.js');
