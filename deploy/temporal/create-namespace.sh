#!/bin/sh
# One-shot (temporalio/admin-tools): waits for the Temporal server, then creates the namespace the
# ticketing processes use if it is missing. (The processes register their search attributes
# themselves at start-up.)
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
address="${TEMPORAL_ADDRESS:-temporal:7233}"
tries=0
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "Temporal at $address is not healthy after 60 tries"; exit 1; }
  sleep 2
done
if temporal operator namespace describe --namespace "$namespace" --address "$address" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  temporal operator namespace create --namespace "$namespace" --retention 72h --address "$address"
  echo "namespace $namespace created"
fi
