#!/usr/bin/python3
"""gRPC C-core (Debian's python3-grpcio) as an xDS client for checkups' tests.

Reads one command per line on stdin and answers one JSON line on stdout:
  who TARGET [HASH_KEY]       -> {"ok": "backend-name"} or {"code": "UNAVAILABLE", "ms": 12.3}
  spread TARGET N [HASH_KEY]  -> {"counts": {"a": 7, "b": 3}} (errors counted under "!CODE")
  connect TARGET              -> {"ready": true} once the channel is READY (try_to_connect)
  version                     -> {"grpc": "1.51.1"}
Channels are `xds:///TARGET`, kept open across commands (the bootstrap comes from
GRPC_XDS_BOOTSTRAP_CONFIG). The backends' method returns its name as raw bytes.
"""
import json
import sys
import time

import grpc

METHOD = "/checkups.test.Backend/Who"
channels = {}


def channel(target):
    if target not in channels:
        channels[target] = grpc.insecure_channel("xds:///" + target)
    return channels[target]


def connect(target):
    try:
        grpc.channel_ready_future(channel(target)).result(timeout=10)
        return {"ready": True}
    except grpc.FutureTimeoutError:
        return {"ready": False}


def call(target, key):
    stub = channel(target).unary_unary(METHOD)
    metadata = [("x-hash-key", key)] if key else None
    started = time.monotonic()
    try:
        return {"ok": stub(b"", timeout=10, metadata=metadata).decode()}
    except grpc.RpcError as err:
        return {"code": err.code().name, "details": err.details(), "ms": (time.monotonic() - started) * 1000}


def main():
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "who":
            out = call(words[1], words[2] if len(words) > 2 else None)
        elif words[0] == "spread":
            counts = {}
            for _ in range(int(words[2])):
                r = call(words[1], words[3] if len(words) > 3 else None)
                name = r.get("ok") or "!" + r["code"]
                counts[name] = counts.get(name, 0) + 1
            out = {"counts": counts}
        elif words[0] == "connect":
            out = connect(words[1])
        elif words[0] == "version":
            out = {"grpc": grpc.__version__}
        else:
            out = {"error": "unknown command " + words[0]}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
