/**
 * Imported first by `npm start`: module imports are evaluated before the importing
 * module's body, so settings the SDK reads while loading must be made here.
 */
// The development machine may run Node 20 (the Lambdas run 24); the SDK's nag is noise offline.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
// One INFO line per job part the sender handles (users, devices, outcomes by reason) shows
// what each send did; `--quiet` keeps warnings and errors only. POWERTOOLS_LOG_LEVEL wins.
process.env.POWERTOOLS_LOG_LEVEL ??= process.argv.includes('--quiet') ? 'WARN' : 'INFO';
