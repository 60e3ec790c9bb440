#!/usr/bin/env node
/// <reference types="node" />
import { main } from './main.js'

// The entry point only: everything testable lives in main.ts.
process.exitCode = await main(process.argv.slice(2))
