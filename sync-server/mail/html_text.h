// Plain text from an HTML mail body, for reading a message in the console.
#pragma once

#include <string>
#include <string_view>

namespace reclaim {

// Converts UTF-8 HTML to plain text: drops tags, comments and the contents of
// <script>, <style> and <title>; starts a new line at block elements (<p>,
// <div>, <br>, <li>, <tr>, headings); decodes the common named entities and
// numeric character references; and collapses whitespace as a browser
// would, inside <pre> too. Any input is accepted, and text after an
// unclosed tag is dropped. Pure and thread-safe.
std::string HtmlToText(std::string_view html);

}  // namespace reclaim
