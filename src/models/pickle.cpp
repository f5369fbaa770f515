#include "models/pickle.hpp"

#include <cstring>
#include <map>
#include <unordered_map>

#include "yamiro/error.hpp"

namespace yamiro::pickle {
namespace {

using Kind = Value::Kind;

// Storage types a persistent id may name, with their element type.
const std::map<std::string, DType> kStorageTypes = {
    {"torch.FloatStorage", DType::F32}, {"torch.HalfStorage", DType::F16}, {"torch.BFloat16Storage", DType::BF16},
    {"torch.DoubleStorage", DType::F64}, {"torch.LongStorage", DType::I64}, {"torch.IntStorage", DType::I32},
    {"torch.ShortStorage", DType::I16}, {"torch.CharStorage", DType::I8},   {"torch.ByteStorage", DType::U8},
    {"torch.BoolStorage", DType::Bool}};

// Callables REDUCE may apply; everything they do is reimplemented in apply().
const char* const kCallables[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                  "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter"};

class Machine {
 public:
  Machine(const unsigned char* data, std::size_t size, const std::string& origin, const Limits& limits)
      : p_(data), size_(size), origin_(origin), limits_(limits) {}

  Document run(std::size_t* consumed);

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(ErrorKind::Model, origin_ + ": pickle: " + why + " (at byte " + std::to_string(op_at_) + ")");
  }

  const unsigned char* take(std::size_t n) {
    if (size_ - pos_ < n) fail("truncated data");
    const unsigned char* at = p_ + pos_;
    pos_ += n;
    return at;
  }
  std::uint64_t le(std::size_t n) {
    const unsigned char* b = take(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
    return v;
  }
  std::string line() {
    for (std::size_t i = pos_; i < size_ && i - pos_ < 256; ++i)
      if (p_[i] == '\n') {
        std::string s(reinterpret_cast<const char*>(p_ + pos_), i - pos_);
        pos_ = i + 1;
        return s;
      }
    fail("unterminated or over-long GLOBAL name");
  }

  Value* make(Kind kind) {
    if (doc_.arena.size() >= limits_.max_values) fail("more than " + std::to_string(limits_.max_values) + " values");
    doc_.arena.push_back(std::make_unique<Value>());
    doc_.arena.back()->kind = kind;
    return doc_.arena.back().get();
  }
  Value* make_int(std::int64_t v) {
    Value* x = make(Kind::Int);
    x->integer = v;
    return x;
  }
  Value* make_text(Kind kind, std::size_t n) {
    const unsigned char* b = take(n);  // checked against the data before allocating
    Value* x = make(kind);
    x->text.assign(reinterpret_cast<const char*>(b), n);
    return x;
  }
  Value* make_long(std::size_t n) {
    const unsigned char* b = take(n);
    if (n <= 8) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
      if (n > 0 && n < 8 && (b[n - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
      return make_int(static_cast<std::int64_t>(v));
    }
    Value* x = make(Kind::BigInt);  // only compared as bytes (the legacy magic number)
    x->text.assign(reinterpret_cast<const char*>(b), n);
    return x;
  }

  void push(Value* v) {
    if (stack_.size() >= limits_.max_stack) fail("stack deeper than " + std::to_string(limits_.max_stack));
    stack_.push_back(v);
  }
  Value* pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }

  void grow(Value* container, const Value* item) {
    if (++items_ > limits_.max_stack * 16) fail("too many container items");
    if (item->depth + 1 > container->depth) container->depth = item->depth + 1;
    if (container->depth > limits_.max_depth) fail("nesting deeper than " + std::to_string(limits_.max_depth));
  }
  Value* make_seq(Kind kind, const std::vector<Value*>& items) {
    Value* v = make(kind);
    v->depth = 1;
    for (Value* i : items) {
      grow(v, i);
      v->items.push_back(i);
    }
    return v;
  }
  void append(Value* list, const std::vector<Value*>& items) {
    if (list->kind != Kind::List) fail(std::string("APPEND to a ") + kind_name(list->kind));
    for (Value* i : items) {
      grow(list, i);
      list->items.push_back(i);
    }
  }
  void set_items(Value* dict, const std::vector<Value*>& kv) {
    if (dict->kind != Kind::Dict) fail(std::string("SETITEM on a ") + kind_name(dict->kind));
    if (kv.size() % 2) fail("odd number of items for a dict");
    for (std::size_t i = 0; i < kv.size(); i += 2) {
      const Kind k = kv[i]->kind;
      if (k == Kind::List || k == Kind::Dict) fail(std::string("unhashable dict key (") + kind_name(k) + ")");
      grow(dict, kv[i]);
      grow(dict, kv[i + 1]);
      dict->entries.emplace_back(kv[i], kv[i + 1]);
    }
  }

  void memo_put(std::uint64_t index) {
    if (memo_.size() >= limits_.max_stack && !memo_.count(index)) fail("memo too large");
    memo_[index] = top();
  }
  void memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is missing");
    push(it->second);
  }

  Value* global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    bool known = kStorageTypes.count(full) > 0;
    for (const char* c : kCallables) known = known || full == c;
    if (!known)
      fail("refused global '" + full + "': a state dict needs only OrderedDict, tensors and storages "
           "(this file may contain code; it is not loaded)");
    Value* g = make(Kind::Global);
    g->text = full;
    return g;
  }

  Value* persistent(const Value* pid);
  Value* apply(const Value* fn, const Value* args);
  std::vector<std::int64_t> ints(const Value* v, const char* what);

  const unsigned char* p_;
  std::size_t size_, pos_ = 0, op_at_ = 0, items_ = 0;
  const std::string& origin_;
  Limits limits_;
  Document doc_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value*> memo_;
};

std::vector<std::int64_t> Machine::ints(const Value* v, const char* what) {
  if (v->kind != Kind::Tuple && v->kind != Kind::List) fail(std::string(what) + " is not a tuple");
  std::vector<std::int64_t> out;
  for (const Value* i : v->items) {
    if (i->kind != Kind::Int) fail(std::string(what) + " holds a non-integer");
    out.push_back(i->integer);
  }
  return out;
}

Value* Machine::persistent(const Value* pid) {
  // ('storage', torch.XStorage, key, location, numel) and, in legacy files, a sixth
  // item: the view metadata, None unless the storage is a view of another one.
  const auto& it = pid->items;
  if (pid->kind != Kind::Tuple || it.size() < 5 || it.size() > 6 || it[0]->kind != Kind::Str || it[0]->text != "storage")
    fail("unknown persistent id (expected a ('storage', type, key, location, size) tuple)");
  if (it[1]->kind != Kind::Global || !kStorageTypes.count(it[1]->text)) fail("persistent id does not name a storage type");
  if (it[2]->kind != Kind::Str || it[3]->kind != Kind::Str || it[4]->kind != Kind::Int || it[4]->integer < 0)
    fail("malformed storage persistent id");
  if (it.size() == 6 && it[5]->kind != Kind::None) fail("storage views (legacy view metadata) are not supported");
  Value* s = make(Kind::Storage);
  s->storage = StorageRef{kStorageTypes.at(it[1]->text), it[2]->text, it[3]->text, it[4]->integer};
  return s;
}

Value* Machine::apply(const Value* fn, const Value* args) {
  if (fn->kind != Kind::Global) fail(std::string("REDUCE on a ") + kind_name(fn->kind));
  if (args->kind != Kind::Tuple) fail("REDUCE arguments are not a tuple");
  const auto& a = args->items;
  const std::string& name = fn->text;
  if (name == "collections.OrderedDict") {
    if (!a.empty()) fail("OrderedDict called with arguments");
    Value* d = make(Kind::Dict);
    d->depth = 1;
    return d;
  }
  if (name == "torch._utils._rebuild_parameter") {
    if (a.empty() || a[0]->kind != Kind::Tensor) fail("_rebuild_parameter without a tensor");
    Value* t = make(Kind::Tensor);
    t->tensor = a[0]->tensor;
    return t;
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
    if (a.size() < 4 || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int)
      fail(name + " called with unexpected arguments");
    Value* t = make(Kind::Tensor);
    t->tensor = TensorRef{a[0], a[1]->integer, ints(a[2], "tensor size"), ints(a[3], "tensor stride")};
    return t;
  }
  fail("global '" + name + "' cannot be called");
}

Document Machine::run(std::size_t* consumed) {
  for (;;) {
    op_at_ = pos_;
    const unsigned char op = *take(1);
    switch (op) {
      case 0x80: if (*take(1) > 5) fail("unsupported pickle protocol"); break;  // PROTO
      case 0x95: take(8); break;                                                 // FRAME
      case '.': {                                                                // STOP
        if (!marks_.empty() || stack_.size() != 1) fail("STOP with a malformed stack");
        doc_.root = stack_.back();
        if (consumed) *consumed = pos_;
        return std::move(doc_);
      }
      case '(': marks_.push_back(stack_.size()); if (marks_.size() > limits_.max_stack) fail("too many MARKs"); break;
      case '0': pop(); break;                                                    // POP
      case '1': pop_mark(); break;                                               // POP_MARK
      case '2': push(top()); break;                                              // DUP
      case 'N': push(make(Kind::None)); break;
      case 0x88: case 0x89: {                                                    // NEWTRUE / NEWFALSE
        Value* b = make(Kind::Bool);
        b->boolean = op == 0x88;
        push(b);
        break;
      }
      case 'K': push(make_int(static_cast<std::int64_t>(le(1)))); break;        // BININT1
      case 'M': push(make_int(static_cast<std::int64_t>(le(2)))); break;        // BININT2
      case 'J': push(make_int(static_cast<std::int32_t>(le(4)))); break;        // BININT
      case 0x8a: push(make_long(static_cast<std::size_t>(le(1)))); break;       // LONG1
      case 0x8b: {                                                               // LONG4
        const std::uint64_t n = le(4);
        if (n > 64) fail("integer of " + std::to_string(n) + " bytes");
        push(make_long(static_cast<std::size_t>(n)));
        break;
      }
      case 'G': {                                                                // BINFLOAT, big-endian
        const unsigned char* b = take(8);
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | b[i];
        Value* f = make(Kind::Float);
        std::memcpy(&f->number, &bits, 8);
        push(f);
        break;
      }
      case 'X': push(make_text(Kind::Str, static_cast<std::size_t>(le(4)))); break;     // BINUNICODE
      case 0x8c: push(make_text(Kind::Str, static_cast<std::size_t>(le(1)))); break;    // SHORT_BINUNICODE
      case 0x8d: case 0x8e: {                                                            // BINUNICODE8 / BINBYTES8
        const std::uint64_t n = le(8);
        if (n > size_ - pos_) fail("truncated data");
        push(make_text(op == 0x8d ? Kind::Str : Kind::Bytes, static_cast<std::size_t>(n)));
        break;
      }
      case 'T': case 'U':                                                        // BINSTRING / SHORT_BINSTRING (py2 str)
        push(make_text(Kind::Str, static_cast<std::size_t>(le(op == 'T' ? 4 : 1))));
        break;
      case 'B': push(make_text(Kind::Bytes, static_cast<std::size_t>(le(4)))); break;   // BINBYTES
      case 'C': push(make_text(Kind::Bytes, static_cast<std::size_t>(le(1)))); break;   // SHORT_BINBYTES
      case ')': push(make_seq(Kind::Tuple, {})); break;                          // EMPTY_TUPLE
      case 't': push(make_seq(Kind::Tuple, pop_mark())); break;                  // TUPLE
      case 0x85: case 0x86: case 0x87: {                                         // TUPLE1..3
        std::vector<Value*> items(static_cast<std::size_t>(op - 0x84));
        for (std::size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_seq(Kind::Tuple, items));
        break;
      }
      case ']': push(make_seq(Kind::List, {})); break;                           // EMPTY_LIST
      case 'l': push(make_seq(Kind::List, pop_mark())); break;                   // LIST
      case 'a': { Value* v = pop(); append(top(), {v}); break; }                 // APPEND
      case 'e': { auto items = pop_mark(); append(top(), items); break; }        // APPENDS
      case '}': push(make_seq(Kind::Dict, {})); break;                           // EMPTY_DICT
      case 'd': {                                                                // DICT
        Value* d = make_seq(Kind::Dict, {});
        set_items(d, pop_mark());
        push(d);
        break;
      }
      case 's': { Value* v = pop(); Value* k = pop(); set_items(top(), {k, v}); break; }  // SETITEM
      case 'u': { auto kv = pop_mark(); set_items(top(), kv); break; }                    // SETITEMS
      case 'c': { const std::string m = line(); push(global(m, line())); break; }         // GLOBAL
      case 0x93: {                                                                         // STACK_GLOBAL
        Value* n = pop();
        Value* m = pop();
        if (m->kind != Kind::Str || n->kind != Kind::Str) fail("STACK_GLOBAL without two strings");
        push(global(m->text, n->text));
        break;
      }
      case 'R': { Value* args = pop(); Value* fn = pop(); push(apply(fn, args)); break; }  // REDUCE
      case 'b': {                                                                          // BUILD
        pop();  // the state: an OrderedDict's __dict__ (its _metadata) is not needed
        if (top()->kind != Kind::Dict) fail(std::string("BUILD on a ") + kind_name(top()->kind));
        break;
      }
      case 'Q': { Value* pid = pop(); push(persistent(pid)); break; }            // BINPERSID
      case 'q': memo_put(le(1)); break;                                          // BINPUT
      case 'r': memo_put(le(4)); break;                                          // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;                                  // MEMOIZE
      case 'h': memo_get(le(1)); break;                                          // BINGET
      case 'j': memo_get(le(4)); break;                                          // LONG_BINGET
      default: {
        static const char hex[] = "0123456789abcdef";
        fail(std::string("unsupported opcode 0x") + hex[op >> 4] + hex[op & 15]);
      }
    }
  }
}

}  // namespace

const Value* Value::get(const std::string& key) const noexcept {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)  // the last one wins, as in Python
    if (it->first->kind == Kind::Str && it->first->text == key) return it->second;
  return nullptr;
}

const char* kind_name(Value::Kind kind) noexcept {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

Document unpickle(const unsigned char* data, std::size_t size, const std::string& origin, std::size_t* consumed,
                  const Limits& limits) {
  return Machine(data, size, origin, limits).run(consumed);
}

}  // namespace yamiro::pickle
