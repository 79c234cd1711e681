#!/usr/bin/env node
'use strict';
// Send N messages one after another with ali-ons 3.12.0 (Alibaba's pure-JavaScript client).
// Message i has key <key-prefix><i>, tag tags[i % len(tags)] (none when --tags is empty) and body
// "msg-<i>" padded with '.' to --body-size bytes. Prints one JSON line:
//   {"sent": N, "results": [{"i", "msg_id", "offset", "status", "queue_id", "broker"}, ...]}
// plus "error" (and a non-zero exit) on failure. msg_id is the broker's msgId from the
// SEND_MESSAGE_V2 response header (ali-ons sets no UNIQ_KEY); offset is the queue offset.
// ali-ons does not create topics: a topic unknown to the name server fails with TOPIC_NOT_EXIST.

const C = require('./ons_common');

const USAGE = `usage: ons_produce.js --namesrv HOST:PORT --topic T --group G --count N
       [--tags a,b,c] [--key-prefix k] [--body-size B] [--instance NAME]
       [--send-timeout-ms 3000] [--timeout-s 60] [--verbose 0|1]`;

const args = C.parseArgs(Object.assign({}, C.COMMON_SPEC, {
  count: { type: 'int', required: true },
  tags: { type: 'string', def: '' },
  'key-prefix': { type: 'string', def: 'key-' },
  'body-size': { type: 'int', def: 0 },
  'send-timeout-ms': { type: 'int', def: 3000 },
  'timeout-s': { type: 'float', def: 60 },
}), USAGE);

function bodyOf(i, size) {
  let b = `msg-${i}`;
  if (b.length < size) b += '.'.repeat(size - b.length);
  return b;
}

async function main() {
  const lib = C.load();
  if (!lib) return;
  const { Producer, Message } = lib.ons;
  const tags = args.tags ? args.tags.split(',').filter(Boolean) : [];
  const instance = args.instance || `ons-${process.pid}`;
  const results = [];
  const errors = [];
  const snapshot = () => ({ sent: results.length, results: results.slice(), client_errors: errors.slice(-5) });
  C.watchdog(args['timeout-s'], snapshot);

  C.log('group=%s instance=%s namesrv=%s topic=%s count=%d', args.group, instance, args.namesrv, args.topic, args.count);
  const producer = new Producer({
    httpclient: lib.urllib,
    nameSrv: C.nameSrvList(args.namesrv), // set: no HTTP lookup of the name server address
    producerGroup: args.group,
    instanceName: instance,
    sendMsgTimeout: args['send-timeout-ms'],
    logger: C.makeLogger(args.verbose),
    ...C.credentials(args),
  });
  producer.on('error', err => {
    errors.push(String(err && err.message || err).slice(0, 300));
    C.log('client error: %s', err && err.message || err);
  });

  const started = Date.now();
  let error = null;
  try {
    await C.bounded(producer.ready(), args['timeout-s'], 'producer ready');
  } catch (err) {
    error = `producer start failed: ${err.message}`;
  }
  for (let i = 0; !error && i < args.count; i++) {
    const msg = new Message(args.topic, tags.length ? tags[i % tags.length] : null, bodyOf(i, args['body-size']));
    if (!tags.length) delete msg.properties.TAGS; // else it would be sent as the string "null"
    msg.keys = [ `${args['key-prefix']}${i}` ];
    const t0 = Date.now();
    try {
      const r = await producer.send(msg);
      results.push({
        i,
        msg_id: r.msgId,
        offset: r.queueOffset,
        status: r.sendStatus,
        queue_id: r.messageQueue ? Number(r.messageQueue.queueId) : null,
        broker: r.messageQueue && r.messageQueue.brokerName,
      });
    } catch (err) {
      error = `send ${i} failed after ${((Date.now() - t0) / 1000).toFixed(2)}s: ${err.name}: ${err.message}`;
    }
  }
  C.log('sent %d/%d in %ss', results.length, args.count, ((Date.now() - started) / 1000).toFixed(2));

  const out = snapshot();
  try {
    await C.bounded(producer.close(), 10, 'producer close');
  } catch (err) {
    out.shutdown_error = err.message;
    C.log('%s', err.message);
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
