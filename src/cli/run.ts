// Runs the CLI as a process (used by tests through tsx and by bin/vmcrypt.js's fallback).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
