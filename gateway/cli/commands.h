// Sub-commands of the `midhurst` binary. Each takes its own arguments (argv after the
// sub-command's name) and returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace midhurst::cli {

using Args = std::vector<std::string>;

// `midhurst hl7 check|show ...`
int run_hl7(const Args& args);

}  // namespace midhurst::cli
