/**
 * Loaded before anything else (`--import`) by the platform processes the e2e suites start, and by vitest
 * (setupFiles) in its workers: with OPENAPI_CHECK_DIR set, every HTTP server the kernel makes in this process
 * validates its answers against its OpenAPI document (responseCheck.ts).
 */
import { onHttpServerCreated } from '@commerce/kernel';
import { CHECK_DIR_ENV, installResponseCheck } from './responseCheck.js';

const dir = process.env[CHECK_DIR_ENV];
if (dir) onHttpServerCreated((app, service) => installResponseCheck(app, service, dir));
