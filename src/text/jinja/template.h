// Jinja2 chat templates, as Hugging Face renders them: trim_blocks and lstrip_blocks on, the
// loopcontrols extension (break, continue), raise_exception, and a tojson that keeps non-ASCII
// characters and separates with ", " and ": ".
//
// Templates are untrusted input. Parsing bounds the nesting depth; rendering bounds loop
// iterations, work, string and list sizes and macro call depth (see Limits). A syntax error, an
// unsupported construct or a failed render throws an hllm::Error that names the position as
// "NAME:LINE:COLUMN: ...".
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "text/jinja/value.h"

namespace hllm::jinja {

struct Node;

class Template {
 public:
  // Parses source. name appears in error messages (for example "chat template").
  explicit Template(std::string source, std::string name = "template", Limits limits = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Renders with the keys of context (a JSON object) as variables.
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  std::string name_;
  Limits limits_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace hllm::jinja
