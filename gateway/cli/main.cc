// midhurst: the gateway's one binary. `midhurst --help` lists the sub-commands.
#include <cstdio>
#include <string>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: midhurst <command> [options]\n"
    "\n"
    "Midhurst, an HL7v2 / FHIR R4 gateway for care coordination.\n"
    "\n"
    "commands:\n"
    "  hl7 check FILE...   parse and validate HL7v2 files (batches too); report every problem\n"
    "  hl7 show FILE       print each message as JSON with every value's path\n"
    "  translate FILE      map HL7v2 messages through the mapping profiles (to the care model)\n"
    "  profile test [DIR]  run the mapping profiles' fixtures\n"
    "  serve               run the gateway: HTTP (FHIR, /hl7v2, /metrics) and MLLP listeners\n"
    "\n"
    "Run `midhurst <command> --help` for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  midhurst::cli::Args args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::puts("midhurst 0.1.0");
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "hl7") return midhurst::cli::run_hl7(args);
  if (command == "translate") return midhurst::cli::run_translate(args);
  if (command == "profile") return midhurst::cli::run_profile(args);
  if (command == "serve") return midhurst::cli::run_serve(args);
  std::fprintf(stderr, "midhurst: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
