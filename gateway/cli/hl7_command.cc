// `midhurst hl7 check` and `midhurst hl7 show`: the HL7v2 toolkit on files.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "hl7v2/batch.h"
#include "hl7v2/message.h"
#include "hl7v2/validate.h"

namespace midhurst::cli {
namespace {

using hl7v2::Element;
using hl7v2::Issue;
using hl7v2::Issues;
using hl7v2::Message;
using hl7v2::MessageSpan;
using hl7v2::Severity;

constexpr const char* kHl7Usage =
    "usage: midhurst hl7 <check|show> [options] FILE...\n"
    "\n"
    "  check FILE...   parse and validate each message (batch files and files of several\n"
    "                  messages too); print OK or every problem with its location\n"
    "  show FILE...    print each message as JSON: every non-empty value with its path\n"
    "\n"
    "FILE may be '-' for standard input. Run `midhurst hl7 check --help` for details.\n";

constexpr const char* kCheckUsage =
    "usage: midhurst hl7 check [--quiet] FILE...\n"
    "\n"
    "Parses and validates every HL7v2 message in each FILE ('-' reads standard input).\n"
    "A file may hold one message, several, or an FHS/BHS batch; segments may end with\n"
    "\\r, \\n or \\r\\n, and a UTF-8 byte-order mark is skipped.\n"
    "\n"
    "Prints one line per message: OK, or each problem as\n"
    "  FILE: message N (line L): error CODE (table 0357 text) at SEG[occurrence]-field[rep].comp.sub: why\n"
    "Warnings are printed but do not fail the check.\n"
    "\n"
    "options:\n"
    "  -q, --quiet   print only problems\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status: 0 every message is valid, 1 some message or file has an error, 2 bad usage.\n";

constexpr const char* kShowUsage =
    "usage: midhurst hl7 show FILE...\n"
    "\n"
    "Prints the messages in each FILE ('-' reads standard input) as a JSON array, one object\n"
    "per message: its delimiters, charset, any problems, and each segment's non-empty values\n"
    "keyed by their path (PID-3[2].4.1 style; OBX[2]-5 for the second OBX), text unescaped\n"
    "and in UTF-8. Meant for engineers learning a feed, and for writing mapping paths.\n"
    "\n"
    "exit status: 0 every message parsed, 1 a file could not be read or a message not parsed,\n"
    "2 bad usage.\n";

bool read_input(const std::string& name, std::string* out, std::string* error) {
  if (name == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), {});
    return true;
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) {
    *error = "cannot open file";
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) {
    *error = "read error";
    return false;
  }
  return true;
}

std::string message_label(const std::string& file, size_t n, const MessageSpan& span) {
  return file + ": message " + std::to_string(n) + " (line " + std::to_string(span.line) + ")";
}

int check(const Args& args) {
  bool quiet = false;
  std::vector<std::string> files;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kCheckUsage, stdout);
      return 0;
    }
    if (a == "--quiet" || a == "-q") quiet = true;
    else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "midhurst hl7 check: unknown option '%s'\n\n%s", a.c_str(), kCheckUsage);
      return 2;
    } else files.push_back(a);
  }
  if (files.empty()) {
    std::fputs(kCheckUsage, stderr);
    return 2;
  }

  bool failed = false;
  size_t messages = 0, bad_messages = 0;
  for (const std::string& file : files) {
    std::string bytes, error;
    if (!read_input(file, &bytes, &error)) {
      std::printf("%s: %s\n", file.c_str(), error.c_str());
      failed = true;
      continue;
    }
    hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
    for (const Issue& issue : batch.issues) {
      std::printf("%s: %s\n", file.c_str(), issue.to_string().c_str());
      failed |= issue.severity == Severity::kError;
    }
    size_t n = 0;
    for (const MessageSpan& span : batch.messages()) {
      ++n;
      ++messages;
      Issues issues = hl7v2::check_message(span.bytes);
      const std::string label = message_label(file, n, span);
      if (issues.empty()) {
        if (!quiet) {
          Message m;
          m.reset(span.bytes);
          std::printf("%s: OK %s %s\n", label.c_str(), std::string(m.get("MSH-9").raw()).c_str(),
                      m.text("MSH-10").c_str());
        }
        continue;
      }
      bool message_failed = false;
      for (Issue& issue : issues) {
        issue.where = span.to_file(issue.where);
        std::printf("%s: %s\n", label.c_str(), issue.to_string().c_str());
        message_failed |= issue.severity == Severity::kError;
      }
      bad_messages += message_failed;
      failed |= message_failed;
    }
  }
  if (!quiet || failed)
    std::printf("%zu message(s) checked, %zu with errors\n", messages, bad_messages);
  return failed ? 1 : 0;
}

// The shortest path that names this value: components and sub-components are shown only
// when the field (or component) has more than one.
std::string value_path(const Element& field, size_t rep, size_t comp, size_t sub, size_t comps, size_t subs) {
  hl7v2::Location loc = field.location();
  std::string p = loc.segment_id;
  if (loc.segment_occurrence > 1) p += "[" + std::to_string(loc.segment_occurrence) + "]";
  p += "-" + std::to_string(loc.field);
  if (rep > 1) p += "[" + std::to_string(rep) + "]";
  if (comps > 1 || subs > 1) {
    p += "." + std::to_string(comp);
    if (subs > 1) p += "." + std::to_string(sub);
  }
  return p;
}

template <typename Writer>
void write_message(Writer& w, const std::string& file, size_t n, const MessageSpan& span) {
  w.StartObject();
  w.Key("file");
  w.String(file.c_str());
  w.Key("message");
  w.Uint64(n);
  w.Key("line");
  w.Uint64(span.line);
  auto parsed = Message::parse(std::string(span.bytes));
  if (!parsed.ok()) {
    w.Key("error");
    w.String(parsed.error().to_string().c_str());
    w.EndObject();
    return;
  }
  const Message& m = *parsed;
  const hl7v2::Delimiters& d = m.delimiters();
  const std::string delims = std::string(1, d.field) + d.encoding_characters();
  w.Key("delimiters");
  w.String(delims.c_str());
  w.Key("charset");
  w.String(m.charset().name().c_str());
  Issues issues = hl7v2::validate(m);
  if (!issues.empty()) {
    w.Key("issues");
    w.StartArray();
    for (const Issue& i : issues) w.String(i.to_string().c_str());
    w.EndArray();
  }
  w.Key("segments");
  w.StartArray();
  for (size_t s = 0; s < m.segment_count(); ++s) {
    hl7v2::Segment seg = m.segment(s);
    w.StartObject();
    w.Key("segment");
    w.Uint64(s + 1);
    w.Key("id");
    const std::string id(seg.id());
    w.String(id.c_str());
    w.Key("values");
    w.StartObject();
    for (size_t f = 1; f <= seg.field_count(); ++f) {
      Element field = seg.field(f);
      size_t rep = 0;
      field.for_each_part([&](const Element& r) {
        ++rep;
        const size_t comps = f <= 2 && seg.index() == 0 ? 1 : r.size();
        size_t comp = 0;
        r.for_each_part([&](const Element& c) {
          ++comp;
          const size_t subs = c.size();
          size_t sub = 0;
          c.for_each_part([&](const Element& v) {
            ++sub;
            if (v.empty()) return;
            const std::string path = value_path(field, rep, comp, sub, comps, subs);
            const std::string text = (f <= 2 && seg.index() == 0) ? std::string(field.raw()) : v.text();
            w.Key(path.c_str());
            w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
          });
        });
      });
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

int show(const Args& args) {
  std::vector<std::string> files;
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kShowUsage, stdout);
      return 0;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "midhurst hl7 show: unknown option '%s'\n\n%s", a.c_str(), kShowUsage);
      return 2;
    }
    files.push_back(a);
  }
  if (files.empty()) {
    std::fputs(kShowUsage, stderr);
    return 2;
  }
  bool failed = false;
  rapidjson::StringBuffer out;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(out);
  w.SetIndent(' ', 2);
  w.StartArray();
  for (const std::string& file : files) {
    std::string bytes, error;
    if (!read_input(file, &bytes, &error)) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), error.c_str());
      failed = true;
      continue;
    }
    hl7v2::BatchFile batch = hl7v2::split_batch(bytes);
    for (const Issue& issue : batch.issues) {
      std::fprintf(stderr, "%s: %s\n", file.c_str(), issue.to_string().c_str());
      failed |= issue.severity == Severity::kError;
    }
    size_t n = 0;
    for (const MessageSpan& span : batch.messages()) {
      write_message(w, file, ++n, span);
      failed |= !Message::parse(std::string(span.bytes)).ok();
    }
  }
  w.EndArray();
  std::fwrite(out.GetString(), 1, out.GetSize(), stdout);
  std::fputc('\n', stdout);
  return failed ? 1 : 0;
}

}  // namespace

int run_hl7(const Args& args) {
  if (args.empty()) {
    std::fputs(kHl7Usage, stderr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kHl7Usage, stdout);
    return 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "check") return check(rest);
  if (args[0] == "show") return show(rest);
  std::fprintf(stderr, "midhurst hl7: unknown sub-command '%s'\n\n%s", args[0].c_str(), kHl7Usage);
  return 2;
}

}  // namespace midhurst::cli
