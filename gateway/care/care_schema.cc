// care_schema: prints the care model's field registry.
//   care_schema --json                  the registry as JSON (registry.h schema_json)
//   care_schema --markdown EXAMPLES_DIR  MODEL.md's generated field reference, with the
//                                        examples/<entity>.json files inlined
//   care_schema --update MODEL_MD EXAMPLES_DIR
//                                        rewrites the generated part of MODEL.md in place
// Regenerate MODEL.md's reference after changing model.cc or an example (see MODEL.md).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "care/registry.h"

namespace {

constexpr std::string_view kBegin = "<!-- BEGIN GENERATED FIELD REFERENCE -->\n";
constexpr std::string_view kEnd = "<!-- END GENERATED FIELD REFERENCE -->";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string reference(const std::string& examples_dir) {
  return midhurst::care::model_reference_markdown([&](std::string_view entity) {
    return read_file(examples_dir + "/" + std::string(entity) + ".json");
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "--json" && argc == 2) {
    std::fputs(midhurst::care::schema_json().c_str(), stdout);
    return 0;
  }
  if (mode == "--markdown" && argc == 3) {
    std::fputs(reference(argv[2]).c_str(), stdout);
    return 0;
  }
  if (mode == "--update" && argc == 4) {
    const std::string path = argv[2];
    std::string doc = read_file(path);
    const std::size_t begin = doc.find(kBegin);
    const std::size_t end = doc.find(kEnd);
    if (begin == std::string::npos || end == std::string::npos || end < begin) {
      std::fprintf(stderr, "care_schema: %s has no generated-reference markers\n", path.c_str());
      return 1;
    }
    doc.replace(begin + kBegin.size(), end - begin - kBegin.size(), reference(argv[3]));
    std::ofstream out(path, std::ios::trunc);
    out << doc;
    return out ? 0 : 1;
  }
  std::fputs("usage: care_schema --json | --markdown EXAMPLES_DIR | --update MODEL_MD EXAMPLES_DIR\n", stderr);
  return 2;
}
