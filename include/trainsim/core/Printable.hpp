#pragma once
#include <string>

namespace trainsim::core {

/// Text from a user's file or command line made safe for a terminal and one-line messages: control bytes
/// (C0, DEL and the C1 controls U+0080..U+009F, which start escape sequences) become \xNN; the rest is kept.
std::string printable(const std::string& text);

} // namespace trainsim::core
