/**
 * The program file schema as a string, so that ir/ (which does no file I/O) can hand it to
 * protobufjs. It is ir/program.proto byte for byte: edit the .proto, copy it here, and
 * test/program-codec.test.ts checks that the two are identical.
 */
export const PROGRAM_SCHEMA = `// The payload of a wafer program file (docs/program-format.md). The file is a 20-byte header —
// "WAFERPRG", uint32 LE format version, uint32 LE payload length, uint32 LE CRC-32 of the payload —
// followed by one Program message. The in-memory form is ir/program.ts; this schema mirrors it
// field for field. ir/program-schema.ts holds this exact text (a test keeps the two identical).
//
// Conventions:
// - An expression (Expr) is a repeated sint64 in reverse Polish notation. A code c is a literal
//   c/2 when c is even, otherwise the token (c-1)/2 of ExprToken. An empty list is an absent
//   expression: for guard fields that means "always"; everywhere else it is an error.
// - Enums start with an UNSPECIFIED zero so that a missing value is detected, not defaulted.
// - Fields marked optional, and message fields, distinguish absent from default, as the ?
//   fields of the in-memory types do.
// - Version 1. Fields are only ever added (new numbers), never renumbered or retyped.

syntax = "proto3";

package wafer.program;

enum ExprToken {
  // Variables: core coordinates in the region, region size, loop counters (outermost first).
  TOK_X = 0;
  TOK_Y = 1;
  TOK_W = 2;
  TOK_H = 3;
  TOK_I0 = 4;
  TOK_I1 = 5;
  TOK_I2 = 6;
  TOK_I3 = 7;
  // Binary operators, operands a b in that order on the stack.
  TOK_ADD = 8;
  TOK_SUB = 9;
  TOK_MUL = 10;
  TOK_DIV = 11;
  TOK_MOD = 12;
  TOK_MIN = 13;
  TOK_MAX = 14;
  TOK_EQ = 15;
  TOK_NE = 16;
  TOK_LT = 17;
  TOK_LE = 18;
  TOK_GT = 19;
  TOK_GE = 20;
  TOK_AND = 21;
  TOK_OR = 22;
  // select(c, a, b), operands c a b in that order on the stack.
  TOK_SELECT = 23;
}

enum MemType {
  MEM_TYPE_UNSPECIFIED = 0;
  MEM_F32 = 1;
  MEM_F16 = 2;
  MEM_I32 = 3;
}

enum UnaryFn {
  UNARY_UNSPECIFIED = 0;
  UNARY_COPY = 1;
  UNARY_NEG = 2;
  UNARY_ABS = 3;
  UNARY_EXP = 4;
  UNARY_LOG = 5;
  UNARY_SQRT = 6;
  UNARY_RSQRT = 7;
  UNARY_RECIP = 8;
  UNARY_RELU = 9;
  UNARY_SIGMOID = 10;
  UNARY_TANH = 11;
  UNARY_GELU = 12;
  UNARY_SILU = 13;
  UNARY_SQUARE = 14;
  UNARY_SCALE = 15;
  UNARY_ADD_SCALAR = 16;
}

enum BinaryFn {
  BINARY_UNSPECIFIED = 0;
  BINARY_ADD = 1;
  BINARY_SUB = 2;
  BINARY_MUL = 3;
  BINARY_DIV = 4;
  BINARY_MAX = 5;
  BINARY_MIN = 6;
}

enum Broadcast {
  BCAST_UNSPECIFIED = 0;
  BCAST_NONE = 1;
  BCAST_ROW = 2;
  BCAST_COL = 3;
  BCAST_SCALAR = 4;
}

enum ReduceFn {
  REDUCE_UNSPECIFIED = 0;
  REDUCE_SUM = 1;
  REDUCE_MAX = 2;
}

enum Axis {
  AXIS_UNSPECIFIED = 0;
  AXIS_ROWS = 1;
  AXIS_COLS = 2;
}

enum CombineFn {
  COMBINE_UNSPECIFIED = 0;
  COMBINE_NONE = 1;
  COMBINE_ADD = 2;
  COMBINE_MAX = 3;
}

enum Port {
  PORT_UNSPECIFIED = 0;
  PORT_NORTH = 1;
  PORT_SOUTH = 2;
  PORT_EAST = 3;
  PORT_WEST = 4;
  PORT_RAMP = 5;
}

// Graph element types (ir/dtype.ts) of call tensors and tensor attributes. The numbers are ONNX's
// TensorProto.DataType codes.
enum DType {
  DTYPE_UNSPECIFIED = 0;
  DTYPE_FLOAT32 = 1;
  DTYPE_UINT8 = 2;
  DTYPE_INT8 = 3;
  DTYPE_UINT16 = 4;
  DTYPE_INT16 = 5;
  DTYPE_INT32 = 6;
  DTYPE_INT64 = 7;
  DTYPE_BOOL = 9;
  DTYPE_FLOAT16 = 10;
  DTYPE_FLOAT64 = 11;
  DTYPE_UINT32 = 12;
  DTYPE_UINT64 = 13;
  DTYPE_BFLOAT16 = 16;
}

enum AttrKind {
  ATTR_UNSPECIFIED = 0;
  ATTR_INT = 1;
  ATTR_FLOAT = 2;
  ATTR_STRING = 3;
  ATTR_INTS = 4;
  ATTR_FLOATS = 5;
  ATTR_STRINGS = 6;
  ATTR_TENSOR = 7;
}

message Program {
  string name = 1;
  Target target = 2;
  repeated Region regions = 3;
  repeated RouteRule routes = 4;
  repeated Constant constants = 5;
  repeated Io inputs = 6;
  repeated Io outputs = 7;
  // Absent: the program carries no prediction.
  Prediction predicted = 8;
  // Version of the default (ai.onnx) op set whose semantics call instructions follow; 0: 18.
  uint32 opset = 9;
  // Absent: no source. The graph IR text (docs/ir.md) the program was compiled from, after the graph
  // passes, constants included: "wafer run --check" evaluates it to check the emulated outputs.
  optional string source = 10;
}

// Every figure of ir/target.ts; doubles so that any JS number round-trips exactly.
message Target {
  string name = 1;
  double width = 2;
  double height = 3;
  double clock_hz = 4;
  Sram sram = 5;
  Flops flops_per_cycle = 6;
  Link link = 7;
  double relay_cycles = 8;
  Router router = 9;
  Overhead overhead = 10;
  Host host = 11;
  Power power = 12;

  message Sram {
    double bytes_per_core = 1;
    double banks = 2;
    double read_words_per_cycle = 3;
    double write_words_per_cycle = 4;
  }
  message Flops {
    double float32 = 1;
    double float16 = 2;
    double float16_acc32 = 3;
  }
  message Link {
    double bits_per_cycle = 1;
    double hop_latency = 2;
    double ramp_latency = 3;
  }
  message Router {
    double colours = 1;
    double queue_words = 2;
  }
  message Overhead {
    double issue = 1;
    double comm = 2;
    double loop = 3;
  }
  message Host {
    double bytes_per_second = 1;
    double latency_seconds = 2;
  }
  message Power {
    double core_active_watts = 1;
    double core_idle_watts = 2;
    double joules_per_word_hop = 3;
  }
}

message Rect {
  uint32 x = 1;
  uint32 y = 2;
  uint32 width = 3;
  uint32 height = 4;
}

message Region {
  string name = 1;
  Rect rect = 2;
  Kernel kernel = 3;
}

message Kernel {
  repeated Buffer buffers = 1;
  repeated Instr body = 2;
}

message Buffer {
  string name = 1;
  MemType type = 2;
  // Byte offset in the core's SRAM.
  uint32 offset = 3;
  // Elements.
  uint32 length = 4;
  // Absent: live for the whole kernel.
  LiveRange live = 5;
  // Expr over x, y, w, h; empty: the buffer exists on every core of the region, otherwise only on
  // the cores where it is non-zero.
  repeated sint64 guard = 6;
}

// Instruction ids, inclusive.
message LiveRange {
  uint32 first = 1;
  uint32 last = 2;
}

message Operand {
  // Index into the kernel's buffers.
  uint32 buf = 1;
  // Element offset (Expr).
  repeated sint64 offset = 2;
}

message Instr {
  uint32 id = 1;
  string loc = 2;
  // Expr; empty: always executes.
  repeated sint64 guard = 3;
  oneof kind {
    Matmul matmul = 10;
    Unary unary = 11;
    Binary binary = 12;
    Reduce reduce = 13;
    Fill fill = 14;
    Send send = 15;
    Recv recv = 16;
    Forward forward = 17;
    Wait wait = 18;
    Loop loop = 19;
    Swap swap = 20;
    Call call = 21;
    Delay delay = 22;
  }
}

message Matmul {
  Operand a = 1;
  Operand b = 2;
  Operand c = 3;
  repeated sint64 m = 4;
  repeated sint64 k = 5;
  repeated sint64 n = 6;
  bool accumulate = 7;
  bool trans_b = 8;
}

message Unary {
  UnaryFn fn = 1;
  Operand src = 2;
  Operand dst = 3;
  repeated sint64 n = 4;
  double scalar = 5;
}

message Binary {
  BinaryFn fn = 1;
  Operand a = 2;
  Operand b = 3;
  Operand dst = 4;
  repeated sint64 rows = 5;
  repeated sint64 cols = 6;
  Broadcast bcast = 7;
}

message Reduce {
  ReduceFn fn = 1;
  Operand src = 2;
  Operand dst = 3;
  repeated sint64 rows = 4;
  repeated sint64 cols = 5;
  Axis axis = 6;
  bool accumulate = 7;
}

message Fill {
  Operand dst = 1;
  repeated sint64 n = 2;
  double value = 3;
}

message Send {
  Operand src = 1;
  repeated sint64 n = 2;
  repeated sint64 colour = 3;
}

message Recv {
  Operand dst = 1;
  repeated sint64 n = 2;
  repeated sint64 colour = 3;
  CombineFn combine = 4;
}

message Forward {
  Operand buf = 1;
  repeated sint64 n = 2;
  repeated sint64 in_colour = 3;
  repeated sint64 out_colour = 4;
  CombineFn combine = 5;
}

message Wait {
}

message Loop {
  repeated sint64 count = 1;
  repeated Instr body = 2;
}

message Swap {
  uint32 a = 1;
  uint32 b = 2;
}

// Runs one graph op (ir/ops reference semantics) on tensors in the core's SRAM.
message Call {
  // Op type and domain as registered in ir/ops ("" is ai.onnx).
  string op_type = 1;
  string domain = 2;
  // Sorted by name; names are unique.
  repeated Attribute attrs = 3;
  repeated CallTensor inputs = 4;
  repeated CallTensor outputs = 5;
}

message CallTensor {
  // An omitted optional input or output (null in memory); the other fields are then unset.
  bool omitted = 1;
  // Where element 0 of the row-major tensor is.
  Operand at = 2;
  DType dtype = 3;
  repeated uint32 shape = 4;
}

// A graph attribute: the value is in the field of its kind (the others are unset). Numbers are
// doubles so that every in-memory value (an int64 attribute near 2^63 included) round-trips exactly.
message Attribute {
  string name = 1;
  AttrKind kind = 2;
  double i = 3;
  double f = 4;
  string s = 5;
  repeated double ints = 6;
  repeated double floats = 7;
  repeated string strings = 8;
  TensorValue t = 9;
}

// Values little-endian at the dtype's ONNX width: float16 and bfloat16 as their 16-bit patterns,
// bool as one byte, int64 and uint64 as 64-bit integers.
message TensorValue {
  DType dtype = 1;
  repeated uint32 shape = 2;
  bytes data = 3;
}

message Delay {
  // Expr: the core idles for max(0, cycles) cycles, with no issue cost.
  repeated sint64 cycles = 1;
}

message RouteRule {
  uint32 colour = 1;
  Rect rect = 2;
  Port input = 3;
  repeated Port outputs = 4;
  // Expr over the router's x, y relative to rect and rect's w, h; empty: every router of rect.
  repeated sint64 guard = 5;
}

message Tiling {
  uint32 region = 1;
  uint32 buffer = 2;
  uint32 rows = 3;
  uint32 cols = 4;
  uint32 tile_rows = 5;
  uint32 tile_cols = 6;
  repeated sint64 row_tile = 7;
  repeated sint64 col_tile = 8;
  // Expr; empty: every core of the region holds a tile.
  repeated sint64 guard = 9;
  // The view: the tensor's row-major data reshaped to view_dims and permuted by view_perm (dim i of
  // the permuted tensor is view_dims[view_perm[i]]) is the rows x cols matrix. Both empty: identity.
  repeated uint32 view_dims = 10;
  repeated uint32 view_perm = 11;
}

message Constant {
  string name = 1;
  MemType type = 2;
  Tiling tiling = 3;
  // rows x cols values of type, little-endian. Absent: a shapes-only program.
  optional bytes data = 4;
}

message Io {
  string name = 1;
  MemType type = 2;
  repeated uint32 shape = 3;
  Tiling tiling = 4;
}

message Prediction {
  double total_cycles = 1;
  repeated InstrPrediction instructions = 2;
}

message InstrPrediction {
  uint32 instr = 1;
  // Expr: predicted start cycle.
  repeated sint64 start = 2;
}
`;
