// SqliteStore::search and count: a Query becomes one SELECT over entity_current, each criterion
// an `id IN (index subquery)` or a correlated EXISTS, with keyset pagination on (sort key, id).
// A search by patient or by identifier reads its candidates straight from idx_term instead and
// orders them here (search()). search_versions runs the same SQL without the entity_version
// join: each entity's current version key only.
//
// One statement per search, so a page is read from one snapshot. The SQL text depends only on
// the query's shape (which criteria, how many), never on values, so statement caching works.
#include <algorithm>
#include <string>
#include <vector>

#include "store/cursor.h"
#include "store/index_terms.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_store.h"
#include "store/time_range.h"

namespace midhurst::store {

namespace {

StoreError invalid(std::string message) {
  return StoreError{StoreError::Code::kInvalidArgument, std::move(message)};
}

struct Sql {
  std::string text;
  std::vector<std::string> args;
  void add(const std::string& clause, std::initializer_list<std::string> a) {
    text += " AND ";
    text += clause;
    args.insert(args.end(), a);
  }
};

// The FHIR range comparison of a [lo, hi] column pair with the query range [?, ?]
// (https://hl7.org/fhir/R4/search.html#prefix). Appends the two query bounds to `args` in the
// order the returned SQL uses them.
std::string date_condition(DatePrefix p, const std::string& lo, const std::string& hi,
                           const InstantRange& q, std::vector<std::string>* args) {
  auto eq = [&] {
    args->push_back(q.lo);
    args->push_back(q.hi);
    return "(" + lo + " >= ? AND " + hi + " <= ?)";
  };
  switch (p) {
    case DatePrefix::kEq: return eq();
    case DatePrefix::kNe: return "NOT " + eq();
    case DatePrefix::kLt: args->push_back(q.lo); return lo + " < ?";
    case DatePrefix::kGt: args->push_back(q.hi); return hi + " > ?";
    case DatePrefix::kGe: args->push_back(q.hi); return "(" + hi + " > ? OR " + eq() + ")";
    case DatePrefix::kLe: args->push_back(q.lo); return "(" + lo + " < ? OR " + eq() + ")";
  }
  return "0";
}

// One alternative of an OR criterion: a condition on the idx_term row `x` (its kind, param and
// values; the type is added by add_any) with its bound values.
struct Alt {
  std::string where;
  std::vector<std::string> args;
};

// One OR criterion: the entity has an idx_term row meeting some alternative. `select` is what
// the row contributes as the entity id (a patient identifier names its survivor), `from` the
// row source. With `by_patient` the patient's few entities drive the search (see add_criteria).
// Each alternative is its own indexed lookup (UNION ALL), so values are only ever bound.
void add_any(const std::vector<Alt>& alts, const std::string& type, bool by_patient, Sql* sql,
             const char* select = "x.id", const char* from = "idx_term x") {
  if (alts.empty()) {
    sql->text += " AND 0";  // no alternative can hold
    return;
  }
  if (by_patient) {
    sql->text += " AND EXISTS (SELECT 1 FROM idx_term x WHERE x.type=? AND x.id=c.id AND (";
    sql->args.push_back(type);
    for (std::size_t i = 0; i < alts.size(); ++i) {
      sql->text += (i ? " OR (" : "(") + alts[i].where + ")";
      sql->args.insert(sql->args.end(), alts[i].args.begin(), alts[i].args.end());
    }
    sql->text += "))";
    return;
  }
  sql->text += " AND c.id IN (";
  for (std::size_t i = 0; i < alts.size(); ++i) {
    if (i) sql->text += " UNION ALL ";
    sql->text += std::string("SELECT ") + select + " FROM " + from + " WHERE x.type=? AND " + alts[i].where;
    sql->args.push_back(type);
    sql->args.insert(sql->args.end(), alts[i].args.begin(), alts[i].args.end());
  }
  sql->text += ")";
}

// A token alternative: code and system, code alone, or system alone (`system|`).
StoreStatus token_alt(const TokenParam& t, std::vector<Alt>* out) {
  if (t.code.empty() && t.system.empty()) return err(invalid("token " + t.param + ": a system or a code is required"));
  Alt a{"x.kind='t' AND x.param=?", {t.param}};
  if (!t.code.empty()) {
    a.where += " AND x.a=?";
    a.args.push_back(t.code);
  }
  if (!t.system.empty()) {
    a.where += " AND x.b=?";
    a.args.push_back(t.system);
  }
  out->push_back(std::move(a));
  return {};
}

// The OR lists of q (Query::any_*).
StoreStatus add_any_criteria(const Query& q, const std::string& type, bool by_patient, Sql* sql) {
  for (const auto& group : q.any_identifiers) {
    std::vector<Alt> alts;
    for (const IdentifierParam& i : group) {
      if (i.system.empty() && i.value.empty()) return err(invalid("identifier: a system or a value is required"));
      Alt a{"x.kind='i' AND x.param='identifier'", {}};
      if (!i.value.empty()) {
        a.where += " AND x.a=?";
        a.args.push_back(i.value);
      }
      if (!i.system.empty()) {
        a.where += " AND x.b=?";
        a.args.push_back(i.system);
      }
      alts.push_back(std::move(a));
    }
    if (q.type == care::EntityType::kPatient) {
      // A40: as for Query::identifier, a merged-away record's identifier finds its survivor.
      add_any(alts, type, false, sql, "coalesce(l.survivor_id, x.id)",
              "idx_term x LEFT JOIN patient_link l ON l.old_id=x.id");
    } else {
      add_any(alts, type, by_patient, sql);
    }
  }
  for (const auto& group : q.any_patients) {
    // As Query::patient: the entities of any of these patients or of a record merged into one.
    std::vector<Alt> alts;
    for (const std::string& id : group)
      alts.push_back({"x.kind='r' AND x.param='patient' AND x.a IN (SELECT ? UNION SELECT old_id FROM "
                      "patient_link WHERE survivor_id=?)",
                      {id, id}});
    add_any(alts, type, false, sql);
  }
  for (const auto& group : q.any_references) {
    std::vector<Alt> alts;
    for (const ReferenceParam& r : group) alts.push_back({"x.kind='r' AND x.param=? AND x.a=?", {r.param, r.target}});
    add_any(alts, type, by_patient, sql);
  }
  for (const auto& group : q.any_strings) {
    std::vector<Alt> alts;
    for (const StringParam& p : group) {
      std::string lo = normalise_text(p.prefix), hi = prefix_successor(lo);
      if (hi.empty()) alts.push_back({"x.kind='s' AND x.param=? AND x.a>=?", {p.param, lo}});
      else alts.push_back({"x.kind='s' AND x.param=? AND x.a>=? AND x.a<?", {p.param, lo, hi}});
    }
    add_any(alts, type, by_patient, sql);
  }
  for (const auto& group : q.any_tokens) {
    std::vector<Alt> alts;
    for (const TokenParam& t : group)
      if (auto s = token_alt(t, &alts); !s.ok()) return s;
    add_any(alts, type, by_patient, sql);
  }
  return {};
}

// Which criterion of a search is its row source (see search()); add_criteria leaves it out.
enum class Driver { kNone, kIdentifier, kPatient };

// Adds every criterion of q (not the keyset, nor the `driver`, which the FROM clause holds) to
// sql. `type` is the entity type's table name.
StoreStatus add_criteria(const Query& q, const std::string& type, Sql* sql, Driver driver = Driver::kNone) {
  if (!q.ids.empty()) {
    std::string in = "c.id IN (";
    for (std::size_t i = 0; i < q.ids.size(); ++i) in += i ? ",?" : "?";
    sql->text += " AND " + in + ")";
    sql->args.insert(sql->args.end(), q.ids.begin(), q.ids.end());
  }
  if (q.identifier && driver != Driver::kIdentifier) {
    const auto& [system, value] = *q.identifier;
    std::string sys = system.empty() ? "" : " AND i.b=?";
    if (q.type == care::EntityType::kPatient) {
      // A40: an identifier of a merged-away record finds its survivor (patient_link, INV M1).
      sql->text += " AND c.id IN (SELECT coalesce(l.survivor_id, i.id) FROM idx_term i "
                   "LEFT JOIN patient_link l ON l.old_id=i.id WHERE i.kind='i' AND i.type=? AND "
                   "i.param='identifier' AND i.a=?" + sys + ")";
    } else if (!q.patient.empty()) {
      // With a patient too (the ingest's "this patient's encounter with this visit number"),
      // the patient's few entities drive the search and each is checked by key. As an IN list,
      // SQLite would collect every entity holding the identifier on each call, and a value many
      // patients share (a reused visit number) made that grow with the store.
      sql->text += " AND EXISTS (SELECT 1 FROM idx_term i WHERE i.kind='i' AND i.type=? AND "
                   "i.param='identifier' AND i.a=?" + sys + " AND i.id=c.id)";
    } else {
      sql->text += " AND c.id IN (SELECT i.id FROM idx_term i WHERE i.kind='i' AND i.type=? AND "
                   "i.param='identifier' AND i.a=?" + sys + ")";
    }
    sql->args.push_back(type);
    sql->args.push_back(value);
    if (!system.empty()) sql->args.push_back(system);
  }
  if (!q.patient.empty() && driver != Driver::kPatient) {
    // Entities of the patient and of every record merged into it.
    sql->add("c.id IN (SELECT r.id FROM idx_term r WHERE r.kind='r' AND r.type=? AND "
             "r.param='patient' AND "
             "r.a IN (SELECT ? UNION SELECT old_id FROM patient_link WHERE survivor_id=?))",
             {type, q.patient, q.patient});
  }
  // With a patient, the patient's few entities drive the search (as for an identifier above)
  // and the other criteria are checked on each of them. As IN lists, SQLite would collect every
  // entity of the type matching each criterion on each call (every contact named Jones, every
  // spouse), which grows with the store.
  const bool by_patient = !q.patient.empty() || !q.any_patients.empty();
  auto criterion = [&](const char* alias, const std::string& where) {
    const std::string a(alias);
    return by_patient ? "EXISTS (SELECT 1 FROM idx_term " + a + " WHERE " + where + " AND " + a + ".id=c.id)"
                      : "c.id IN (SELECT " + a + ".id FROM idx_term " + a + " WHERE " + where + ")";
  };
  for (const auto& [param, target] : q.references)
    sql->add(criterion("r", "r.kind='r' AND r.type=? AND r.param=? AND r.a=?"), {type, param, target});
  for (const auto& [param, value] : {std::pair<const char*, const std::string*>{"name", &q.name},
                                     {"family", &q.family}, {"given", &q.given}}) {
    if (value->empty()) continue;
    std::string lo = normalise_text(*value), hi = prefix_successor(lo);
    if (hi.empty()) {
      sql->add(criterion("s", "s.kind='s' AND s.type=? AND s.param=? AND s.a>=?"), {type, param, lo});
    } else {
      sql->add(criterion("s", "s.kind='s' AND s.type=? AND s.param=? AND s.a>=? AND s.a<?"), {type, param, lo, hi});
    }
  }
  for (const auto& [param, dates] : {std::pair<const char*, const std::vector<DateParam>*>{
                                         "birthdate", &q.birthdate}, {"date", &q.date}}) {
    for (const DateParam& d : *dates) {
      auto range = date_range(d.value);
      if (!range) return err(invalid(std::string("bad ") + param + " value '" + d.value + "'"));
      sql->text += " AND c.id IN (SELECT d.id FROM idx_term d WHERE d.kind='d' AND d.type=? AND d.param=? AND ";
      sql->args.push_back(type);
      sql->args.push_back(param);
      sql->text += date_condition(d.prefix, "d.a", "d.b", *range, &sql->args) + ")";
    }
  }
  for (const DateParam& d : q.last_updated) {
    auto range = date_range(d.value);
    if (!range) return err(invalid("bad _lastUpdated value '" + d.value + "'"));
    sql->text += " AND " + date_condition(d.prefix, "c.last_updated", "c.last_updated", *range, &sql->args);
  }
  std::vector<TokenParam> tokens = q.tokens;
  if (!q.gender.empty()) tokens.push_back({"gender", "", q.gender});
  for (const TokenParam& t : tokens) {
    if (t.code.empty()) {
      // `system|`: any code of the system (the key's `a` is unknown, so this scans the param).
      if (t.system.empty()) return err(invalid("token " + t.param + ": a system or a code is required"));
      sql->add(criterion("t", "t.kind='t' AND t.type=? AND t.param=? AND t.b=?"), {type, t.param, t.system});
    } else if (t.system.empty()) {
      sql->add(criterion("t", "t.kind='t' AND t.type=? AND t.param=? AND t.a=?"), {type, t.param, t.code});
    } else {
      sql->add(criterion("t", "t.kind='t' AND t.type=? AND t.param=? AND t.a=? AND t.b=?"),
               {type, t.param, t.code, t.system});
    }
  }
  return add_any_criteria(q, type, by_patient, sql);
}

// True when every alternative of an identifier OR list names a value: a handful of rows.
bool few_identifiers(const Query& q) {
  if (q.any_identifiers.empty()) return false;
  for (const auto& group : q.any_identifiers)
    for (const IdentifierParam& i : group)
      if (i.value.empty()) return false;
  return true;
}

// The sort key column of an order.
const char* key_column(SortOrder s) { return s == SortOrder::kId ? "''" : "c.last_updated"; }

// What a search reads of each row: the whole version (search) or only its key from
// entity_current (search_versions), which needs no entity_version row and no body. The entity
// id is column 1 and the sort key follows the entry's columns, in both.
template <class Entry>
struct Rows;
template <>
struct Rows<EntityVersion> {
  static constexpr bool kBody = true;
  static constexpr int kKeyColumn = 8;
  static const char* columns() { return sqlite::kEntityColumns; }
  static EntityVersion read(const sqlite::Stmt& s, care::EntityType) { return sqlite::entity_from_row(s); }
};
template <>
struct Rows<VersionKey> {
  static constexpr bool kBody = false;
  static constexpr int kKeyColumn = 3;
  static const char* columns() { return "c.type, c.id, c.version"; }
  static VersionKey read(const sqlite::Stmt& s, care::EntityType type) { return {type, s.text(1), s.int64(2)}; }
};

}  // namespace

StoreResult<Page> SqliteStore::search(const Query& q) { return search_page<Page>(q); }

StoreResult<VersionPage> SqliteStore::search_versions(const Query& q) { return search_page<VersionPage>(q); }

template <class P>
StoreResult<P> SqliteStore::search_page(const Query& q) {
  using Entry = typename decltype(P::entries)::value_type;
  using EntryRows = Rows<Entry>;
  if (q.count < 1 || q.count > 1000) return err(invalid("_count must be 1..1000"));
  std::optional<SearchCursor> cursor;
  if (!q.cursor.empty()) {
    cursor = decode_cursor(q.cursor);
    if (!cursor) return err(invalid("bad page cursor '" + q.cursor + "'"));
    if (cursor->sort != q.sort) return err(invalid("the page cursor belongs to another sort order"));
  }
  const std::string type(type_name(q.type));
  // A patient's few entities, or the few holders of an identifier, are the row source when the
  // query names them (the ingest's match lookups, and FHIR searches by patient or identifier):
  // joined from idx_term, they need none of the temporary B-trees that an `IN (subquery)` list,
  // a UNION of merged records and an ORDER BY over the candidates cost SQLite on every call
  // (about a quarter of the ingest resolver's work). Their rows are then ordered, deduplicated
  // (a patient's identifier can lead to its survivor twice) and cut to the page here.
  const Driver driver = !q.patient.empty() ? Driver::kPatient
                        : q.identifier     ? Driver::kIdentifier
                                           : Driver::kNone;
  Sql sql;
  // The ingest's lookups build 400-700 characters and 4-8 values: one allocation each, not a
  // string regrown a dozen times on every call.
  sql.text.reserve(1024);
  sql.args.reserve(8);
  sql.text += "SELECT ";
  sql.text += EntryRows::columns();
  sql.text += ", ";
  sql.text += key_column(q.sort);
  if (driver == Driver::kPatient) {
    // Entities of the patient and of every record merged into it (merged-away ids are distinct
    // from the survivor's, so the UNION ALL runs as a co-routine, without a temporary table).
    sql.text += " FROM (SELECT ? AS pid UNION ALL SELECT old_id FROM patient_link WHERE survivor_id=?) p "
                "CROSS JOIN idx_term r CROSS JOIN entity_current c";
    if (EntryRows::kBody) sql.text += " CROSS JOIN entity_version v";
    sql.text += " WHERE r.kind='r' AND r.type=? AND r.param='patient' AND r.a=p.pid AND c.type=? AND c.id=r.id";
    sql.args.insert(sql.args.end(), {q.patient, q.patient, type, type});
  } else if (driver == Driver::kIdentifier) {
    const auto& [system, value] = *q.identifier;
    // A40: for Patient, an identifier of a merged-away record finds its survivor (INV M1).
    const bool patient = q.type == care::EntityType::kPatient;
    sql.text += patient ? " FROM idx_term i LEFT JOIN patient_link l ON l.old_id=i.id" : " FROM idx_term i";
    sql.text += " CROSS JOIN entity_current c";
    if (EntryRows::kBody) sql.text += " CROSS JOIN entity_version v";
    sql.text += " WHERE i.kind='i' AND i.type=? AND i.param='identifier' AND i.a=?";
    sql.args.insert(sql.args.end(), {type, value});
    if (!system.empty()) {
      sql.text += " AND i.b=?";
      sql.args.push_back(system);
    }
    sql.text += patient ? " AND c.type=? AND c.id=coalesce(l.survivor_id, i.id)" : " AND c.type=? AND c.id=i.id";
    sql.args.push_back(type);
  } else {
    sql.text += EntryRows::kBody ? " FROM entity_current c JOIN entity_version v ON v.seq=c.seq WHERE c.type=?"
                                 : " FROM entity_current c WHERE c.type=?";
    sql.args.push_back(type);
  }
  if (EntryRows::kBody && driver != Driver::kNone) sql.text += " AND v.seq=c.seq";
  sql.text += " AND c.deleted=0";
  if (auto s = add_criteria(q, type, &sql, driver); !s.ok()) return err(s.error());

  // Walking forward means ascending for the ascending orders; a "before" cursor walks backward
  // from its position and the page is reversed afterwards.
  const bool descending_order = q.sort == SortOrder::kLastUpdatedDesc;
  const bool backward = cursor && cursor->before;
  const bool scan_desc = descending_order != backward;
  if (cursor) {
    const char* cmp = scan_desc ? "<" : ">";
    if (q.sort == SortOrder::kId) {
      sql.add(std::string("c.id ") + cmp + " ?", {cursor->id});
    } else {
      sql.add(std::string("(c.last_updated, c.id) ") + cmp + " (?, ?)", {cursor->key, cursor->id});
    }
  }
  // One row more than the page says whether there is a next one.
  const std::size_t wanted = static_cast<std::size_t>(q.count) + 1;
  if (driver == Driver::kNone) {
    const char* dir = scan_desc ? " DESC" : " ASC";
    // With an id list the candidates are a handful of rows found through an index, but without
    // statistics SQLite prefers walking entity_current_lu in sort order and testing every row of
    // the type against the IN list: O(entities) per search. The unary `+` keeps that index out
    // of the ORDER BY, so the plan looks the candidates up by primary key and sorts them.
    const bool few = !q.ids.empty() || few_identifiers(q);
    const char* lu = few ? " ORDER BY +c.last_updated" : " ORDER BY c.last_updated";
    sql.text += q.sort == SortOrder::kId ? std::string(" ORDER BY c.id") + dir
                                         : std::string(lu) + dir + ", c.id" + dir;
    sql.text += " LIMIT ?";
  }

  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto stmt = (*r)->prepare(sql.text);
  if (!stmt.ok()) return err(stmt.error());
  // `sql` outlives the statement's use (the Stmt resets and unbinds first), so the values are
  // bound in place rather than copied into SQLite.
  int i = 0;
  for (const auto& a : sql.args) stmt->bind_ref(++i, a);
  if (driver == Driver::kNone) stmt->bind(++i, q.count + 1);

  // The page's rows in scan order, at most `wanted`.
  struct Row {
    std::string key;
    Entry entity;
  };
  std::vector<Row> rows;
  // (key, id) before (key, id) in scan order.
  auto before = [scan_desc](const std::string& ka, const std::string& ia, const std::string& kb,
                            const std::string& ib) {
    const int c = ka != kb ? ka.compare(kb) : ia.compare(ib);
    return scan_desc ? c > 0 : c < 0;
  };
  for (;;) {
    auto row = stmt->next();
    if (!row.ok()) return err(row.error());
    if (!*row) break;
    if (driver == Driver::kNone) {
      rows.push_back({stmt->text(EntryRows::kKeyColumn), EntryRows::read(*stmt, q.type)});
      if (rows.size() == wanted) break;
      continue;
    }
    // Unordered candidates: keep the first `wanted` in scan order, each entity once. A repeat of
    // an entity is the same row, so it is either kept already or no better than those kept.
    std::string key = stmt->text(EntryRows::kKeyColumn), id = stmt->text(1);
    if (rows.size() == wanted && !before(key, id, rows.back().key, rows.back().entity.id)) continue;
    auto at = std::find_if(rows.begin(), rows.end(), [&](const Row& x) {
      return !before(x.key, x.entity.id, key, id);
    });
    if (at != rows.end() && at->key == key && at->entity.id == id) continue;
    if (rows.size() == wanted) rows.pop_back();
    rows.insert(at, Row{std::move(key), EntryRows::read(*stmt, q.type)});
  }
  const bool more = rows.size() == wanted;
  if (more) rows.pop_back();

  P page;
  page.entries.reserve(rows.size());
  std::vector<std::string> keys;
  keys.reserve(rows.size());
  for (Row& row : rows) {
    keys.push_back(std::move(row.key));
    page.entries.push_back(std::move(row.entity));
  }
  if (backward) {
    std::reverse(page.entries.begin(), page.entries.end());
    std::reverse(keys.begin(), keys.end());
  }
  if (page.entries.empty()) return page;
  auto at = [&](std::size_t k, bool before) {
    return encode_cursor(SearchCursor{q.sort, before, keys[k], page.entries[k].id});
  };
  const bool has_next = backward ? true : more;
  const bool has_prev = backward ? more : cursor.has_value();
  if (has_next) page.next_cursor = at(page.entries.size() - 1, false);
  if (has_prev) page.prev_cursor = at(0, true);
  return page;
}

StoreResult<std::int64_t> SqliteStore::count(const Query& q) {
  const std::string type(type_name(q.type));
  Sql sql;
  sql.text = "SELECT count(*) FROM entity_current c WHERE c.type=? AND c.deleted=0";
  sql.args.push_back(type);
  if (auto s = add_criteria(q, type, &sql); !s.ok()) return err(s.error());
  auto r = reader();
  if (!r.ok()) return err(r.error());
  auto stmt = (*r)->prepare(sql.text);
  if (!stmt.ok()) return err(stmt.error());
  int i = 0;
  for (const auto& a : sql.args) stmt->bind_ref(++i, a);  // as in search()
  auto row = stmt->next();
  if (!row.ok()) return err(row.error());
  return stmt->int64(0);
}

}  // namespace midhurst::store
