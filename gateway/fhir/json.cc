#include "fhir/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <vector>

#include "fhir/internal.h"

namespace midhurst::fhir {

namespace {

using rapidjson::Value;

// Finds duplicate member names anywhere in `v`; JSON Pointer-ish path in `where`.
bool find_duplicate(const Value& v, std::string& where) {
  if (v.IsObject()) {
    std::vector<std::string_view> names;
    for (const auto& m : v.GetObject()) {
      names.emplace_back(m.name.GetString(), m.name.GetStringLength());
    }
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) {
      where = "/" + std::string(*dup);
      return true;
    }
    for (const auto& m : v.GetObject()) {
      if (find_duplicate(m.value, where)) {
        where = "/" + std::string(m.name.GetString()) + where;
        return true;
      }
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (find_duplicate(v[i], where)) {
        where = "/" + std::to_string(i) + where;
        return true;
      }
    }
  }
  return false;
}

// Prints FHIR JSON driven by the model, so number-typed elements are printed as numbers.
template <typename Writer>
class ModelWriter {
 public:
  ModelWriter(const Model& model, Writer& w) : model_(model), w_(w) {}

  Status resource(const Value& v, const std::string& path) {
    if (!v.IsObject()) return fail(Error::Code::kStructure, path, "a resource must be an object");
    auto rt = v.FindMember("resourceType");
    if (rt == v.MemberEnd() || !rt->value.IsString()) {
      return fail(Error::Code::kStructure, path, "resource has no resourceType");
    }
    const TypeDef* type = model_.resource(rt->value.GetString());
    if (!type) {
      return fail(Error::Code::kUnknownType, path,
                  "unknown resource type '" + std::string(rt->value.GetString()) + "'");
    }
    return object(v, *type, path.empty() ? type->name : path, true);
  }

 private:
  Err<Error> fail(Error::Code code, const std::string& path, std::string reason) {
    return make_error(code, path, std::move(reason));
  }

  Status object(const Value& v, const TypeDef& type, const std::string& path, bool is_resource) {
    if (!v.IsObject()) return fail(Error::Code::kStructure, path, "expected a JSON object");
    w_.StartObject();
    for (const auto& m : v.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      w_.Key(m.name.GetString(), m.name.GetStringLength());
      if (is_resource && name == "resourceType") {
        w_.String(m.value.GetString(), m.value.GetStringLength());
        continue;
      }
      bool underscore = !name.empty() && name[0] == '_';
      const TypeDef::Slot* slot = type.find(underscore ? name.substr(1) : name);
      std::string child = path + "." + std::string(name);
      if (!slot || (underscore && !slot->type->is_primitive())) {
        return fail(Error::Code::kUnknownElement, child,
                    "unknown element '" + std::string(name) + "' in " + type.name);
      }
      if (slot->element->repeats) {
        if (!m.value.IsArray()) return fail(Error::Code::kStructure, child, "expected an array");
        w_.StartArray();
        for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
          Status s = item(m.value[i], *slot->type, underscore,
                          child + "[" + std::to_string(i) + "]", true);
          if (!s) return err(s.error());
        }
        w_.EndArray();
      } else {
        Status s = item(m.value, *slot->type, underscore, child, false);
        if (!s) return err(s.error());
      }
    }
    w_.EndObject();
    return Status::Ok();
  }

  Status item(const Value& v, const TypeDef& type, bool underscore, const std::string& path,
              bool in_array) {
    if (v.IsNull() && in_array && type.is_primitive()) {
      w_.Null();  // alignment placeholder in primitive arrays and their _ arrays
      return Status::Ok();
    }
    if (underscore) return object(v, *model_.find("Element"), path, false);
    if (type.is_resource_wrapper()) return resource(v, path);
    if (!type.is_primitive()) return object(v, type, path, false);
    switch (type.json) {
      case JsonKind::kBoolean:
        if (!v.IsBool()) return fail(Error::Code::kInvalidValue, path, "expected true or false");
        w_.Bool(v.GetBool());
        return Status::Ok();
      case JsonKind::kNumber: {
        std::string text;
        if (!internal::number_text(v, &text) || !internal::is_number_text(type, text)) {
          return fail(Error::Code::kInvalidValue, path, "not a valid " + type.name);
        }
        // RawValue, not RawNumber: RapidJSON 1.1.0 Writer::RawNumber writes a quoted string.
        w_.RawValue(text.data(), text.size(), rapidjson::kNumberType);
        return Status::Ok();
      }
      case JsonKind::kString:
      case JsonKind::kXhtml:
        if (!v.IsString()) return fail(Error::Code::kStructure, path, "expected a string");
        w_.String(v.GetString(), v.GetStringLength());
        return Status::Ok();
    }
    return Status::Ok();
  }

  const Model& model_;
  Writer& w_;
};

bool equivalent(const Value& a, const Value& b, const std::string& path, bool is_div,
                std::string* difference) {
  auto differ = [&](const std::string& why) {
    if (difference) *difference = (path.empty() ? "(root)" : path) + ": " + why;
    return false;
  };
  std::string ta, tb;
  // Numbers compare by text, whichever of the two representations holds them.
  if ((a.IsNumber() || b.IsNumber()) && internal::number_text(a, &ta) &&
      internal::number_text(b, &tb)) {
    return ta == tb || differ("number " + ta + " != " + tb);
  }
  if (a.GetType() != b.GetType() && !(a.IsBool() && b.IsBool())) return differ("types differ");
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) {
      for (const auto& m : a.GetObject()) {
        if (!b.HasMember(m.name)) return differ("member " + std::string(m.name.GetString()) +
                                                " only on the left");
      }
      for (const auto& m : b.GetObject()) {
        if (!a.HasMember(m.name)) return differ("member " + std::string(m.name.GetString()) +
                                                " only on the right");
      }
    }
    for (const auto& m : a.GetObject()) {
      auto other = b.FindMember(m.name);
      std::string name = m.name.GetString();
      if (other == b.MemberEnd()) return differ("member " + name + " only on the left");
      if (!equivalent(m.value, other->value, path + "." + name, name == "div", difference)) {
        return false;
      }
    }
    return true;
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return differ("array sizes differ");
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
      if (!equivalent(a[i], b[i], path + "[" + std::to_string(i) + "]", false, difference)) {
        return false;
      }
    }
    return true;
  }
  if (a.IsString()) {
    std::string_view sa(a.GetString(), a.GetStringLength());
    std::string_view sb(b.GetString(), b.GetStringLength());
    if (sa == sb) return true;
    if (is_div) {
      pugi::xml_document da, db;
      if (internal::check_div_text(sa, da) && internal::check_div_text(sb, db)) {
        std::string ca, cb;
        if (internal::serialize_xhtml(da.document_element(), true, ca) &&
            internal::serialize_xhtml(db.document_element(), true, cb) && ca == cb) {
          return true;
        }
      }
    }
    return differ("'" + std::string(sa.substr(0, 60)) + "' != '" +
                  std::string(sb.substr(0, 60)) + "'");
  }
  if (a.IsBool()) return a.GetBool() == b.GetBool() || differ("booleans differ");
  return true;  // both null
}

}  // namespace

Result<rapidjson::Document> parse_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(
      text.data(), text.size());
  if (doc.HasParseError()) {
    return make_error(Error::Code::kSyntax, "",
                      std::string("not JSON: ") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " at " +
                          internal::line_column(text, doc.GetErrorOffset()));
  }
  std::string where;
  if (find_duplicate(doc, where)) {
    return make_error(Error::Code::kStructure, where, "duplicate member name");
  }
  return doc;
}

Result<std::string> write_json(const rapidjson::Value& resource, const Model& model,
                               const JsonWriteOptions& options) {
  rapidjson::StringBuffer buf;
  Status s;
  if (options.pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    s = ModelWriter(model, w).resource(resource, "");
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    s = ModelWriter(model, w).resource(resource, "");
  }
  if (!s) return err(s.error());
  return std::string(buf.GetString(), buf.GetSize());
}

bool json_equivalent(const rapidjson::Value& a, const rapidjson::Value& b,
                     std::string* difference) {
  return equivalent(a, b, "", false, difference);
}

}  // namespace midhurst::fhir
