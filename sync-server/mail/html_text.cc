#include "sync-server/mail/html_text.h"

#include <cstdint>
#include <set>

namespace reclaim {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char ToLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = ToLower(c);
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct NamedEntity {
  std::string_view name;
  uint32_t code_point;
};
// The named entities common in mail. A non-breaking space becomes a plain
// space, so it collapses with the whitespace around it.
constexpr NamedEntity kNamedEntities[] = {
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", ' '},     {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026},
    {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"bull", 0x2022},  {"euro", 0x20AC},  {"middot", 0xB7},  {"laquo", 0xAB},
    {"raquo", 0xBB},
};

// Decodes `&name;`, `&#NNN;` and `&#xHH;`. An unknown or unterminated
// reference stays as written.
std::string DecodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    constexpr size_t kMaxReferenceLength = 10;
    size_t semicolon = text.find(';', i + 1);
    if (semicolon == std::string_view::npos || semicolon - i > kMaxReferenceLength) {
      out.push_back(text[i++]);
      continue;
    }
    std::string_view reference = text.substr(i + 1, semicolon - i - 1);
    bool decoded = false;
    if (reference.size() > 1 && reference[0] == '#') {
      bool hex = reference[1] == 'x' || reference[1] == 'X';
      std::string_view digits = reference.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      bool valid = !digits.empty();
      for (char c : digits) {
        int value = c >= '0' && c <= '9'                            ? c - '0'
                    : hex && ToLower(c) >= 'a' && ToLower(c) <= 'f' ? ToLower(c) - 'a' + 10
                                                                    : -1;
        if (value < 0 || cp > 0x10FFFF) {
          valid = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(value);
      }
      if (valid) {
        AppendUtf8(cp, &out);
        decoded = true;
      }
    } else {
      for (const NamedEntity& entity : kNamedEntities) {
        if (entity.name == reference) {
          AppendUtf8(entity.code_point, &out);
          decoded = true;
          break;
        }
      }
    }
    if (decoded) {
      i = semicolon + 1;
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// Collects text with HTML's whitespace rules: runs of whitespace become one
// space, spaces never start or end a line, and at most one blank line
// separates blocks.
class TextBuilder {
 public:
  void AddText(std::string_view text) {
    for (char c : text) {
      if (IsSpace(c)) {
        pending_space_ = true;
        continue;
      }
      if (pending_space_ && !AtLineStart())
        out_.push_back(' ');
      pending_space_ = false;
      out_.push_back(c);
    }
  }

  // Marks a word boundary, as between table cells.
  void AddSpace() { pending_space_ = true; }

  void AddLineBreak() {
    pending_space_ = false;
    if (TrailingNewlines() < 2)
      out_.push_back('\n');
  }

  void EndLine() {
    if (!AtLineStart())
      AddLineBreak();
    pending_space_ = false;
  }

  void EndParagraph() {
    if (out_.empty())
      return;
    while (TrailingNewlines() < 2)
      out_.push_back('\n');
    pending_space_ = false;
  }

  std::string Finish() {
    while (!out_.empty() && IsSpace(out_.back()))
      out_.pop_back();
    return std::move(out_);
  }

 private:
  bool AtLineStart() const { return out_.empty() || out_.back() == '\n'; }

  size_t TrailingNewlines() const {
    size_t count = 0;
    while (count < out_.size() && out_[out_.size() - 1 - count] == '\n')
      ++count;
    return count;
  }

  std::string out_;
  bool pending_space_ = false;
};

const std::set<std::string>& ParagraphTags() {
  static const std::set<std::string> tags = {"p",     "h1",         "h2", "h3", "h4", "h5", "h6",
                                             "table", "blockquote", "ul", "ol", "dl", "pre"};
  return tags;
}

const std::set<std::string>& LineTags() {
  static const std::set<std::string> tags = {"div", "li",      "tr",      "dd",     "dt",
                                             "hr",  "section", "article", "header", "footer",
                                             "nav", "form",    "address", "center", "caption"};
  return tags;
}

// Returns the lower-case element name of a tag's inner text (`a href=...`,
// `/div`), empty for comments, declarations and processing instructions.
std::string TagName(std::string_view tag, bool* closing) {
  *closing = !tag.empty() && tag[0] == '/';
  if (*closing)
    tag.remove_prefix(1);
  std::string name;
  for (char c : tag) {
    if (!IsAsciiLetter(c) && !(c >= '0' && c <= '9'))
      break;
    name.push_back(ToLower(c));
  }
  return name;
}

// Returns the offset of the '>' that ends the tag opened at `open`, skipping
// quoted attribute values, or npos. Markup with an unbalanced quote falls
// back to the first '>'.
size_t FindTagEnd(std::string_view html, size_t open) {
  char quote = 0;
  for (size_t i = open + 1; i < html.size(); ++i) {
    char c = html[i];
    if (quote != 0) {
      if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i;
    }
  }
  return html.find('>', open + 1);
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  const std::string lower = ToLowerAscii(html);
  TextBuilder text;
  size_t i = 0;
  while (i < html.size()) {
    if (html[i] != '<') {
      size_t next = html.find('<', i);
      if (next == std::string_view::npos)
        next = html.size();
      text.AddText(DecodeEntities(html.substr(i, next - i)));
      i = next;
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    // A '<' that cannot open a tag is text, as in "a < b".
    char next = i + 1 < html.size() ? html[i + 1] : '\0';
    if (!IsAsciiLetter(next) && next != '/' && next != '!' && next != '?') {
      text.AddText("<");
      ++i;
      continue;
    }
    size_t end = FindTagEnd(html, i);
    if (end == std::string_view::npos)
      break;
    bool closing = false;
    std::string name = TagName(html.substr(i + 1, end - i - 1), &closing);
    i = end + 1;

    if (!closing && (name == "script" || name == "style" || name == "title")) {
      // The contents are skipped up to the closing tag; without one, only
      // the opening tag is dropped.
      size_t close = lower.find("</" + name, i);
      if (close != std::string::npos) {
        size_t close_end = html.find('>', close);
        i = close_end == std::string_view::npos ? html.size() : close_end + 1;
      }
      continue;
    }
    if (name == "br") {
      text.AddLineBreak();
    } else if (ParagraphTags().count(name) > 0) {
      text.EndParagraph();
    } else if (LineTags().count(name) > 0) {
      text.EndLine();
    } else if (name == "td" || name == "th") {
      text.AddSpace();
    }
  }
  return text.Finish();
}

}  // namespace reclaim
