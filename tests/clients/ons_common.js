'use strict';
// Shared plumbing of ons_produce.js and ons_consume.js (ali-ons 3.12.0, pure JavaScript).
// - Loads ali-ons and urllib from .tools/node/node_modules (scripts/install-clients.sh), or from
//   $RMQ_CLIENTS_TOOLS/node/node_modules.
// - Prints exactly one JSON line on stdout; logs go to stderr.
// - A watchdog ends the process (exit 3, JSON with "error") when the hard deadline passes.

const path = require('path');
const util = require('util');
const fs = require('fs');

const REPO = path.resolve(__dirname, '..', '..');
const TOOLS = process.env.RMQ_CLIENTS_TOOLS || path.join(REPO, '.tools');
const NODE_MODULES = path.join(TOOLS, 'node', 'node_modules');
const PROG = path.basename(process.argv[1] || 'ons');

let printed = false;

function log(...args) {
  process.stderr.write(`${PROG}: ${util.format(...args)}\n`);
}

// Print the one JSON line (synchronously) and exit now.
function emit(obj, code) {
  if (!printed) {
    printed = true;
    const line = Buffer.from(JSON.stringify(obj) + '\n');
    for (let off = 0; off < line.length;) {
      try {
        off += fs.writeSync(1, line, off);
      } catch (err) {
        if (err.code !== 'EAGAIN') break;
      }
    }
  }
  process.exit(code);
}

function load() {
  try {
    return {
      ons: require(path.join(NODE_MODULES, 'ali-ons')),
      urllib: require(path.join(NODE_MODULES, 'urllib')),
    };
  } catch (err) {
    emit({ error: `cannot load ali-ons/urllib from ${NODE_MODULES} (${err.message}); run scripts/install-clients.sh` }, 2);
    return null;
  }
}

// Minimal flag parser: spec maps flag name -> { type: 'string'|'int'|'float', required, def }.
function parseArgs(spec, usage) {
  const out = {};
  for (const [name, s] of Object.entries(spec)) {
    if (s.def !== undefined) out[name] = s.def;
  }
  const argv = process.argv.slice(2);
  const fail = msg => {
    process.stderr.write(usage + '\n');
    emit({ error: `usage: ${msg}` }, 2);
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stderr.write(usage + '\n');
      process.exit(0);
    }
    if (!arg.startsWith('--')) fail(`unexpected argument ${arg}`);
    let value;
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const name = arg.slice(2);
    const s = spec[name];
    if (!s) fail(`unknown option ${arg}`);
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value`);
      value = argv[++i];
    }
    if (s.type === 'int') {
      if (!/^-?\d+$/.test(value)) fail(`option ${arg} needs an integer, got ${value}`);
      value = parseInt(value, 10);
    } else if (s.type === 'float') {
      if (!/^-?\d+(\.\d+)?$/.test(value)) fail(`option ${arg} needs a number, got ${value}`);
      value = parseFloat(value);
    }
    out[name] = value;
  }
  for (const [name, s] of Object.entries(spec)) {
    if (s.required && out[name] === undefined) fail(`missing --${name}`);
  }
  return out;
}

function watchdog(seconds, snapshot) {
  return setTimeout(() => {
    let obj;
    try {
      obj = snapshot();
    } catch (err) {
      obj = { snapshot_error: String(err) };
    }
    obj.error = `hard timeout after ${seconds}s`;
    log(obj.error);
    emit(obj, 3);
  }, seconds * 1000);
}

// Resolve with the promise's result, or reject after `seconds`.
function bounded(promise, seconds, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds}s`)), seconds * 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ali-ons calls logger.info/warn/error/debug; send them to stderr (info/debug with --verbose).
function makeLogger(verbose) {
  const w = (level, args) => process.stderr.write(`${PROG}: [ali-ons ${level}] ${util.format(...args)}\n`);
  return {
    info: (...a) => verbose && w('info', a),
    debug: (...a) => verbose && w('debug', a),
    warn: (...a) => w('warn', a),
    error: (...a) => w('error', a),
  };
}

function nameSrvList(s) {
  return s.split(/[;,]/).map(x => x.trim()).filter(Boolean);
}

const COMMON_SPEC = {
  namesrv: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  group: { type: 'string', required: true },
  instance: { type: 'string' },
  verbose: { type: 'int', def: 0 },
  // ACL account: ali-ons signs every request (and sends OnsChannel ALIYUN) when both are set.
  'access-key': { type: 'string' },
  'secret-key': { type: 'string' },
};

// The client options that make ali-ons sign its requests, or none.
function credentials(args) {
  return args['access-key'] ? { accessKeyId: args['access-key'], accessKeySecret: args['secret-key'] || '' } : {};
}

module.exports = { log, emit, load, parseArgs, watchdog, bounded, makeLogger, nameSrvList, credentials, COMMON_SPEC };
