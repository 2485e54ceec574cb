import protobuf from 'protobufjs';
const root = protobuf.parse(`syntax = "proto3"; package t; message A { optional bytes data = 1; uint32 x = 2; repeated sint64 e = 3; B b = 4; oneof kind { B p = 5; C q = 6; } double d = 7; }
message B { uint32 y = 1; } message C {}`).root.resolveAll();
const A = root.lookupType('t.A');
const bytes = A.encode({ x: 0, e: [2 ** 54 - 2, -5, 3], q: {}, d: -0 }).finish();
console.log(bytes, bytes.constructor.name);
const m = A.decode(bytes) as any;
console.log(m, Object.keys(m), m.data, m.b, (m as any).kind, typeof m.e[0], m.e[0], m.e[0].constructor.name);
const m2 = A.decode(A.encode({data: new Uint8Array(0)}).finish()) as any;
console.log(m2, Object.keys(m2), m2.data, m2.data?.constructor.name);
