// Validates prometheus-operator objects (PodMonitor, ServiceMonitor) against the schemas of
// @kubernetes-models/prometheus-operator (installed by scripts/install-k8s-tools.sh).
// Input on stdin: a JSON array of objects. Prints one line per problem; exits 1 if any.
"use strict";
const path = require("path");
const models = path.join(__dirname, "..", ".tools", "k8s-models", "node_modules",
  "@kubernetes-models", "prometheus-operator", "monitoring.coreos.com", "v1");
const kinds = {
  PodMonitor: require(path.join(models, "PodMonitor")).PodMonitor,
  ServiceMonitor: require(path.join(models, "ServiceMonitor")).ServiceMonitor,
};
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  let failed = false;
  for (const doc of JSON.parse(input)) {
    const Kind = kinds[doc.kind];
    const name = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
    if (!Kind) {
      console.log(`ERROR ${name}: no schema for kind ${doc.kind}`);
      failed = true;
      continue;
    }
    try {
      new Kind(doc).validate();
      console.log(`OK ${name}`);
    } catch (error) {
      console.log(`ERROR ${name}: ${error.message}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
});
