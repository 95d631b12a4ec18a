#include "server/ingest.h"

namespace midhurst::server {

std::string ack_code_of(std::string_view ack) {
  if (ack.size() < 4 || ack.substr(0, 3) != "MSH") return {};
  const char sep = ack[3];
  for (size_t at = ack.find("MSA"); at != std::string_view::npos; at = ack.find("MSA", at + 1)) {
    if ((at == 0 || ack[at - 1] == '\r' || ack[at - 1] == '\n') && at + 3 < ack.size() && ack[at + 3] == sep) {
      const size_t begin = at + 4;
      size_t end = begin;
      while (end < ack.size() && ack[end] != sep && ack[end] != '\r' && ack[end] != '\n') ++end;
      return std::string(ack.substr(begin, end - begin));
    }
  }
  return {};
}

}  // namespace midhurst::server
