#!/usr/bin/env node
'use strict';
// Consume with ali-ons 3.12.0's push consumer (clustering mode, CONSUME_FROM_FIRST_OFFSET unless
// --from last). Collects deliveries until it has --expect distinct messages and no new delivery
// came for --idle-s (so extras show up), and it ran at least --min-run-s; fails when --timeout-s
// passes before --expect distinct messages arrived. --consumers K runs K consumers of the group in
// this process (instance names <instance>-0..K-1), for queue-split checks. Prints one JSON line:
//   {"received": [{"consumer", "topic", "body", "body_sha256", "body_len", "tags", "keys", "msg_id", "uniq_key", "queue_id",
//                  "offset", "reconsume_times", "commit_log_offset", "store_timestamp",
//                  "born_timestamp", "store_host", "born_host"}, ...],
//    "count", "distinct", "queue_ids": {"<consumer>": [..]}, "instances": [..]}
// every delivery is listed (duplicates included, "distinct" counts msg_id). msg_id is the
// broker's offset message id (store host + commit log offset); uniq_key is the UNIQ_KEY property
// when the producer set one. Plus "error" and a non-zero exit on failure.
// A line "ons_consume.js: started" goes to stderr once every consumer is ready.

const crypto = require('crypto');
const C = require('./ons_common');

const USAGE = `usage: ons_consume.js --namesrv HOST:PORT --topic T --group G --expect N
       [--expression 'a || b' | --sql 'a > 5'] [--timeout-s 60] [--idle-s 3] [--min-run-s 0]
       [--consumers 1] [--from first|last] [--instance NAME] [--verbose 0|1]`;

const args = C.parseArgs(Object.assign({}, C.COMMON_SPEC, {
  expect: { type: 'int', required: true },
  expression: { type: 'string', def: '*' },
  sql: { type: 'string', def: '' },
  'timeout-s': { type: 'float', def: 60 },
  'idle-s': { type: 'float', def: 3 },
  'min-run-s': { type: 'float', def: 0 },
  consumers: { type: 'int', def: 1 },
  from: { type: 'string', def: 'first' },
}), USAGE);
if (args.expect < 0 || args.consumers < 1 || ![ 'first', 'last' ].includes(args.from)) {
  process.stderr.write(USAGE + '\n');
  C.emit({ error: 'usage: --expect >= 0, --consumers >= 1, --from first|last' }, 2);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

async function main() {
  const lib = C.load();
  if (!lib) return;
  const { Consumer } = lib.ons;
  const base = args.instance || `ons-${process.pid}`;
  const instances = args.consumers === 1 ? [ base ] :
    Array.from({ length: args.consumers }, (_, k) => `${base}-${k}`);
  const received = [];
  const seen = new Set();
  const errors = [];
  let last = Date.now();
  const tStart = Date.now();
  const snapshot = () => {
    const qids = {};
    for (const r of received) {
      (qids[r.consumer] = qids[r.consumer] || new Set()).add(r.queue_id);
    }
    const queueIds = {};
    for (const k of Object.keys(qids).sort()) queueIds[k] = Array.from(qids[k]).sort((a, b) => a - b);
    return {
      received: received.slice(), count: received.length, distinct: seen.size,
      queue_ids: queueIds, instances, client_errors: errors.slice(-5),
    };
  };
  C.watchdog(args['timeout-s'] + 30, snapshot);

  C.log('group=%s instances=%s namesrv=%s topic=%s expression=%j expect=%d from=%s',
    args.group, instances.join(','), args.namesrv, args.topic, args.expression, args.expect, args.from);
  const consumers = instances.map((instance, k) => {
    const c = new Consumer({
      httpclient: lib.urllib,
      nameSrv: C.nameSrvList(args.namesrv), // set: no HTTP lookup of the name server address
      consumerGroup: args.group,
      instanceName: instance, // client id = <ip>@<instance>; ali-ons uses the pid for 'DEFAULT'
      consumeFromWhere: args.from === 'first' ? 'CONSUME_FROM_FIRST_OFFSET' : 'CONSUME_FROM_LAST_OFFSET',
      isBroadcast: false, // clustering: offsets live on the broker (RemoteBrokerOffsetStore)
      persistent: false, // (only matters for broadcasting: no local offset file)
      logger: C.makeLogger(args.verbose),
      ...C.credentials(args),
    });
    c.on('error', err => {
      errors.push(String(err && err.message || err).slice(0, 300));
      C.log('client error (%s): %s', instance, err && err.message || err);
    });
    // --sql subscribes with a SQL92 expression (the broker needs enablePropertyFilter=true).
    const expression = args.sql ? { expressionType: 'SQL92', subString: args.sql } : args.expression;
    c.subscribe(args.topic, expression, async msg => {
      const props = msg.properties || {};
      received.push({
        consumer: k,
        topic: msg.topic,
        body: msg.body ? msg.body.toString('utf8') : null,
        body_sha256: crypto.createHash('sha256').update(msg.body || Buffer.alloc(0)).digest('hex'),
        body_len: msg.body ? msg.body.length : 0,
        tags: msg.tags || null,
        keys: msg.keys || null,
        msg_id: msg.msgId,
        uniq_key: props.UNIQ_KEY || null,
        queue_id: msg.queueId,
        offset: msg.queueOffset,
        reconsume_times: msg.reconsumeTimes,
        commit_log_offset: msg.commitLogOffset,
        store_timestamp: msg.storeTimestamp,
        born_timestamp: msg.bornTimestamp,
        store_host: msg.storeHost,
        born_host: msg.bornHost,
        properties: props,
      });
      seen.add(msg.msgId);
      last = Date.now();
    });
    return c;
  });

  let error = null;
  try {
    await C.bounded(Promise.all(consumers.map(c => c.ready())), args['timeout-s'], 'consumer ready');
    C.log('started');
  } catch (err) {
    error = `consumer start failed: ${err.message}`;
  }
  last = Date.now();
  while (!error) {
    await sleep(100);
    const now = Date.now();
    if (seen.size >= args.expect && now - last >= args['idle-s'] * 1000 && now - tStart >= args['min-run-s'] * 1000) break;
    if (now - tStart >= args['timeout-s'] * 1000) {
      if (seen.size < args.expect) error = `timeout after ${args['timeout-s']}s: ${seen.size} of ${args.expect} distinct messages`;
      break;
    }
  }
  C.log('collected %d distinct (%d deliveries) in %ss; shutting down', seen.size, received.length, ((Date.now() - tStart) / 1000).toFixed(2));

  const out = snapshot();
  for (let k = 0; k < consumers.length; k++) {
    try {
      await C.bounded(consumers[k].close(), 15, `consumer ${instances[k]} close`);
    } catch (err) {
      out.shutdown_error = (out.shutdown_error ? out.shutdown_error + '; ' : '') + err.message;
      C.log('%s', err.message);
    }
  }
  if (error) {
    out.error = error;
    C.log('%s', error);
    C.emit(out, 1);
  }
  delete out.client_errors;
  C.emit(out, 0);
}

main().catch(err => {
  C.log('unexpected: %s', err && err.stack || err);
  C.emit({ error: `unexpected: ${err && err.message || err}` }, 1);
});
