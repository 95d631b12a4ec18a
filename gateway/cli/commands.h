// Sub-commands of the `midhurst` binary. Each takes its own arguments (argv after the
// sub-command's name) and returns the process exit status.
#pragma once

#include <string>
#include <vector>

namespace midhurst::cli {

using Args = std::vector<std::string>;

// `midhurst hl7 check|show ...`
int run_hl7(const Args& args);

// `midhurst translate ...`: messages through the mapping profiles, no server.
int run_translate(const Args& args);

// `midhurst profile test ...`: the mapping profiles' fixtures.
int run_profile(const Args& args);

// `midhurst serve ...`: the gateway (HTTP and MLLP listeners) until SIGTERM/SIGINT.
int run_serve(const Args& args);

}  // namespace midhurst::cli
