#!/usr/bin/env node
'use strict';
// Build step: empties dist/ first, so a moved or deleted source never leaves a stale compiled file behind.
require('node:fs').rmSync(require('node:path').join(__dirname, '..', 'dist'), { recursive: true, force: true });
