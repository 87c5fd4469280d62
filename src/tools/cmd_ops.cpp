// hllm ops: prints which ops the CPU backend computes for which tensor types, asking
// CpuBackend::supports about one representative node per op and type. docs/ops.md is this
// command's --markdown output.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "graph/ops.h"
#include "tools/command.h"
#include "util/error.h"

namespace hllm::tools {
namespace {

// The types shown as columns: the float types, the quantized types that GGUF files commonly
// store weights in, and i32 for index tensors.
const std::vector<GgmlType> kColumnTypes = {
    GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,   GgmlType::Q4_1,
    GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K,   GgmlType::Q3_K,
    GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::I32};

// Elements per row of the representative tensors: a whole number of blocks of every type.
constexpr int64_t kRow = 256;

struct OpRow {
  std::string op;       // as op_name prints it
  std::string operand;  // which of the node's tensors has the column's type
  // Appends a node whose operand has the given type; may throw Error when the op's builder
  // rejects that type.
  std::function<Tensor*(Graph&, GgmlType)> build;
};

Tensor* f32(Graph& g, std::initializer_list<int64_t> ne) {
  return g.input("f32", GgmlType::F32, ne);
}
Tensor* i32(Graph& g, std::initializer_list<int64_t> ne) {
  return g.input("i32", GgmlType::I32, ne);
}

OpRow unary_row(Op op, Tensor* (*build)(Graph&, Tensor*)) {
  return {op_name(op), "source", [build](Graph& g, GgmlType t) {
            return build(g, g.input("x", t, {kRow, 2}));
          }};
}

OpRow binary_row(Op op, Tensor* (*build)(Graph&, Tensor*, Tensor*)) {
  return {op_name(op), "both sources", [build](Graph& g, GgmlType t) {
            return build(g, g.input("a", t, {kRow, 2}), g.input("b", t, {kRow, 2}));
          }};
}

std::vector<OpRow> op_rows() {
  std::vector<OpRow> rows;
  rows.push_back({"get_rows", "table", [](Graph& g, GgmlType t) {
                    return ops::get_rows(g, g.weight("table", t, {kRow, 4}), i32(g, {2}));
                  }});
  rows.push_back({"mul_mat", "weight", [](Graph& g, GgmlType t) {
                    return ops::mul_mat(g, g.weight("w", t, {kRow, 4}), f32(g, {kRow, 2}));
                  }});
  rows.push_back({"mul_mat_id", "experts", [](Graph& g, GgmlType t) {
                    return ops::mul_mat_id(g, g.weight("experts", t, {kRow, 4, 3}),
                                           f32(g, {kRow, 1, 2}), i32(g, {2, 2}));
                  }});
  rows.push_back(binary_row(Op::Add, ops::add));
  rows.push_back(binary_row(Op::Sub, ops::sub));
  rows.push_back(binary_row(Op::Mul, ops::mul));
  rows.push_back(binary_row(Op::Div, ops::div));
  rows.push_back({"scale", "source", [](Graph& g, GgmlType t) {
                    return ops::scale(g, g.input("x", t, {kRow, 2}), 0.5f);
                  }});
  rows.push_back({"rms_norm", "source", [](Graph& g, GgmlType t) {
                    return ops::rms_norm(g, g.input("x", t, {kRow, 2}), 1e-6f);
                  }});
  rows.push_back({"l2_norm", "source", [](Graph& g, GgmlType t) {
                    return ops::l2_norm(g, g.input("x", t, {kRow, 2}), 1e-6f);
                  }});
  rows.push_back({"rope", "source", [](Graph& g, GgmlType t) {
                    return ops::rope(g, g.input("x", t, {kRow, 2, 3}), i32(g, {3}),
                                     RopeParams{RopeMode::Neox, 64, 10000.0f, 1.0f});
                  }});
  rows.push_back({"soft_max", "source", [](Graph& g, GgmlType t) {
                    return ops::soft_max(g, g.input("x", t, {kRow, 2}), f32(g, {kRow, 2}), 1.0f);
                  }});
  rows.push_back({"attention", "key and value", [](Graph& g, GgmlType t) {
                    return ops::attention(g, f32(g, {kRow, 2, 3}), g.input("k", t, {kRow, 1, 4}),
                                          g.input("v", t, {kRow, 1, 4}), f32(g, {4, 3}), 0.1f);
                  }});
  rows.push_back(unary_row(Op::Silu, ops::silu));
  rows.push_back(unary_row(Op::Sigmoid, ops::sigmoid));
  rows.push_back(unary_row(Op::Softplus, ops::softplus));
  rows.push_back(unary_row(Op::Exp, ops::exp));
  rows.push_back(unary_row(Op::Neg, ops::neg));
  rows.push_back(unary_row(Op::Sqr, ops::sqr));
  rows.push_back(unary_row(Op::Sqrt, ops::sqrt));
  rows.push_back({"top_k", "source", [](Graph& g, GgmlType t) {
                    return ops::top_k(g, g.input("x", t, {kRow, 2}), 4);
                  }});
  rows.push_back({"ssm_conv", "input", [](Graph& g, GgmlType t) {
                    return ops::ssm_conv(g, g.input("x", t, {kRow, 3, 1}), f32(g, {4, kRow}),
                                         f32(g, {3 * kRow, 1}), i32(g, {1}));
                  }});
  rows.push_back({"delta_rule", "query, key and value", [](Graph& g, GgmlType t) {
                    const int64_t d = 16;
                    return ops::delta_rule(
                        g, g.input("q", t, {d, 2, 3, 1}), g.input("k", t, {d, 2, 3, 1}),
                        g.input("v", t, {d, 2, 3, 1}), f32(g, {2, 3, 1}), f32(g, {2, 3, 1}),
                        f32(g, {d * d * 2, 1}), i32(g, {1}), DeltaRuleParams{});
                  }});
  rows.push_back(
      {"concat", "both sources", [](Graph& g, GgmlType t) {
         return ops::concat(g, g.input("a", t, {kRow, 2}), g.input("b", t, {kRow, 3}), 1);
       }});
  rows.push_back({"copy", "source (copied to f32)", [](Graph& g, GgmlType t) {
                    return ops::copy(g, g.input("x", t, {kRow, 2}), GgmlType::F32);
                  }});
  rows.push_back({"copy", "output (copied from f32)", [](Graph& g, GgmlType t) {
                    return ops::copy(g, f32(g, {kRow, 2}), t);
                  }});
  rows.push_back(
      {"set_rows", "destination", [](Graph& g, GgmlType t) {
         return ops::set_rows(g, g.state("cache", t, {kRow, 8}), f32(g, {kRow, 2}), i32(g, {2}));
       }});
  rows.push_back({"sum_rows", "source", [](Graph& g, GgmlType t) {
                    return ops::sum_rows(g, g.input("x", t, {kRow, 2}));
                  }});
  return rows;
}

bool supported(const CpuBackend& backend, const OpRow& row, GgmlType type) {
  Graph g;
  try {
    return backend.supports(*row.build(g, type));
  } catch (const Error&) {
    return false;  // the graph cannot even hold this op with this type
  }
}

std::string render(bool markdown) {
  const CpuBackend backend(1);
  const std::vector<OpRow> rows = op_rows();
  std::string out;
  if (markdown) {
    out += "# Op support of the CPU backend\n\n";
    out += "Generated by `hllm ops --markdown` from `CpuBackend::supports`; do not edit by hand.\n";
    out += "Each cell says whether the CPU backend computes the op when the tensor named in the\n";
    out += "second column has the column's type (other tensors have their usual types: f32\n";
    out += "activations, i32 ids and positions). Views (view, reshape, permute, transpose) need\n";
    out += "no compute and work with every type.\n\n";
    out += "| op | type of |";
    for (GgmlType type : kColumnTypes)
      out += fmt::format(" {} |", type_name(type));
    out += "\n|---|---|";
    for (size_t i = 0; i < kColumnTypes.size(); ++i)
      out += ":-:|";
    out += "\n";
    for (const OpRow& row : rows) {
      out += fmt::format("| {} | {} |", row.op, row.operand);
      for (GgmlType type : kColumnTypes)
        out += supported(backend, row, type) ? " yes |" : " - |";
      out += "\n";
    }
    return out;
  }
  out += fmt::format("{:<11} {:<25}", "op", "type of");
  for (GgmlType type : kColumnTypes)
    out += fmt::format(" {:>6}", type_name(type));
  out += "\n";
  for (const OpRow& row : rows) {
    out += fmt::format("{:<11} {:<25}", row.op, row.operand);
    for (GgmlType type : kColumnTypes) {
      out += fmt::format(" {:>6}", supported(backend, row, type) ? "yes" : "-");
    }
    out += "\n";
  }
  return out;
}

const CommandRegistration registration("ops", [](CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* command =
      app.add_subcommand("ops", "Print which ops the CPU backend computes for which tensor types");
  command->add_flag("--markdown", *markdown, "Print a Markdown table (the text of docs/ops.md)");
  command->callback([markdown] {
    const std::string out = render(*markdown);
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
});

}  // namespace
}  // namespace hllm::tools
