#include "fhir/xml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <vector>

#include "fhir/internal.h"

namespace midhurst::fhir {

namespace {

using rapidjson::Value;
using internal::kFhirNamespace;
using internal::kXhtmlNamespace;

// ---------------------------------------------------------------------------------------------
// JSON -> XML

// A streaming XML writer. The start tag stays open until the first child or the end, so an
// element without content is written as <name .../>.
class XmlOut {
 public:
  explicit XmlOut(bool pretty) : pretty_(pretty) {}

  void start(std::string_view name) {
    close_start_tag();
    newline(stack_.size());
    out_ += '<';
    out_ += name;
    if (!stack_.empty()) stack_.back().has_children = true;
    stack_.push_back({std::string(name), false});
    in_start_tag_ = true;
  }
  // REQUIRES: called between start() and the first child. False iff `value` holds a character
  // XML cannot carry.
  bool attribute(std::string_view name, std::string_view value) {
    out_ += ' ';
    out_ += name;
    out_ += "=\"";
    bool ok = internal::append_xml_escaped(out_, value, true);
    out_ += '"';
    return ok;
  }
  // Already well-formed XML (the narrative div), copied byte for byte.
  void raw_element(std::string_view xml) {
    close_start_tag();
    newline(stack_.size());
    out_ += xml;
    if (!stack_.empty()) stack_.back().has_children = true;
  }
  void end() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (in_start_tag_) {
      out_ += "/>";
      in_start_tag_ = false;
      return;
    }
    if (f.has_children) newline(stack_.size());
    out_ += "</";
    out_ += f.name;
    out_ += '>';
  }
  std::string take() { return std::move(out_); }

 private:
  struct Frame {
    std::string name;
    bool has_children;
  };
  void close_start_tag() {
    if (in_start_tag_) out_ += '>';
    in_start_tag_ = false;
  }
  void newline(size_t depth) {
    if (!pretty_ || out_.empty()) return;
    out_ += '\n';
    out_.append(2 * depth, ' ');
  }

  bool pretty_;
  bool in_start_tag_ = false;
  std::vector<Frame> stack_;
  std::string out_;
};

const Value* member(const Value& obj, const std::string& name) {
  auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

class JsonToXml {
 public:
  JsonToXml(const Model& model, bool pretty)
      : model_(model), element_(model.find("Element")), out_(pretty) {}

  Status resource(const Value& v, const std::string& path, bool root) {
    if (!v.IsObject()) return fail(Error::Code::kStructure, path, "a resource must be an object");
    const Value* rt = member(v, "resourceType");
    if (!rt || !rt->IsString()) {
      return fail(Error::Code::kStructure, path, "resource has no resourceType");
    }
    const TypeDef* type = model_.resource(rt->GetString());
    if (!type) {
      return fail(Error::Code::kUnknownType, path,
                  "unknown resource type '" + std::string(rt->GetString()) + "'");
    }
    out_.start(type->name);
    if (root) (void)out_.attribute("xmlns", kFhirNamespace);
    Status s = members(v, *type, root ? type->name : path, true);
    if (!s) return s;
    out_.end();
    return Status::Ok();
  }

  std::string take() { return out_.take(); }

 private:
  static Err<Error> fail(Error::Code code, const std::string& path, std::string reason) {
    return make_error(code, path, std::move(reason));
  }

  // The members of `obj`, an instance of `type`: attributes first, then child elements in
  // definition order. JSON member order is irrelevant.
  Status members(const Value& obj, const TypeDef& type, const std::string& path,
                 bool is_resource) {
    for (const auto& m : obj.GetObject()) {
      std::string_view name(m.name.GetString(), m.name.GetStringLength());
      if (is_resource && name == "resourceType") continue;
      bool underscore = !name.empty() && name[0] == '_';
      const TypeDef::Slot* slot = type.find(underscore ? name.substr(1) : name);
      if (!slot || (underscore && !slot->type->is_primitive())) {
        return fail(Error::Code::kUnknownElement, path + "." + std::string(name),
                    "unknown element '" + std::string(name) + "' in " + type.name);
      }
      if (underscore && slot->element->xml_attribute) {
        return fail(Error::Code::kStructure, path + "." + std::string(name),
                    "'" + slot->element->name +
                        "' is an XML attribute here and cannot carry an id or extensions");
      }
    }
    for (const ElementDef& el : type.elements) {
      if (!el.xml_attribute) continue;
      const Value* v = member(obj, el.name);
      if (!v) continue;
      if (!v->IsString()) {
        return fail(Error::Code::kStructure, path + "." + el.name, "expected a string");
      }
      if (!out_.attribute(el.name, std::string_view(v->GetString(), v->GetStringLength()))) {
        return fail(Error::Code::kInvalidValue, path + "." + el.name,
                    "holds a control character XML cannot represent");
      }
    }
    for (const ElementDef& el : type.elements) {
      if (el.xml_attribute) continue;
      std::string found;
      for (const TypeDef* t : el.types) {
        std::string key = el.name_for(*t);
        const Value* v = member(obj, key);
        const Value* e = member(obj, "_" + key);
        if (!v && !e) continue;
        if (!found.empty()) {
          return fail(Error::Code::kStructure, path + "." + key,
                      "only one type of " + el.name + "[x] may be present, found " + found +
                          " and " + key);
        }
        found = key;
        Status s = element(key, el, *t, v, e, path + "." + key);
        if (!s) return s;
      }
    }
    return Status::Ok();
  }

  // One element, all its repetitions. `v` is the JSON value, `e` the `_key` value (primitives).
  Status element(const std::string& key, const ElementDef& el, const TypeDef& type,
                 const Value* v, const Value* e, const std::string& path) {
    if (!el.repeats) {
      if ((v && v->IsArray()) || (e && e->IsArray())) {
        return fail(Error::Code::kStructure, path,
                    "'" + key + "' does not repeat: expected a single value, not an array");
      }
      if (v && v->IsNull()) v = nullptr;
      if (e && e->IsNull()) e = nullptr;
      if (!v && !e) {
        return fail(Error::Code::kStructure, path, "null is allowed only inside arrays");
      }
      return single(key, type, v, e, path);
    }
    if ((v && !v->IsArray()) || (e && !e->IsArray())) {
      return fail(Error::Code::kStructure, path, "'" + key + "' repeats: expected an array");
    }
    if (v && e && v->Size() != e->Size()) {
      return fail(Error::Code::kStructure, path,
                  "'" + key + "' and '_" + key + "' must have the same length (" +
                      std::to_string(v->Size()) + " and " + std::to_string(e->Size()) + ")");
    }
    rapidjson::SizeType n = v ? v->Size() : e->Size();
    if (n == 0) {
      return fail(Error::Code::kStructure, path, "empty array (FHIR JSON does not allow them)");
    }
    for (rapidjson::SizeType i = 0; i < n; ++i) {
      const Value* vi = v && !(*v)[i].IsNull() ? &(*v)[i] : nullptr;
      const Value* ei = e && !(*e)[i].IsNull() ? &(*e)[i] : nullptr;
      std::string p = path + "[" + std::to_string(i) + "]";
      if (!vi && !ei) {
        return fail(Error::Code::kStructure, p,
                    e ? "null in both '" + key + "' and '_" + key + "'"
                      : "null is allowed only to align '" + key + "' with '_" + key + "'");
      }
      Status s = single(key, type, vi, ei, p);
      if (!s) return s;
    }
    return Status::Ok();
  }

  // One occurrence. REQUIRES: v or e non-null; e only for primitives.
  Status single(const std::string& key, const TypeDef& type, const Value* v, const Value* e,
                const std::string& path) {
    if (type.is_resource_wrapper()) {
      out_.start(key);
      Status s = resource(*v, path, false);
      if (!s) return s;
      out_.end();
      return Status::Ok();
    }
    if (!type.is_primitive()) {
      if (!v->IsObject()) return fail(Error::Code::kStructure, path, "expected an object");
      out_.start(key);
      Status s = members(*v, type, path, false);
      if (!s) return s;
      out_.end();
      return Status::Ok();
    }
    if (type.json == JsonKind::kXhtml) {
      if (e) return fail(Error::Code::kUnknownElement, path, "the narrative div has no '_div'");
      if (!v->IsString()) return fail(Error::Code::kStructure, path, "expected a string");
      std::string_view text(v->GetString(), v->GetStringLength());
      pugi::xml_document div;
      Status s = internal::check_div_text(text, div);
      if (!s) return fail(s.error().code, path, s.error().reason);
      out_.raw_element(text);
      return Status::Ok();
    }
    out_.start(key);
    if (v) {
      std::string text;
      switch (type.json) {
        case JsonKind::kBoolean:
          if (!v->IsBool()) {
            return fail(Error::Code::kInvalidValue, path, "expected JSON true or false");
          }
          text = v->GetBool() ? "true" : "false";
          break;
        case JsonKind::kNumber:
          if (!internal::number_text(*v, &text) || !internal::is_number_text(type, text)) {
            return fail(Error::Code::kInvalidValue, path,
                        "not a valid " + type.name + " number");
          }
          break;
        default:
          if (!v->IsString()) return fail(Error::Code::kStructure, path, "expected a string");
          text.assign(v->GetString(), v->GetStringLength());
      }
      if (!out_.attribute("value", text)) {
        return fail(Error::Code::kInvalidValue, path,
                    "holds a control character XML cannot represent");
      }
    }
    if (e) {
      if (!e->IsObject()) {
        return fail(Error::Code::kStructure, path, "'_" + key + "' must be an object");
      }
      Status s = members(*e, *element_, path, false);
      if (!s) return s;
    }
    out_.end();
    return Status::Ok();
  }

  const Model& model_;
  const TypeDef* element_;  // Element: the shape of a primitive's `_key` object
  XmlOut out_;
};

// ---------------------------------------------------------------------------------------------
// XML -> JSON

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == s.npos; }

class XmlToJson {
 public:
  XmlToJson(const Model& model, const XmlReadOptions& options,
            rapidjson::Document::AllocatorType& alloc)
      : model_(model), element_(model.find("Element")), options_(options), alloc_(alloc) {}

  Status resource(pugi::xml_node node, Value& out, const std::string& path, bool root) {
    std::string_view local;
    std::string_view ns = internal::element_namespace(node, &local);
    std::string here = root ? std::string(local) : path;
    if (ns != kFhirNamespace) return wrong_namespace(here, local, ns, kFhirNamespace);
    const TypeDef* type = model_.resource(local);
    if (!type) {
      return fail(Error::Code::kUnknownType, here,
                  "unknown resource type '" + std::string(local) + "'");
    }
    out.SetObject();
    out.AddMember("resourceType", str(type->name), alloc_);
    return content(node, *type, out, here, false);
  }

 private:
  static Err<Error> fail(Error::Code code, const std::string& path, std::string reason) {
    return make_error(code, path, std::move(reason));
  }
  static Err<Error> wrong_namespace(const std::string& path, std::string_view local,
                                    std::string_view ns, std::string_view want) {
    return fail(Error::Code::kNamespace, path,
                "element '" + std::string(local) + "' is " +
                    (ns.empty() ? std::string("in no namespace")
                                : "in namespace '" + std::string(ns) + "'") +
                    ", not " + std::string(want));
  }
  Value str(std::string_view s) {
    return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
  }

  struct Group {
    const TypeDef::Slot* slot;
    std::string key;
    std::vector<pugi::xml_node> nodes;
  };

  // Attributes and child elements of `node`, an instance of `type`, added to the object `out`.
  // `primitive` is set for a primitive's element, whose `value` attribute the caller reads.
  Status content(pugi::xml_node node, const TypeDef& type, Value& out, const std::string& path,
                 bool primitive) {
    for (pugi::xml_attribute a : node.attributes()) {
      std::string_view name = a.name();
      if (internal::is_xml_plumbing_attribute(name) || (primitive && name == "value")) continue;
      const TypeDef::Slot* slot = type.find(name);
      if (!slot || !slot->element->xml_attribute) {
        return fail(Error::Code::kUnknownElement, path,
                    "unknown attribute '" + std::string(name) + "' on " + type.name);
      }
      out.AddMember(str(name), str(a.value()), alloc_);
    }

    std::vector<Group> groups;
    for (pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
        if (is_blank(child.value())) continue;
        return fail(Error::Code::kStructure, path,
                    "text content is not allowed in a FHIR element (found '" +
                        std::string(std::string_view(child.value()).substr(0, 40)) + "')");
      }
      if (child.type() != pugi::node_element) continue;  // comments, processing instructions
      std::string_view local;
      std::string_view ns = internal::element_namespace(child, &local);
      std::string child_path = path + "." + std::string(local);
      const TypeDef::Slot* slot = type.find(local);
      if (slot && slot->type->is_primitive() && slot->type->json == JsonKind::kXhtml) {
        if (ns != kXhtmlNamespace) return wrong_namespace(child_path, local, ns, kXhtmlNamespace);
      } else if (ns != kFhirNamespace) {
        return wrong_namespace(child_path, local, ns, kFhirNamespace);
      }
      if (!slot || slot->element->xml_attribute) {
        return fail(Error::Code::kUnknownElement, child_path,
                    "unknown element '" + std::string(local) + "' in " + type.name);
      }
      Group* group = nullptr;
      for (Group& g : groups) {
        if (g.slot->index != slot->index) continue;
        if (g.key != local) {
          return fail(Error::Code::kStructure, child_path,
                      "only one type of " + slot->element->name + "[x] may be present, found " +
                          g.key + " and " + std::string(local));
        }
        group = &g;
      }
      if (group && !slot->element->repeats) {
        return fail(Error::Code::kStructure, child_path,
                    "'" + std::string(local) + "' does not repeat but occurs more than once");
      }
      if (options_.strict_order && !groups.empty() &&
          (group ? group != &groups.back() : slot->index < groups.back().slot->index)) {
        return fail(Error::Code::kStructure, child_path,
                    "element '" + std::string(local) + "' is out of order: it must come before '" +
                        groups.back().key + "'");
      }
      if (!group) {
        groups.push_back(Group{slot, std::string(local), {}});
        group = &groups.back();
      }
      group->nodes.push_back(child);
    }
    // Without strict order the groups may be out of definition order; JSON has no order, but
    // printing in definition order keeps output stable.
    std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
      return a.slot->index < b.slot->index;
    });
    for (const Group& g : groups) {
      Status s = group_to_json(g, out, path + "." + g.key);
      if (!s) return s;
    }
    return Status::Ok();
  }

  Status group_to_json(const Group& g, Value& out, const std::string& path) {
    const TypeDef& type = *g.slot->type;
    bool repeats = g.slot->element->repeats;
    auto item_path = [&](size_t i) {
      return repeats ? path + "[" + std::to_string(i) + "]" : path;
    };
    if (type.is_primitive() && type.json != JsonKind::kXhtml) {
      // field and _field: parallel arrays, null where one side has nothing.
      Value values(rapidjson::kArrayType), extras(rapidjson::kArrayType);
      bool any_value = false, any_extra = false;
      for (size_t i = 0; i < g.nodes.size(); ++i) {
        Value v, e;
        Status s = primitive(g.nodes[i], type, v, e, item_path(i));
        if (!s) return s;
        any_value |= !v.IsNull();
        any_extra |= !e.IsNull();
        values.PushBack(v, alloc_);
        extras.PushBack(e, alloc_);
      }
      if (!repeats) {
        if (any_value) out.AddMember(str(g.key), values[0], alloc_);
        if (any_extra) out.AddMember(str("_" + g.key), extras[0], alloc_);
      } else {
        if (any_value) out.AddMember(str(g.key), values, alloc_);
        if (any_extra) out.AddMember(str("_" + g.key), extras, alloc_);
      }
      return Status::Ok();
    }
    Value items(rapidjson::kArrayType);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Value v;
      Status s = type.json == JsonKind::kXhtml && type.is_primitive()
                     ? xhtml(g.nodes[i], v, item_path(i))
                 : type.is_resource_wrapper() ? wrapped(g.nodes[i], v, item_path(i))
                                              : complex(g.nodes[i], type, v, item_path(i));
      if (!s) return s;
      items.PushBack(v, alloc_);
    }
    if (repeats) {
      out.AddMember(str(g.key), items, alloc_);
    } else {
      out.AddMember(str(g.key), items[0], alloc_);
    }
    return Status::Ok();
  }

  Status complex(pugi::xml_node node, const TypeDef& type, Value& out, const std::string& path) {
    out.SetObject();
    return content(node, type, out, path, false);
  }

  // A primitive's element: `v` gets the value (null if none), `e` the id/extension object
  // (null if none).
  Status primitive(pugi::xml_node node, const TypeDef& type, Value& v, Value& e,
                   const std::string& path) {
    Value extra(rapidjson::kObjectType);
    Status s = content(node, *element_, extra, path, true);
    if (!s) return s;
    if (extra.MemberCount() > 0) e = extra;
    pugi::xml_attribute value = node.attribute("value");
    if (!value) {
      if (e.IsNull()) {
        return fail(Error::Code::kStructure, path,
                    "element has no value attribute, id or extension");
      }
      return Status::Ok();
    }
    std::string_view text = value.value();
    switch (type.json) {
      case JsonKind::kBoolean:
        if (text != "true" && text != "false") {
          return fail(Error::Code::kInvalidValue, path,
                      "'" + std::string(text) + "' is not a boolean (true or false)");
        }
        v.SetBool(text == "true");
        break;
      case JsonKind::kNumber:
        if (!internal::is_number_text(type, text)) {
          return fail(Error::Code::kInvalidValue, path,
                      "'" + std::string(text) + "' is not a valid " + type.name);
        }
        v = str(text);  // exact text, per the json.h contract
        break;
      default:
        v = str(text);
    }
    return Status::Ok();
  }

  Status xhtml(pugi::xml_node node, Value& out, const std::string& path) {
    std::string_view name = node.name();
    if (name != "div") {
      return fail(Error::Code::kNamespace, path,
                  "the narrative must be an unprefixed <div xmlns=\"" +
                      std::string(kXhtmlNamespace) + "\">, found <" + std::string(name) + ">");
    }
    std::string text;
    if (!internal::serialize_xhtml(node, true, text)) {
      return fail(Error::Code::kInvalidValue, path,
                  "holds a control character XML cannot represent");
    }
    out = str(text);
    return Status::Ok();
  }

  // <contained><Patient>...</Patient></contained>: exactly one resource element inside.
  Status wrapped(pugi::xml_node node, Value& out, const std::string& path) {
    for (pugi::xml_attribute a : node.attributes()) {
      if (!internal::is_xml_plumbing_attribute(a.name())) {
        return fail(Error::Code::kUnknownElement, path,
                    "unknown attribute '" + std::string(a.name()) + "' on a resource wrapper");
      }
    }
    pugi::xml_node inner;
    for (pugi::xml_node child : node.children()) {
      if ((child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) &&
          is_blank(child.value())) {
        continue;
      }
      if (child.type() == pugi::node_comment || child.type() == pugi::node_pi) continue;
      if (child.type() != pugi::node_element || inner) {
        return fail(Error::Code::kStructure, path, "must hold exactly one resource");
      }
      inner = child;
    }
    if (!inner) return fail(Error::Code::kStructure, path, "must hold exactly one resource");
    return resource(inner, out, path, false);
  }

  const Model& model_;
  const TypeDef* element_;
  const XmlReadOptions& options_;
  rapidjson::Document::AllocatorType& alloc_;
};

}  // namespace

Result<std::string> json_to_xml(const rapidjson::Value& resource, const Model& model,
                                const XmlWriteOptions& options) {
  JsonToXml conv(model, options.pretty);
  Status s = conv.resource(resource, "", true);
  if (!s) return err(s.error());
  return conv.take();
}

Result<rapidjson::Document> xml_to_json(std::string_view xml, const Model& model,
                                        const XmlReadOptions& options) {
  pugi::xml_document x;
  pugi::xml_parse_result r =
      x.load_buffer(xml.data(), xml.size(), internal::kXmlParseFlags, pugi::encoding_auto);
  if (!r) {
    return make_error(Error::Code::kSyntax, "",
                      std::string("not well-formed XML: ") + r.description() + " at " +
                          internal::line_column(xml, static_cast<size_t>(r.offset)));
  }
  pugi::xml_node root = x.document_element();
  if (!root) return make_error(Error::Code::kSyntax, "", "no root element");
  rapidjson::Document doc;
  XmlToJson conv(model, options, doc.GetAllocator());
  Status s = conv.resource(root, doc, "", true);
  if (!s) return err(s.error());
  return doc;
}

}  // namespace midhurst::fhir
