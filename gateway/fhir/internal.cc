#include "fhir/internal.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cctype>

namespace midhurst::fhir::internal {

namespace {

bool digits(std::string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  return i > start;
}

// -?(0|[1-9][0-9]*) at i.
bool int_part(std::string_view s, size_t& i) {
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
    return true;
  }
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;
  return digits(s, i);
}

}  // namespace

bool is_fhir_integer(std::string_view s) {
  size_t i = 0;
  return int_part(s, i) && i == s.size();
}

bool is_fhir_decimal(std::string_view s) {
  size_t i = 0;
  if (!int_part(s, i)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits(s, i)) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits(s, i)) return false;
  }
  return i == s.size();
}

bool is_number_text(const TypeDef& type, std::string_view s) {
  return type.name == "decimal" ? is_fhir_decimal(s) : is_fhir_integer(s);
}

bool number_text(const rapidjson::Value& v, std::string* out) {
  if (v.IsString()) {
    out->assign(v.GetString(), v.GetStringLength());
    return true;
  }
  if (!v.IsNumber()) return false;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  out->assign(buf.GetString(), buf.GetSize());
  return true;
}

bool append_xml_escaped(std::string& out, std::string_view s, bool attribute) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\t':
      case '\n':
      case '\r':
        if (attribute || c == '\r') {
          // \r must be a reference in text too: XML end-of-line handling would drop it.
          out += c == '\t' ? "&#9;" : c == '\n' ? "&#10;" : "&#13;";
        } else {
          out += c;
        }
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) return false;
        out += c;
    }
  }
  return true;
}

std::string_view element_namespace(pugi::xml_node element, std::string_view* local) {
  std::string_view name = element.name();
  std::string_view prefix;
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    prefix = name.substr(0, colon);
    name = name.substr(colon + 1);
  }
  if (local) *local = name;
  std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = element; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attr.c_str())) return a.value();
  }
  return "";
}

bool is_xml_plumbing_attribute(std::string_view name) {
  return name == "xmlns" || name.rfind("xmlns:", 0) == 0 || name.rfind("xsi:", 0) == 0;
}

bool serialize_xhtml(pugi::xml_node element, bool add_xmlns, std::string& out) {
  out += '<';
  out += element.name();
  if (add_xmlns && !element.attribute("xmlns")) {
    out += " xmlns=\"";
    out += kXhtmlNamespace;
    out += '"';
  }
  for (pugi::xml_attribute a : element.attributes()) {
    out += ' ';
    out += a.name();
    out += "=\"";
    if (!append_xml_escaped(out, a.value(), true)) return false;
    out += '"';
  }
  bool empty = true;
  for (pugi::xml_node child : element.children()) {
    if (child.type() == pugi::node_element || child.type() == pugi::node_pcdata ||
        child.type() == pugi::node_cdata) {
      empty = false;
    }
  }
  if (empty) {
    out += "/>";
    return true;
  }
  out += '>';
  for (pugi::xml_node child : element.children()) {
    if (child.type() == pugi::node_element) {
      if (!serialize_xhtml(child, false, out)) return false;
    } else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      if (!append_xml_escaped(out, child.value(), false)) return false;
    }
  }
  out += "</";
  out += element.name();
  out += '>';
  return true;
}

std::string line_column(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

Status check_div_text(std::string_view text, pugi::xml_document& doc) {
  // Declarations, doctypes and processing instructions are parsed so they can be refused: the
  // div is embedded verbatim into an XML document, where they would be malformed.
  pugi::xml_parse_result r =
      doc.load_buffer(text.data(), text.size(),
                      kXmlParseFlags | pugi::parse_declaration | pugi::parse_doctype |
                          pugi::parse_pi,
                      pugi::encoding_utf8);
  if (!r) {
    return make_error(Error::Code::kSyntax, "",
                      std::string("narrative div is not well-formed XHTML: ") + r.description() +
                          " at " + line_column(text, static_cast<size_t>(r.offset)));
  }
  int elements = 0;
  for (pugi::xml_node n : doc.children()) {
    if (n.type() == pugi::node_element) {
      ++elements;
    } else if (n.type() == pugi::node_pcdata) {
      std::string_view v = n.value();
      if (v.find_first_not_of(" \t\r\n") != std::string_view::npos) elements = 2;
    } else {
      return make_error(Error::Code::kStructure, "",
                        "narrative div must hold only the div element (no declaration, doctype "
                        "or processing instruction)");
    }
  }
  pugi::xml_node div = doc.document_element();
  if (elements != 1 || std::string_view(div.name()) != "div") {
    return make_error(Error::Code::kStructure, "",
                      "narrative must be exactly one <div> element");
  }
  if (std::string_view(div.attribute("xmlns").value()) != kXhtmlNamespace) {
    return make_error(Error::Code::kNamespace, "",
                      "narrative div must declare xmlns=\"http://www.w3.org/1999/xhtml\"");
  }
  return Status::Ok();
}

}  // namespace midhurst::fhir::internal
