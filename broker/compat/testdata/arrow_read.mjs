// arrow_read.mjs [FILE] reads one Arrow IPC stream with the npm apache-arrow package, from FILE or from
// standard input, and prints what it understood as JSON lines, each as soon as it has read it:
//
//	{"schema": [FIELD, ...]}       the stream's schema, before any batch
//	{"rows": [[VALUE, ...], ...]}  one line per record batch
//	{"end": true}                  the end of the stream
//
// A FIELD is {"name": NAME, "type": TYPE, "nullable": BOOL}, where TYPE is this script's rendering of the
// Arrow type apache-arrow decoded (Int32, Decimal(38, 4), Timestamp(MILLISECOND, UTC), List<item: Int32>,
// ...), nested fields marked " not null" where they are not nullable. VALUEs are rendered from
// apache-arrow's own accessors, typed by the schema: 64-bit integers and decimals as exact strings, binary
// as hex, dates as YYYY-MM-DD, timestamps as ISO instants, TIME as milliseconds since midnight,
// non-finite doubles as strings, maps as [key, value] pairs in stream order, structs as objects.
import { createReadStream } from 'node:fs';
import { RecordBatchReader, Type, DateUnit, TimeUnit } from 'apache-arrow';

function typeString(t) {
  switch (t.typeId) {
    case Type.Bool: return 'Bool';
    case Type.Int: return `${t.isSigned ? 'Int' : 'Uint'}${t.bitWidth}`;
    case Type.Float: return ['Float16', 'Float32', 'Float64'][t.precision];
    case Type.Decimal: return `Decimal(${t.precision}, ${t.scale})`;
    case Type.Utf8: return 'Utf8';
    case Type.Binary: return 'Binary';
    case Type.Date: return `Date(${DateUnit[t.unit]})`;
    case Type.Time: return `Time${t.bitWidth}(${TimeUnit[t.unit]})`;
    case Type.Timestamp: return `Timestamp(${TimeUnit[t.unit]}, ${t.timezone ?? 'no zone'})`;
    case Type.List: return `List<${fieldString(t.children[0])}>`;
    case Type.Map: {
      const [key, value] = t.children[0].type.children;
      return `Map<${fieldString(key)}, ${fieldString(value)}>`;
    }
    case Type.Struct: return `Struct<${t.children.map(fieldString).join(', ')}>`;
  }
  return `unexpected ${Type[t.typeId]}`;
}

function fieldString(f) {
  return `${f.name}: ${typeString(f.type)}${f.nullable ? '' : ' not null'}`;
}

function value(t, v) {
  if (v === null || v === undefined) return null;
  switch (t.typeId) {
    case Type.Int:
      return t.bitWidth === 64 ? String(v) : v;
    case Type.Float:
      return Number.isFinite(v) ? v : String(v);
    case Type.Decimal: {
      // apache-arrow gives the unscaled two's-complement integer; String() renders it signed.
      const digits = String(v);
      const neg = digits.startsWith('-');
      const abs = (neg ? digits.slice(1) : digits).padStart(t.scale + 1, '0');
      const point = abs.length - t.scale;
      return (neg ? '-' : '') + abs.slice(0, point) + (t.scale > 0 ? '.' + abs.slice(point) : '');
    }
    case Type.Binary:
      return Buffer.from(v).toString('hex');
    case Type.Date:
      return new Date(v).toISOString().slice(0, 10);
    case Type.Timestamp:
      return new Date(v).toISOString();
    case Type.List: {
      const elem = t.children[0].type;
      return [...v].map((e) => value(elem, e));
    }
    case Type.Map: {
      const [key, val] = t.children[0].type.children;
      return [...v].map(([k, e]) => [value(key.type, k), value(val.type, e)]);
    }
    case Type.Struct: {
      const out = {};
      for (const f of t.children) out[f.name] = value(f.type, v[f.name]);
      return out;
    }
  }
  return v;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const input = process.argv[2] ? createReadStream(process.argv[2]) : process.stdin;
const reader = await RecordBatchReader.from(input);
await reader.open();
const fields = reader.schema.fields;
emit({ schema: fields.map((f) => ({ name: f.name, type: typeString(f.type), nullable: f.nullable })) });
for await (const batch of reader) {
  const rows = [];
  for (let i = 0; i < batch.numRows; i++) {
    rows.push(fields.map((f, j) => value(f.type, batch.getChildAt(j).get(i))));
  }
  emit({ rows });
}
emit({ end: true });
