#include "mapping/engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <list>
#include <optional>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "hl7v2/types.h"

namespace midhurst::mapping {

const char* ledger_status_name(LedgerEntry::Status s) {
  switch (s) {
    case LedgerEntry::Status::kMapped: return "mapped";
    case LedgerEntry::Status::kIgnored: return "ignored";
    case LedgerEntry::Status::kUnread: return "unread";
  }
  return "?";
}

std::vector<std::string> Ledger::fields(LedgerEntry::Status status) const {
  std::vector<std::string> out;
  for (const LedgerEntry& e : entries)
    if (e.status == status) out.push_back(e.field);
  return out;
}

namespace {

const std::string kMatchRule = "(match)";
const std::string kProvenanceRule = "(provenance)";

// One place a rule read, for the ledger.
struct Read {
  Read(const Cursor& c, const std::string* r, const hl7v2::Element& e) : at(c), rule(r), holds_text(e.holds_text()) {}
  Cursor at;
  const std::string* rule;
  std::uint32_t seq = 0;  // position before the ledger's sort (set there)
  // The element read has a populated leaf: a field with such a read is mapped, which the
  // ledger without rule lists can tell without walking the field's leaves.
  bool holds_text;
};

// Where a group's inner rules write: a lazily created target element.
struct Slot {
  Slot* parent = nullptr;
  const Rule* group = nullptr;  // nullptr: the entity roots
  care::ValueRef ref;           // ref.ptr == nullptr until something is written
  bool sourced = false;         // a value read from the message was written into it
};

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return buf;
}

// hl7v2::has_value without walking the parts in the common case: a byte that is no delimiter
// is a populated leaf, and without a '"' no leaf can be the HL7 null.
bool has_value_quick(const hl7v2::Element& e) {
  if (!e.holds_text()) return false;
  if (e.raw().find('"') == std::string_view::npos) return true;
  return hl7v2::has_value(e);
}

bool text_present(const hl7v2::Element& e) {
  // The HL7 null "" ("delete the value") is no value to map.
  return e.present() && !e.empty() && !e.is_null();
}

class Run {
 public:
  // Reads are recorded only for a ledger (track_reads): they feed nothing else.
  Run(const Profile& profile, const hl7v2::Message& m, const SegmentIds& ids, Translation& out, bool track_reads)
      : profile_(profile), m_(m), ids_(ids), out_(out), track_reads_(track_reads), roots_(care::entities().size()) {
    if (track_reads_) reads_.reserve(256);  // a rich message records a few hundred reads: grown once, not eight times
  }

  void rules() {
    Slot root;
    Cursor message_ctx;
    for (const Rule& r : profile_.rules) apply(r, message_ctx, root);
    prune();
  }

  void provenance(const TranslateOptions& o) {
    care::Provenance& p = out_.record.ensure<care::Provenance>();
    // Parsed once: these paths are the engine's own, not profile data.
    static const V2Path kPaths[] = {*V2Path::parse("MSH-3.1", V2Level::kMessage), *V2Path::parse("MSH-4.1", V2Level::kMessage),
                                    *V2Path::parse("MSH-10", V2Level::kMessage), *V2Path::parse("MSH-9.1", V2Level::kMessage),
                                    *V2Path::parse("MSH-9.2", V2Level::kMessage)};
    auto read = [&](const V2Path& v, std::string& text) {
      v.expand(m_, ids_, Cursor{}, [&](const Cursor& c) {
        const hl7v2::Element e = c.element(m_);
        text.assign(e.text(scratch_));
        if (!text.empty() && track_reads_) reads_.push_back({c, &kProvenanceRule, e});
      });
    };
    read(kPaths[0], p.sender.application);
    read(kPaths[1], p.sender.organization_ods);
    read(kPaths[2], p.message_id);
    read(kPaths[3], p.message_type);
    std::string event;
    read(kPaths[4], event);
    if (!event.empty()) p.message_type.append("^").append(event);
    p.format = care::SourceFormat::kHl7v2;
    p.journal_id = o.journal_id;
    p.profile = care::ProfileRef{profile_.name, profile_.version};
    p.received_at = o.received_at.empty() ? now_utc() : o.received_at;
  }

  void record_reads(const std::vector<Read>& r) { reads_.insert(reads_.end(), r.begin(), r.end()); }

  void ledger(LedgerDetail detail) {
    const bool full = detail == LedgerDetail::kFull;
    if (full) {
      // Group the reads by segment and field for the coverage checks below, keeping rule order
      // within a field (the read's position breaks ties: a plain sort, no merge buffer).
      for (std::size_t i = 0; i < reads_.size(); ++i) reads_[i].seq = static_cast<std::uint32_t>(i);
      std::sort(reads_.begin(), reads_.end(), [](const Read& a, const Read& b) {
        return std::tie(a.at.segment, a.at.field, a.seq) < std::tie(b.at.segment, b.at.field, b.seq);
      });
    }
    // Without rule lists, all the ledger needs of the reads is which fields they map.
    const std::vector<std::uint64_t> mapped = full ? std::vector<std::uint64_t>{} : mapped_fields();
    auto next_mapped = mapped.begin();  // fields are visited in the order the keys are sorted
    out_.ledger.entries.reserve(out_.ledger.entries.size() + m_.segment_count() * 8);
    auto next_read = reads_.begin();  // likewise for the sorted reads
    const std::vector<std::uint32_t> occurrence = occurrences();
    // Field names are built in a stack buffer, from the segment's part ("OBX[2]-") made once
    // per segment: most fit std::string's small buffer, so naming the ~100 populated fields of a
    // message allocates nothing.
    char buf[96];  // a 16-character id and five 10-digit numbers fit
    char* prefix_end = buf;
    auto name = [&](std::uint32_t f, std::uint32_t r, std::uint32_t c, std::uint32_t sub) {
      char* p = prefix_end;
      char* const end = buf + sizeof buf;
      auto num = [&](std::uint32_t n) { p = std::to_chars(p, end, n).ptr; };
      num(f);
      if (r > 1) *p++ = '[', num(r), *p++ = ']';
      if (c) *p++ = '.', num(c);
      if (sub) *p++ = '.', num(sub);
      return std::string(buf, static_cast<std::size_t>(p - buf));
    };
    // The ignore entries' segment ids packed as SegmentIds packs a message's (an entry's id has
    // at most three characters, so equal keys are equal ids): compared per segment as integers.
    std::vector<std::uint32_t> ignore_keys;
    ignore_keys.reserve(profile_.ignore.size());
    for (const IgnoreEntry& ig : profile_.ignore) ignore_keys.push_back(SegmentIds::pack(ig.segment));
    // The ignore entries that can apply to a segment, then to a field of it: filtered once there
    // rather than compared by segment id for every value.
    std::vector<const IgnoreEntry*> seg_ignores, field_ignores;
    std::vector<const std::string*> listed;  // the rules of the current entry, by address
    for (std::size_t si = 0; si < m_.segment_count(); ++si) {
      const hl7v2::Segment seg = m_.segment(si);
      const std::string_view id = seg.id();
      const bool header = id == "MSH" || id == "BHS" || id == "FHS";
      prefix_end = std::copy_n(id.data(), std::min<std::size_t>(id.size(), 16), buf);
      if (occurrence[si] > 1) {
        *prefix_end++ = '[';
        prefix_end = std::to_chars(prefix_end, buf + sizeof buf, occurrence[si]).ptr;
        *prefix_end++ = ']';
      }
      *prefix_end++ = '-';
      seg_ignores.clear();
      for (std::size_t i = 0; i < profile_.ignore.size(); ++i) {
        const IgnoreEntry& ig = profile_.ignore[i];
        if (ignore_keys[i] == ids_.key(si) && (ig.occurrence == 0 || ig.occurrence == occurrence[si])) seg_ignores.push_back(&ig);
      }
      // MSH-1/2 are the delimiters.
      seg.for_each_field(header ? 3 : 1, [&](std::size_t field_number, const hl7v2::Element& field) {
        if (field.empty()) return;
        const auto f = static_cast<std::uint32_t>(field_number);
        field_ignores.clear();
        for (const IgnoreEntry* ig : seg_ignores)
          if (ig->field == 0 || ig->field == f) field_ignores.push_back(ig);
        if (!full) {
          const std::uint64_t key = field_key(static_cast<std::uint32_t>(si), f);
          while (next_mapped != mapped.end() && *next_mapped < key) ++next_mapped;
          const bool is_mapped = next_mapped != mapped.end() && *next_mapped == key;
          if (auto status = field_status(field, is_mapped, field_ignores))
            out_.ledger.entries.emplace_back(name(f, 1, 0, 0), *status);
          return;
        }
        while (next_read != reads_.end() &&
               std::make_pair(static_cast<std::size_t>(next_read->at.segment), next_read->at.field) < std::make_pair(si, f))
          ++next_read;
        const auto lo = next_read;
        auto hi = lo;
        while (hi != reads_.end() && hi->at.segment == si && hi->at.field == f) ++hi;
        // A field no rule read is unread, or ignored when an entry names the whole field, as
        // soon as it holds any text: no need to walk its parts (most populated fields of a rich
        // feed are such). Entries naming components need the walk below.
        if (lo == hi) {
          if (auto status = field_status(field, false, field_ignores))
            out_.ledger.entries.emplace_back(name(f, 1, 0, 0), *status);
          return;
        }
        LedgerEntry entry{name(f, 1, 0, 0), LedgerEntry::Status::kUnread, {}, {}};
        listed.clear();
        bool any_mapped = false, all_ignored = true, any_value = false;
        field.for_each_leaf([&](const hl7v2::Element& leaf, std::uint32_t r, std::uint32_t c, std::uint32_t sub, bool split) {
          if (leaf.empty()) return;
          any_value = true;
          bool ignored = false;
          for (const IgnoreEntry* ig : field_ignores)
            if (ig->component == 0 || ig->component == c) ignored = true;
          bool covered = false;
          for (auto it = lo; it != hi; ++it) {
            const Cursor& at = it->at;
            if ((at.repetition ? at.repetition : 1) != r) continue;
            if (at.component && at.component != c) continue;
            if (at.subcomponent && at.subcomponent != sub) continue;
            covered = true;
            // Most reads repeat a rule already listed: known by address, no string compared.
            if (std::find(listed.begin(), listed.end(), it->rule) != listed.end()) continue;
            listed.push_back(it->rule);
            if (std::find(entry.rules.begin(), entry.rules.end(), *it->rule) == entry.rules.end())
              entry.rules.push_back(*it->rule);
          }
          any_mapped = any_mapped || covered;
          all_ignored = all_ignored && (ignored || covered);
          // Unread parts are only reported for a mapped field: named once that is known.
          if (!covered && !ignored) entry.unread.push_back(name(f, r, c, split ? sub : 0));
        });
        if (!any_value) return;  // only delimiters ("^^^"): nothing populated
        entry.status = any_mapped ? LedgerEntry::Status::kMapped
                                  : all_ignored ? LedgerEntry::Status::kIgnored : LedgerEntry::Status::kUnread;
        if (!any_mapped) entry.unread.clear();
        out_.ledger.entries.push_back(std::move(entry));
      });
    }
  }

 private:
  static std::uint64_t field_key(std::uint32_t segment, std::uint32_t field) {
    return std::uint64_t{segment} << 32 | field;
  }

  // The fields some read of which holds text (field_key order): the mapped ones.
  std::vector<std::uint64_t> mapped_fields() const {
    std::vector<std::uint64_t> keys;
    keys.reserve(reads_.size());
    for (const Read& r : reads_)
      if (r.holds_text) keys.push_back(field_key(r.at.segment, r.at.field));
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // The status of a populated field without rule lists (`mapped`: a read of it holds text), or
  // nullopt when it holds only delimiters. Its leaves are walked only when entries ignore some
  // of its components.
  static std::optional<LedgerEntry::Status> field_status(const hl7v2::Element& field, bool mapped,
                                                          const std::vector<const IgnoreEntry*>& ignores) {
    if (mapped) return LedgerEntry::Status::kMapped;
    if (!field.holds_text()) return std::nullopt;
    bool all_ignored = !ignores.empty();
    const bool whole = std::any_of(ignores.begin(), ignores.end(), [](const IgnoreEntry* ig) { return ig->component == 0; });
    if (all_ignored && !whole)
      field.for_each_leaf([&](const hl7v2::Element& leaf, std::uint32_t, std::uint32_t c, std::uint32_t, bool) {
        if (leaf.empty()) return;
        all_ignored = all_ignored && std::any_of(ignores.begin(), ignores.end(), [&](const IgnoreEntry* ig) { return ig->component == c; });
      });
    return all_ignored ? LedgerEntry::Status::kIgnored : LedgerEntry::Status::kUnread;
  }

  // Each segment's occurrence among those with its id (ledger names count them).
  std::vector<std::uint32_t> occurrences() const {
    std::vector<std::uint32_t> occurrence(m_.segment_count());
    std::vector<std::pair<std::string_view, std::uint32_t>> seen;
    for (std::size_t i = 0; i < m_.segment_count(); ++i) {
      const std::string_view id = m_.segment(i).id();
      auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == id; });
      if (it == seen.end()) it = seen.insert(seen.end(), {id, 0});
      occurrence[i] = ++it->second;
    }
    return occurrence;
  }

  // ------------------------------------------------------------------------------------------
  // Conditions

  // `reads` gets the places read (for the ledger); nullptr when no ledger is built.
  bool holds(const Condition& c, const Cursor& ctx, std::vector<Read>* reads, const std::string* rule) {
    switch (c.op) {
      case Condition::Op::kAll:
        for (const Condition& k : c.children)
          if (!holds(k, ctx, reads, rule)) return false;
        return true;
      case Condition::Op::kAny:
        for (const Condition& k : c.children)
          if (holds(k, ctx, reads, rule)) return true;
        return false;
      case Condition::Op::kNot: return !holds(c.children[0], ctx, reads, rule);
      default: break;
    }
    bool result = false;
    c.path->expand(m_, ids_, ctx, [&](const Cursor& at) {
      if (result) return;
      const hl7v2::Element e = at.element(m_);
      if (at.level == V2Level::kSegment) {  // a segment exists
        if (c.op == Condition::Op::kExists) result = true;
        return;
      }
      if (!text_present(e)) return;
      if (reads) reads->push_back({at, rule, e});
      if (c.op == Condition::Op::kExists) {
        result = true;
        return;
      }
      const std::string_view text = e.text(scratch_);
      for (const std::string& v : c.values)
        if (text == v) result = true;
    });
    return c.op == Condition::Op::kExists ? result == c.exists : result;
  }

  // ------------------------------------------------------------------------------------------
  // Issues

  void issue(const Rule& r, hl7v2::ErrorCode code, bool reject, const Cursor& at, std::string why) {
    MappingIssue i;
    i.issue.severity = reject ? hl7v2::Severity::kError : hl7v2::Severity::kWarning;
    i.issue.code = code;
    i.issue.where = at.location(m_, &ids_);
    i.issue.why = std::move(why);
    i.rule = r.id;
    i.source = at.level == V2Level::kMessage ? (r.source ? r.source->text() : "") : Cursor::to_string(i.issue.where);
    i.target = r.target_path ? r.target_path->text() : "";
    out_.issues.push_back(std::move(i));
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  // The object a rule's target path starts from, created on first use.
  care::ValueRef* materialize(Slot& slot, const Rule& r) {
    if (!slot.group || !slot.group->target_path) {
      // Entity roots: the target's entity in the record.
      if (slot.group && slot.parent) return materialize(*slot.parent, r);
      const care::EntityInfo* e = r.target_path->info().entity;
      // Each entity is made once and stays put in the record: its reference is kept per type.
      const auto type = static_cast<std::size_t>(e->type);
      if (type >= roots_.size()) roots_.resize(type + 1);
      care::ValueRef& root = roots_[type];
      if (!root.ptr) {
        root.ptr = out_.record.ensure(e->type);
        root.struct_info = &e->info();
        root.kind = care::Kind::kStruct;
      }
      return &root;
    }
    if (slot.ref.ptr) return &slot.ref;
    Slot* parent = slot.parent;
    care::ValueRef* base = materialize(*parent, *slot.group);
    const std::size_t parent_prefix = slot.group->target_prefix;
    (void)parent_prefix;
    auto ref = slot.group->target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) {
      issue(*slot.group, hl7v2::ErrorCode::kApplicationInternalError, false, Cursor{}, ref.error());
      return nullptr;
    }
    slot.ref = *ref;
    return &slot.ref;
  }

  // `item` is consumed: its text moves into the record.
  bool write(const Rule& r, Slot& slot, Item& item, bool reject) {
    care::ValueRef* base = materialize(slot, r);
    if (!base) return false;
    auto ref = r.target_rel->locate_for_write(base->ptr, *base->struct_info);
    if (!ref) {
      issue(r, hl7v2::ErrorCode::kDataType, reject, item.where, ref.error());
      return false;
    }
    if (auto* coding = std::get_if<care::Coding>(&item.value)) {
      if (ref->kind == care::Kind::kStruct) {
        if (ref->struct_info == &care::Coding::describe()) {
          *static_cast<care::Coding*>(ref->ptr) = std::move(*coding);
        } else {  // CodeableConcept (checked at load)
          auto* cc = static_cast<care::CodeableConcept*>(ref->ptr);
          if (!coding->code.empty()) cc->codings.push_back(std::move(*coding));
          if (!item.original.empty()) cc->original_text = std::move(item.original);
        }
        return true;
      }
      auto s = care::assign(*ref, care::Scalar(std::move(coding->code)));
      if (!s) {
        issue(r, hl7v2::ErrorCode::kTableValueNotFound, reject, item.where, s.error());
        return false;
      }
      return true;
    }
    if (auto* text = std::get_if<std::string>(&item.value); text && ref->kind == care::Kind::kString && !text->empty()) {
      // Plain text needs none of assign()'s checks: moved in rather than copied twice.
      *static_cast<std::string*>(ref->ptr) = std::move(*text);
      return true;
    }
    care::Scalar v = std::visit(
        [](auto& x) -> care::Scalar {
          if constexpr (std::is_same_v<std::decay_t<decltype(x)>, care::Coding>) return std::move(x.code);
          else return std::move(x);
        },
        item.value);
    auto s = care::assign(*ref, v);
    if (!s) {
      issue(r, hl7v2::ErrorCode::kDataType, reject, item.where, s.error());
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Rules

  void apply(const Rule& r, const Cursor& ctx, Slot& slot) {
    if (r.is_group) return apply_group(r, ctx, slot);
    // A leaf rule's reads go straight into reads_ and are taken back unless the rule keeps them:
    // nothing else records a read while it runs, so the order is the same as collecting them
    // apart and appending.
    const std::size_t mark = reads_.size();
    if (!apply_leaf(r, ctx, slot) && track_reads_) reads_.erase(reads_.begin() + static_cast<std::ptrdiff_t>(mark), reads_.end());
  }

  // True when the rule's reads belong in the ledger (it wrote, or checked codes that were there).
  bool apply_leaf(const Rule& r, const Cursor& ctx, Slot& slot) {
    std::vector<Read>* reads = track_reads_ ? &reads_ : nullptr;
    if (r.when && !holds(*r.when, ctx, reads, &r.id)) return false;
    // Leaf rules never nest, so one list serves them all.
    std::vector<Item>& items = items_;
    items.clear();
    Cursor first = ctx;
    bool have_first = false;
    const care::StructInfo* coding_target = r.concept_map ? target_struct(r) : nullptr;
    if (r.source) {
      r.source->expand(m_, ids_, ctx, [&](const Cursor& at) {
        if (!have_first) first = at, have_first = true;
        const hl7v2::Element e = at.element(m_);
        if (!text_present(e)) return;
        if (reads) reads->push_back({at, &r.id, e});
        Item& item = items.emplace_back();
        item.value.emplace<std::string>(e.text(scratch_));
        // The text as read is kept beside the value only where a ConceptMap turns the value
        // into a Coding of a CodeableConcept (its originalText): the one place it is used.
        if (r.concept_map && coding_target == &care::CodeableConcept::describe())
          item.original = std::get<std::string>(item.value);
        item.where = at;
      });
    } else if (r.value) {
      items.push_back(Item{std::visit([](const auto& x) -> decltype(Item::value) { return x; }, *r.value), "", ctx});
    }
    const bool from_source = r.source && !items.empty();
    if (!items.empty()) {
      if (!r.transforms.empty()) {
        std::vector<std::string> notes;
        TransformEnv env;
        env.message = &m_;
        env.context = ctx;
        env.zone = profile_.zone.get();
        // Only concat reads other places; a std::function holding this lambda would allocate.
        const bool reads_more = std::any_of(r.transforms.begin(), r.transforms.end(),
                                            [](const Transform& t) { return t.op == Transform::Op::kConcat; });
        if (reads && reads_more) env.on_read = [&](const Cursor& c) { reads->push_back({c, &r.id, c.element(m_)}); };
        env.notes = &notes;
        for (const Transform& t : r.transforms) {
          Cursor failed;
          auto s = apply_transform(t, items, env, &failed);
          if (!s) {
            issue(r, hl7v2::ErrorCode::kDataType, r.reject_invalid, failed, s.error());
            return false;
          }
        }
        for (const std::string& n : notes) {
          issue(r, hl7v2::ErrorCode::kAccepted, false, items.empty() ? ctx : items[0].where, n);
          out_.issues.back().issue.severity = hl7v2::Severity::kInformation;
        }
      }
      if (r.concept_map) {
        // Mapped items are compacted in place; each unmapped code has its issue.
        std::size_t kept = 0;
        for (Item& item : items) {
          const std::string code = std::move(std::get<std::string>(item.value));  // replaced below
          ConceptMap::TranslationView t = r.concept_map->lookup(code);
          if (t.kind == ConceptMap::Translation::Kind::kUnmapped && r.unmapped == Rule::Unmapped::kKeep)
            t = {ConceptMap::Translation::Kind::kUnmappedProvided, {}, code, {}};
          if (t.kind == ConceptMap::Translation::Kind::kUnmapped ||
              (r.unmapped == Rule::Unmapped::kReject && t.kind != ConceptMap::Translation::Kind::kMapped)) {
            const bool reject = r.reject_invalid || r.unmapped == Rule::Unmapped::kReject;
            issue(r, hl7v2::ErrorCode::kTableValueNotFound, reject, item.where,
                  "code '" + code + "' is not in ConceptMap '" + r.concept_map_name + "'");
            continue;
          }
          // A scalar target takes only the code (write()): the system and display are not copied.
          care::Coding& coding = item.value.emplace<care::Coding>();
          coding.code.assign(t.code);
          if (coding_target) {
            coding.system.assign(t.system);
            coding.display.assign(t.display);
          }
          if (&items[kept] != &item) items[kept] = std::move(item);
          ++kept;
        }
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(kept), items.end());
        if (items.empty()) return false;
      }
    }
    if (!r.target_path) return !items.empty();  // a check-only rule: its codes were looked up, nothing to write
    if (items.empty() && r.default_value)
      items.push_back(Item{std::visit([](const auto& x) -> decltype(Item::value) { return x; }, *r.default_value), "", ctx});
    if (items.empty()) {
      if (r.required)
        issue(r, hl7v2::ErrorCode::kRequiredFieldMissing, true, have_first ? first : ctx,
              "required value missing" + std::string(r.source ? " at " + r.source->text() : "") + " for " + r.target_path->text());
      return false;
    }
    bool wrote = false;
    for (Item& item : items) wrote = write(r, slot, item, r.reject_invalid) || wrote;
    if (wrote && from_source) slot.sourced = true;
    return wrote;
  }

  // The struct a leaf rule's target names (a Coding, a CodeableConcept...), or nullptr for a
  // scalar target or none (a leaf's target is never empty: at least one step past its group's).
  static const care::StructInfo* target_struct(const Rule& r) {
    if (!r.target_rel || r.target_rel->steps().empty()) return nullptr;
    const care::FieldInfo* f = r.target_rel->steps().back().field;
    return f->kind == care::Kind::kStruct ? f->struct_info() : nullptr;
  }

  static Status<std::string> apply_transform(const Transform& t, std::vector<Item>& items, const TransformEnv& env,
                                             Cursor* failed) {
    return mapping::apply(t, items, env, failed);
  }

  void apply_group(const Rule& g, const Cursor& ctx, Slot& parent) {
    auto run = [&](const Cursor& c) {
      Pooled<Read> pooled_reads(spare_reads_);
      std::vector<Read>* reads = track_reads_ ? &pooled_reads.v : nullptr;
      if (g.when && !holds(*g.when, c, reads, &g.id)) return;
      Slot slot;
      slot.parent = &parent;
      slot.group = &g;
      const std::size_t issues_before = out_.issues.size();
      for (const Rule& inner : g.rules) apply(inner, c, slot);
      if (g.target_path && slot.ref.ptr) {
        const std::string why = slot.ref.struct_info ? care::check_complete(*slot.ref.struct_info, slot.ref.ptr) : "";
        if ((!why.empty() || !slot.sourced) && slot.ref.field) {  // (an entity root is refused at load)
          slot.ref.field->erase(slot.ref.owner, slot.ref.index);
          if (slot.sourced)
            issue(g, g.reject_invalid ? hl7v2::ErrorCode::kRequiredFieldMissing : hl7v2::ErrorCode::kDataType,
                  g.reject_invalid, c, "left out " + g.target_path->text() + ": " + why);
          return;
        }
      }
      if (!g.target_path) parent.sourced = parent.sourced || slot.sourced;
      if (reads && (slot.sourced || out_.issues.size() != issues_before)) record_reads(*reads);
      if (slot.sourced) parent.sourced = true;
    };
    if (!g.source) return run(ctx);
    // A group over repeating segments whose condition requires a field to equal a code (the
    // end-of-life OBX groups each test OBX-3): that field's value per segment is read once per
    // message and shared by every such group, and segments it rules out are skipped without
    // evaluating the condition (which would only have failed, leaving nothing behind).
    const Condition* key = g.source->level() == V2Level::kSegment && g.when ? key_condition(*g.when) : nullptr;
    KeyValues* keyed = key ? &key_values(*key->path) : nullptr;
    g.source->expand(m_, ids_, ctx, [&](const Cursor& c) {
      if (c.level != V2Level::kSegment && !has_value_quick(c.element(m_))) return;
      if (keyed) {
        const std::optional<std::string>& v = key_value(*keyed, *key->path, c.segment);
        if (!v || std::find(key->values.begin(), key->values.end(), *v) == key->values.end()) return;
      }
      run(c);
    });
  }

  // An equality (or `in`) on a single relative place that `when` requires: itself, or one of
  // the conditions an `all` requires. nullptr when there is none.
  static const Condition* key_condition(const Condition& c) {
    if ((c.op == Condition::Op::kEquals || c.op == Condition::Op::kIn) && c.path && c.path->relative() &&
        !c.path->iterates() && c.path->level() != V2Level::kSegment)
      return &c;
    if (c.op == Condition::Op::kAll)
      for (const Condition& k : c.children)
        if (const Condition* found = key_condition(k)) return found;
    return nullptr;
  }

  // The text at a relative path read from each segment as context, filled in as segments are
  // visited and kept for the message (nullopt where the condition would find no value).
  struct KeyValues {
    std::string path;
    std::vector<std::uint8_t> known;  // per segment: its value below has been read
    std::vector<std::optional<std::string>> values;
  };

  KeyValues& key_values(const V2Path& path) {
    for (KeyValues& k : key_values_)
      if (k.path == path.text()) return k;
    KeyValues& k = key_values_.emplace_back();
    k.path = path.text();
    k.known.assign(m_.segment_count(), 0);
    k.values.resize(m_.segment_count());
    return k;
  }

  const std::optional<std::string>& key_value(KeyValues& k, const V2Path& path, std::uint32_t segment) {
    if (!k.known[segment]) {
      k.known[segment] = 1;
      Cursor seg;
      seg.segment = segment;
      seg.level = V2Level::kSegment;
      path.expand(m_, ids_, seg, [&](const Cursor& at) {
        const hl7v2::Element e = at.element(m_);
        if (text_present(e)) k.values[segment] = std::string(e.text(scratch_));
      });
    }
    return k.values[segment];
  }

  // ------------------------------------------------------------------------------------------
  // Pruning: a struct that ends up without a required field (an Identifier without a value, a
  // NhsNumber without its number) is never emitted; each removal is a warning.

  void prune() {
    for (const care::EntityInfo& e : care::entities()) {
      if (e.type == care::EntityType::kProvenance) continue;
      const void* obj = out_.record.find(e.type);
      if (!obj) continue;
      prune_struct(e, e.info(), const_cast<void*>(obj));
    }
  }

  // prune_steps_ leads from the entity to obj; the path is only spelled out for a removal.
  void prune_struct(const care::EntityInfo& entity, const care::StructInfo& s, void* obj) {
    for (const care::FieldInfo& f : s.fields) {
      if (f.kind != care::Kind::kStruct || f.shape == care::Shape::kOne) continue;
      for (std::size_t i = f.count(obj); i-- > 0;) {
        void* e = const_cast<void*>(f.element(obj, i));
        prune_steps_.push_back({&f, i});
        prune_struct(entity, *f.struct_info(), e);
        if (std::string why = care::check_complete(*f.struct_info(), e); !why.empty()) {
          f.erase(obj, i);
          std::string p(entity.path_name);
          for (const auto& [field, index] : prune_steps_) {
            p.append(".").append(field->name);
            if (field->shape == care::Shape::kList) p.append("[").append(std::to_string(index)).append("]");
          }
          MappingIssue mi;
          mi.issue.severity = hl7v2::Severity::kWarning;
          mi.issue.code = hl7v2::ErrorCode::kRequiredFieldMissing;
          mi.issue.why = "left out " + p + ": " + why;
          mi.target = p;
          out_.issues.push_back(std::move(mi));
        }
        prune_steps_.pop_back();
      }
    }
  }
  std::vector<std::pair<const care::FieldInfo*, std::size_t>> prune_steps_;

  // A vector borrowed from a free list for one rule's evaluation and given back cleared, its
  // capacity kept: a message runs hundreds of rules (and groups once per context), and a fresh
  // vector for each was a large share of its allocations.
  template <typename T>
  struct Pooled {
    explicit Pooled(std::vector<std::vector<T>>& spare) : spare_(spare) {
      if (!spare_.empty()) {
        v = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    ~Pooled() {
      v.clear();
      spare_.push_back(std::move(v));
    }
    Pooled(const Pooled&) = delete;
    Pooled& operator=(const Pooled&) = delete;
    std::vector<T> v;

   private:
    std::vector<std::vector<T>>& spare_;
  };

  std::vector<std::vector<Read>> spare_reads_;
  std::string scratch_;  // text of a value being compared (conditions)

  const Profile& profile_;
  const hl7v2::Message& m_;
  const SegmentIds& ids_;
  Translation& out_;
  const bool track_reads_;
  std::vector<Read> reads_;
  std::vector<Item> items_;  // the values of the leaf rule being applied
  // See key_values(); a list, so that a group's values stay put while an inner group adds its own
  // (and nothing is allocated for a message without such groups).
  std::list<KeyValues> key_values_;
  std::vector<care::ValueRef> roots_;  // by care::EntityType
};

}  // namespace

namespace {

// select_profile and translate_with over segment ids made once for both.
Result<const Profile*, MappingIssue> select_profile_by_ids(const ProfileSet& set, const hl7v2::Message& message,
                                                           const SegmentIds& ids) {
  std::vector<const Profile*> hits;
  for (const auto& p : set.profiles()) {
    if (p->abstract || p->direction != Direction::kHl7v2ToCare || !p->match) continue;
    // Matching records no reads here; translate_with records the match fields of the chosen one.
    struct Probe {
      static bool holds(const Condition& c, const hl7v2::Message& m, const SegmentIds& ids, const Cursor& ctx) {
        switch (c.op) {
          case Condition::Op::kAll:
            for (const Condition& k : c.children)
              if (!holds(k, m, ids, ctx)) return false;
            return true;
          case Condition::Op::kAny:
            for (const Condition& k : c.children)
              if (holds(k, m, ids, ctx)) return true;
            return false;
          case Condition::Op::kNot: return !holds(c.children[0], m, ids, ctx);
          default: break;
        }
        bool result = false;
        c.path->expand(m, ids, ctx, [&](const Cursor& at) {
          const hl7v2::Element e = at.element(m);
          if (at.level == V2Level::kSegment) {
            result = result || c.op == Condition::Op::kExists;
            return;
          }
          if (!text_present(e)) return;
          if (c.op == Condition::Op::kExists) result = true;
          std::string scratch;
          const std::string_view text = e.text(scratch);
          for (const std::string& v : c.values) result = result || text == v;
        });
        return c.op == Condition::Op::kExists ? result == c.exists : result;
      }
    };
    if (Probe::holds(*p->match, message, ids, Cursor{})) hits.push_back(p.get());
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Profile* a, const Profile* b) {
    return std::tie(a->priority, a->depth) > std::tie(b->priority, b->depth);
  });
  const bool tie = hits.size() > 1 && hits[0]->priority == hits[1]->priority && hits[0]->depth == hits[1]->depth;
  if (!hits.empty() && !tie) return hits[0];  // the common case: no text built
  const std::string type = message.text("MSH-9.1") + "^" + message.text("MSH-9.2");
  MappingIssue mi;
  mi.issue.severity = hl7v2::Severity::kError;
  mi.source = "MSH-9";
  if (auto seg = message.find("MSH")) mi.issue.where = seg->field(9).location();
  if (hits.empty()) {
    mi.issue.code = hl7v2::ErrorCode::kUnsupportedMessageType;
    mi.issue.why = "no hl7v2→care profile matches this message (" + type + " from " + message.text("MSH-4.1") + ")";
    return err(std::move(mi));
  }
  mi.issue.code = hl7v2::ErrorCode::kApplicationInternalError;
  mi.issue.why = "profiles '" + hits[0]->name + "' and '" + hits[1]->name + "' both match " + type +
                 " with the same priority; give one a higher \"priority\"";
  return err(std::move(mi));
}

Translation translate_by_ids(const Profile& profile, const hl7v2::Message& message, const SegmentIds& ids,
                             const TranslateOptions& options, LedgerDetail ledger) {
  Translation out;
  out.profile = &profile;
  Run run(profile, message, ids, out, ledger != LedgerDetail::kNone);
  // The match condition's fields were read to select the profile.
  if (profile.match && ledger != LedgerDetail::kNone) {
    std::vector<Read> reads;
    std::function<void(const Condition&)> walk = [&](const Condition& c) {
      for (const Condition& k : c.children) walk(k);
      if (c.path)
        c.path->expand(message, Cursor{}, [&](const Cursor& at) {
          if (at.level == V2Level::kSegment) return;
          const hl7v2::Element e = at.element(message);
          if (text_present(e)) reads.push_back({at, &kMatchRule, e});
        });
    };
    walk(*profile.match);
    run.record_reads(reads);
  }
  run.provenance(options);
  run.rules();
  if (ledger != LedgerDetail::kNone) run.ledger(ledger);
  out.accepted = !std::any_of(out.issues.begin(), out.issues.end(), [](const MappingIssue& i) {
    return i.issue.severity == hl7v2::Severity::kError;
  });
  return out;
}

}  // namespace

Result<const Profile*, MappingIssue> select_profile(const ProfileSet& set, const hl7v2::Message& message) {
  return select_profile_by_ids(set, message, SegmentIds(message));
}

Translation translate_with(const Profile& profile, const hl7v2::Message& message, const TranslateOptions& options,
                           LedgerDetail ledger) {
  return translate_by_ids(profile, message, SegmentIds(message), options, ledger);
}

Translation translate(const ProfileSet& set, const hl7v2::Message& message, const TranslateOptions& options,
                      LedgerDetail ledger) {
  const SegmentIds ids(message);
  auto p = select_profile_by_ids(set, message, ids);
  if (!p) {
    Translation out;
    out.issues.push_back(p.error());
    return out;
  }
  return translate_by_ids(**p, message, ids, options, ledger);
}

std::string translation_to_json(const Translation& t, bool pretty) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  auto str = [&](const std::string& s) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  if (t.profile) {
    rapidjson::Value p(rapidjson::kObjectType);
    p.AddMember("name", str(t.profile->name), a);
    p.AddMember("version", str(t.profile->version), a);
    d.AddMember("profile", p, a);
  }
  d.AddMember("accepted", t.accepted, a);
  rapidjson::Value rec;
  t.record.to_json_value(rec, a);
  d.AddMember("record", rec, a);
  rapidjson::Value issues(rapidjson::kArrayType);
  for (const MappingIssue& i : t.issues) issues.PushBack(str(i.to_string()), a);
  d.AddMember("issues", issues, a);
  rapidjson::Value ledger(rapidjson::kObjectType), mapped(rapidjson::kObjectType), ignored(rapidjson::kArrayType),
      unread(rapidjson::kArrayType), parts(rapidjson::kArrayType);
  for (const LedgerEntry& e : t.ledger.entries) {
    if (e.status == LedgerEntry::Status::kMapped) {
      rapidjson::Value rules(rapidjson::kArrayType);
      for (const std::string& r : e.rules) rules.PushBack(str(r), a);
      mapped.AddMember(str(e.field), rules, a);
      for (const std::string& u : e.unread) parts.PushBack(str(u), a);
    } else if (e.status == LedgerEntry::Status::kIgnored) {
      ignored.PushBack(str(e.field), a);
    } else {
      unread.PushBack(str(e.field), a);
    }
  }
  ledger.AddMember("mapped", mapped, a);
  ledger.AddMember("ignored", ignored, a);
  ledger.AddMember("unread", unread, a);
  ledger.AddMember("unreadParts", parts, a);
  d.AddMember("ledger", ledger, a);
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    d.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace midhurst::mapping
