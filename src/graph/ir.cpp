#include "graph/ir.hpp"

#include <set>

#include "graph/ops.hpp"
#include "yamiro/error.hpp"

namespace yamiro::graph {

void fail(const Graph& g, const Node* n, const std::string& why) {
  std::string where = g.origin;
  if (n) {
    where += ": ";
    if (n->source_line > 0) where += "line " + std::to_string(n->source_line) + ": ";
    where += n->op + " '" + n->name + "'";
  }
  throw Error(ErrorKind::Model, where + ": " + why);
}

namespace {

template <typename T>
const T* get(const Node& n, const std::string& key) {
  const auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return nullptr;
  if (const T* v = std::get_if<T>(&it->second)) return v;
  throw Error(ErrorKind::Model, n.op + " '" + n.name + "': attribute '" + key + "' has the wrong type");
}

}  // namespace

std::int64_t Node::i(const std::string& key) const {
  const auto* v = get<std::int64_t>(*this, key);
  if (!v) throw Error(ErrorKind::Model, op + " '" + name + "': attribute '" + key + "' is missing");
  return *v;
}
std::int64_t Node::i(const std::string& key, std::int64_t fallback) const {
  const auto* v = get<std::int64_t>(*this, key);
  return v ? *v : fallback;
}
double Node::f(const std::string& key, double fallback) const {
  const auto it = attrs.find(key);
  if (it != attrs.end())
    if (const auto* iv = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*iv);
  const auto* v = get<double>(*this, key);
  return v ? *v : fallback;
}
std::vector<std::int64_t> Node::ints(const std::string& key) const {
  const auto* v = get<std::vector<std::int64_t>>(*this, key);
  if (!v) throw Error(ErrorKind::Model, op + " '" + name + "': attribute '" + key + "' is missing");
  return *v;
}
std::vector<std::int64_t> Node::ints(const std::string& key, std::vector<std::int64_t> fallback) const {
  const auto* v = get<std::vector<std::int64_t>>(*this, key);
  return v ? *v : fallback;
}
std::vector<double> Node::floats(const std::string& key, std::vector<double> fallback) const {
  const auto* v = get<std::vector<double>>(*this, key);
  return v ? *v : fallback;
}
std::string Node::s(const std::string& key, const std::string& fallback) const {
  const auto* v = get<std::string>(*this, key);
  return v ? *v : fallback;
}
const HostTensor& Node::weight(const std::string& key) const {
  const auto it = weights.find(key);
  if (it == weights.end()) throw Error(ErrorKind::Model, op + " '" + name + "': weight '" + key + "' is missing");
  return it->second;
}

std::int64_t Graph::weight_count() const {
  std::int64_t n = 0;
  for (const auto& node : nodes)
    for (const auto& [k, w] : node.weights) n += static_cast<std::int64_t>(w.values.size());
  return n;
}

void validate(const Graph& g) {
  if (g.inputs.empty()) fail(g, nullptr, "the graph has no input");
  if (g.outputs.empty()) fail(g, nullptr, "the graph has no output");
  std::set<std::string> made(g.inputs.begin(), g.inputs.end());
  if (made.size() != g.inputs.size()) fail(g, nullptr, "two inputs have one name");
  for (const auto& n : g.nodes) {
    const OpSpec* spec = find_op(n.op);
    if (!spec) fail(g, &n, "unknown op");
    const int count = static_cast<int>(n.inputs.size());
    if (count < spec->min_inputs || (spec->max_inputs >= 0 && count > spec->max_inputs))
      fail(g, &n, "takes " + std::to_string(spec->min_inputs) + (spec->max_inputs == spec->min_inputs ? "" : " or more") +
                      " inputs, has " + std::to_string(count));
    if (n.outputs.empty()) fail(g, &n, "has no output");
    for (const auto& b : n.inputs)
      if (!made.count(b)) fail(g, &n, "reads blob '" + b + "' before anything makes it (or in a cycle)");
    for (const auto& b : n.outputs)
      if (!made.insert(b).second) fail(g, &n, "makes blob '" + b + "', which another layer already makes");
  }
  for (const auto& o : g.outputs)
    if (!made.count(o)) fail(g, nullptr, "output blob '" + o + "' is never made");
}

}  // namespace yamiro::graph
