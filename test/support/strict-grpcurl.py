"""
A strict stand-in for grpcurl, for tests: everything it knows about the server comes from
server reflection, and every file reflection serves is built into an empty protobuf
DescriptorPool (Debian's python3-protobuf, C++ implementation), which rejects what grpcurl
rejects: undeclared dependencies, unresolvable types, bad map entries.

  strict-grpcurl.py ADDR [-H 'name: value'] list
  strict-grpcurl.py ADDR [-H ...] describe SYMBOL
  strict-grpcurl.py ADDR [-H ...] -d JSON SERVICE/METHOD
  strict-grpcurl.py ADDR all SYMBOL...     # build the files of every service and SYMBOL; JSON report

Requests and responses are JSON (json_format), as grpcurl's are. Exit 0 on success; a failed
call prints `ERROR: CODE: details` and exits 1; a descriptor that does not build exits 2.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

REFLECTION = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo'


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(buf):
    """(number, value) of each field; length-delimited values as bytes."""
    i = 0
    while i < len(buf):
        tag, i = varint(buf, i)
        wire = tag & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError('unexpected wire type %d' % wire)
        yield tag >> 3, value


def encode_string_field(number, text):
    data = text.encode()
    out = bytearray([(number << 3) | 2])
    n = len(data)
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + data


class Reflection:
    """One reflection stream; requests are hand-encoded (three string fields), answers parsed
    by hand, so nothing about the protocol is taken from anywhere but the wire."""

    def __init__(self, channel, metadata):
        self.call = channel.stream_stream(REFLECTION, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        self.metadata = metadata
        self.pool = descriptor_pool.DescriptorPool()
        self.files = []

    def ask(self, number, text):
        [answer] = list(self.call(iter([encode_string_field(number, text)]), metadata=self.metadata, timeout=10))
        out = {}
        for n, v in fields(answer):
            if n == 4:  # file_descriptor_response
                out['files'] = [fd for m, fd in fields(v) if m == 1]
            elif n == 6:  # list_services_response
                out['services'] = [dict(fields(s))[1].decode() for m, s in fields(v) if m == 1]
            elif n == 7:  # error_response
                e = dict(fields(v))
                out['error'] = '%s: %s' % (e.get(1, 0), e.get(2, b'').decode())
        return out

    def list_services(self):
        return self.ask(7, '*')['services']

    def load_symbol(self, symbol):
        """Builds the file defining `symbol` (and its dependencies) into the pool."""
        answer = self.ask(4, symbol)
        if 'error' in answer:
            raise LookupError('%s: %s' % (symbol, answer['error']))
        for raw in answer['files']:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            try:
                self.pool.FindFileByName(proto.name)
                continue
            except KeyError:
                pass
            try:
                self.pool.AddSerializedFile(raw)
            except Exception as err:  # noqa: BLE001 - whatever the pool says is the finding
                print('BUILD FAILED %s: %s' % (proto.name, err), file=sys.stderr)
                sys.exit(2)
            self.files.append(proto.name)


def describe_service(pool, name):
    svc = pool.FindServiceByName(name)
    return {
        'service': svc.full_name,
        'file': svc.file.name,
        'methods': [
            {
                'name': m.name,
                'input': m.input_type.full_name,
                'output': m.output_type.full_name,
                'client_streaming': getattr(m, 'client_streaming', False),
                'server_streaming': getattr(m, 'server_streaming', False),
            }
            for m in svc.methods
        ],
    }


def describe_message(pool, name):
    msg = pool.FindMessageTypeByName(name)
    return {
        'message': msg.full_name,
        'fields': [
            {
                'name': f.name,
                'json_name': f.json_name,
                'number': f.number,
                'type': f.message_type.full_name if f.message_type else (f.enum_type.full_name if f.enum_type else f.type),
                'map_entry': bool(f.message_type and f.message_type.GetOptions().map_entry),
            }
            for f in msg.fields
        ],
    }


def main(argv):
    addr, args = argv[0], argv[1:]
    metadata = []
    while args and args[0] == '-H':
        name, value = args[1].split(':', 1)
        metadata.append((name.strip().lower(), value.strip()))
        args = args[2:]
    channel = grpc.insecure_channel(addr)
    refl = Reflection(channel, metadata)
    if args[0] == 'list':
        for name in sorted(refl.list_services()):
            print(name)
        return 0
    if args[0] == 'describe':
        symbol = args[1]
        refl.load_symbol(symbol)
        try:
            print(json.dumps(describe_service(refl.pool, symbol)))
        except KeyError:
            print(json.dumps(describe_message(refl.pool, symbol)))
        return 0
    if args[0] == 'all':
        services = refl.list_services()
        for name in services + args[1:]:
            refl.load_symbol(name)
        described = [describe_service(refl.pool, s) for s in services]
        messages = sorted({m[k] for d in described for m in d['methods'] for k in ('input', 'output')} | set(args[1:]))
        print(json.dumps({
            'services': described,
            'messages': [describe_message(refl.pool, m) for m in messages if not m.endswith('Service')],
            'files': refl.files,
        }))
        return 0
    if args[0] == '-d':
        body, method = args[1], args[2]
        service, name = method.replace('/', '.').rsplit('.', 1)
        refl.load_symbol(service)
        m = refl.pool.FindServiceByName(service).methods_by_name[name]
        factory = message_factory.MessageFactory(refl.pool)
        req_cls, res_cls = factory.GetPrototype(m.input_type), factory.GetPrototype(m.output_type)
        request = json_format.Parse(body, req_cls(), descriptor_pool=refl.pool)
        call = channel.unary_unary('/%s/%s' % (service, name), request_serializer=lambda r: r.SerializeToString(), response_deserializer=res_cls.FromString)
        try:
            response = call(request, metadata=metadata, timeout=10)
        except grpc.RpcError as err:
            print('ERROR: %s: %s' % (err.code().name, err.details()))
            return 1
        print(json_format.MessageToJson(response, descriptor_pool=refl.pool))
        return 0
    print('unknown command %r' % args[0], file=sys.stderr)
    return 64


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
